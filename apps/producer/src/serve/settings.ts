import { dedupEnvShape, httpHostSetting, httpPortSetting, intSetting, parseEnv } from '@hello-rabbit/runtime';
import * as z from 'zod';
import { producerEnvShape } from '../load-env.js';

const unsetIfEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** `true`/`false` (also `1`/`0`, `yes`/`no`), any case. */
const flagSetting = z.preprocess(
  (value) => (typeof value === 'string' ? unsetIfEmpty(value.trim().toLowerCase()) : value),
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((value) => value === 'true' || value === '1' || value === 'yes')
    .optional(),
);

/** The service's own settings, with their defaults; the rest are the command's. */
const serviceEnvShape = {
  /**
   * The address the HTTP server listens on. The default only answers on this machine;
   * the Docker image sets `0.0.0.0`. @default 127.0.0.1
   */
  HTTP_HOST: httpHostSetting,
  /** The port of the API, the metrics and the health endpoints (`0`: any free port). @default 8080 */
  HTTP_PORT: httpPortSetting.transform((v) => v ?? 8080),
  /** What a 503 answer asks the client to wait before retrying (`Retry-After`), in seconds. @default 1 */
  HTTP_RETRY_AFTER_SECONDS: intSetting(0, 3600, 'seconds').transform((v) => v ?? 1),
  /**
   * On SIGTERM, time between the readiness dropping and new messages being refused, so that
   * load balancers stop sending first (CTRL+C skips it), in ms. @default 5000
   */
  SHUTDOWN_DELAY_MS: intSetting(0, 600_000, 'milliseconds').transform((v) => v ?? 5000),
  /**
   * Then, time allowed for the messages in flight to be confirmed; those still waiting are
   * answered 503, in ms. @default 10000
   */
  SHUTDOWN_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 10_000),
  /** `/health/live` fails once the event loop was held this long at once, in ms. @default 5000 */
  LIVENESS_MAX_EVENT_LOOP_DELAY_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 5000),
  /** Adds each message's text to its log line (off: texts may hold personal data). @default false */
  LOG_PAYLOADS: flagSetting.transform((v) => v ?? false),
  /**
   * Idempotency-Keys remembered by this instance when DEDUP_REDIS_URL is unset
   * (0: keys not checked). @default 100000
   */
  DEDUP_WINDOW: intSetting(0, 10_000_000, 'keys').transform((v) => v ?? 100_000),
  ...dedupEnvShape,
};

const schema = z.object({ ...producerEnvShape, ...serviceEnvShape });

export type ServiceEnv = z.output<typeof schema>;

/**
 * Reads the service's settings once, at start.
 * @throws ConfigError naming every bad variable.
 */
export function loadServiceEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ServiceEnv> {
  return parseEnv(schema, source);
}
