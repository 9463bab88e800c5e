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

/**
 * The service's settings: the command's, some of them said as the service reads them, and
 * its own, with their defaults and, on each, its `.meta()`: what `producer serve --help` and
 * docs/settings.md say (`pnpm settings:generate`; see `brokerEnvShape`).
 */
export const serviceEnvShape = {
  ...producerEnvShape,
  PUBLISH_DEADLINE_MS: producerEnvShape.PUBLISH_DEADLINE_MS.meta({
    description: 'how long a request publishes an unconfirmed message again, in ms',
    details: 'per request, while connected; then it is answered 503 (a refused one at once)',
  }),
  PUBLISH_WINDOW: producerEnvShape.PUBLISH_WINDOW.meta({
    description: 'messages awaiting their confirm at once; beyond: 503',
    details: 'the memory cap, and the back-pressure',
  }),
  HTTP_HOST: httpHostSetting.meta({
    description: 'address to listen on (`0.0.0.0` in the Docker image)',
    details: 'the default answers on this machine only',
  }),
  HTTP_PORT: httpPortSetting
    .transform((v) => v ?? 8080)
    .meta({
      description: 'port of the API, `/metrics` and `/health/*`',
      details: '`0`: any free port, printed at start',
    }),
  HTTP_RETRY_AFTER_SECONDS: intSetting(0, 3600, 'seconds')
    .transform((v) => v ?? 1)
    .meta({ description: '`Retry-After` of a 503, in seconds' }),
  SHUTDOWN_DELAY_MS: intSetting(0, 600_000, 'milliseconds')
    .transform((v) => v ?? 5000)
    .meta({
      description: 'on SIGTERM, readiness down this long before refusing messages, in ms',
      details: 'so that load balancers stop sending first; CTRL+C skips it',
    }),
  SHUTDOWN_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 10_000)
    .meta({
      description: 'then, time for the messages in flight to be confirmed, in ms',
      details: 'those still waiting are answered 503',
    }),
  LIVENESS_MAX_EVENT_LOOP_DELAY_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 5000)
    .meta({
      description: '`/health/live` fails past this event-loop delay, in ms',
      details: 'the event loop held this long at once',
    }),
  LOG_PAYLOADS: flagSetting
    .transform((v) => v ?? false)
    .meta({
      description: "log each message's text",
      details: '`true` or `false` (also `1`/`0`, `yes`/`no`); off by default, as texts may hold personal data',
    }),
  DEDUP_WINDOW: intSetting(0, 10_000_000, 'keys')
    .transform((v) => v ?? 100_000)
    .meta({
      description: '`Idempotency-Key`s this instance remembers without Redis (`0`: keys not checked)',
      details: 'when `DEDUP_REDIS_URL` is unset',
    }),
  ...dedupEnvShape,
};

const schema = z.object(serviceEnvShape);

export type ServiceEnv = z.output<typeof schema>;

/**
 * Reads the service's settings once, at start.
 * @throws ConfigError naming every bad variable.
 */
export function loadServiceEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ServiceEnv> {
  return parseEnv(schema, source);
}
