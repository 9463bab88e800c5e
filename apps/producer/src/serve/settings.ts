import { httpHostSetting, httpPortSetting, intSetting, parseEnv } from '@hello-rabbit/runtime';
import { z } from 'zod';
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

/** The settings, their defaults and meaning, as `producer serve --help` lists them. */
export const SERVICE_SETTINGS: readonly (readonly [name: string, fallback: string, meaning: string])[] = [
  ['AMQP_URL', 'amqp://guest:guest@localhost:5672', 'the broker, credentials and vhost (amqps:// for TLS)'],
  ['AMQP_URL_FILE', 'unset', 'a file holding AMQP_URL (a mounted secret), instead of AMQP_URL'],
  ['AMQP_PASSWORD_FILE', 'unset', 'a file holding the password, as it is, for a URL with the user only'],
  ['AMQP_TLS_CA_FILE', 'unset', "PEM CA certificate(s) of the broker's certificate (unset: Node's trust store)"],
  ['AMQP_TLS_CERT_FILE', 'unset', 'PEM client certificate, for a broker that wants one (mutual TLS)'],
  ['AMQP_TLS_KEY_FILE', 'unset', 'PEM private key of AMQP_TLS_CERT_FILE (unencrypted)'],
  ['AMQP_TLS_SERVERNAME', 'unset', "the name the broker's certificate must carry (unset: the URL's host)"],
  ['AMQP_HOSTS', 'unset', 'cluster nodes host:port,host:port (the URL gives login and vhost); on a loss, the next'],
  ['AMQP_HOST_ORDER', 'random', 'random (spread instances over the nodes) or fixed (as listed)'],
  ['AMQP_TOPOLOGY', 'declare', 'declare the queues, or only check they exist (check: no configure permission needed)'],
  ['AMQP_MANAGEMENT_URL', 'unset', 'management API (http://host:15672): compare queue arguments at start (user: management tag)'],
  ['AMQP_CONNECT_TIMEOUT_MS', '5000', 'TCP connect plus AMQP handshake'],
  ['AMQP_HEARTBEAT_SECONDS', '10', 'AMQP heartbeat (0: off)'],
  ['PUBLISH_CONFIRM_TIMEOUT_MS', '10000', 'time the broker has to confirm one publish'],
  ['PUBLISH_DEADLINE_MS', '60000', 'how long a request publishes an unconfirmed message again'],
  ['PUBLISH_WINDOW', '1000', 'messages awaiting their confirm at once; beyond: 503'],
  ['HTTP_HOST', '127.0.0.1', 'address to listen on (0.0.0.0 in the Docker image)'],
  ['HTTP_PORT', '8080', 'port of the API, /metrics and /health/*'],
  ['HTTP_RETRY_AFTER_SECONDS', '1', 'Retry-After of a 503'],
  ['SHUTDOWN_DELAY_MS', '5000', 'on SIGTERM, readiness down this long before refusing messages'],
  ['SHUTDOWN_TIMEOUT_MS', '10000', 'then, time for the messages in flight to be confirmed'],
  ['LIVENESS_MAX_EVENT_LOOP_DELAY_MS', '5000', '/health/live fails past this event-loop delay'],
  ['LOG_LEVEL', 'info', 'fatal error warn info debug trace silent'],
  ['LOG_PAYLOADS', 'false', "log each message's text"],
];
