import { brokerEnvShape, httpHostSetting, httpPortSetting, intSetting, parseEnv } from '@hello-rabbit/runtime';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS } from '@hello-rabbit/transport';
import { z } from 'zod';

/** A comma-separated list of delays in ms, e.g. `1000,5000,30000`. */
const delayList = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be a comma-separated list of milliseconds, e.g. 1000,5000,30000')
    .transform((value) => value.split(',').map((part) => Number(part.trim())))
    .pipe(z.array(z.number().int().min(1, 'each delay must be at least 1 ms').max(86_400_000, 'each delay must be at most a day')))
    .optional(),
);

/** A comma-separated list of user names, e.g. `producer,billing`. */
const userList = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .transform((value) => value.split(',').map((part) => part.trim()))
    .pipe(z.array(z.string().min(1, 'must be a comma-separated list of user names, none empty').max(255)).min(1))
    .optional(),
);

/** A regular expression, checked when the settings are read. */
const regexSetting = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .max(1000, 'must be at most 1000 characters')
    .transform((value, ctx) => {
      try {
        return new RegExp(value, 'u');
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `must be a regular expression: ${(e as Error).message}` });
        return z.NEVER;
      }
    })
    .optional(),
);

/** The consumer's settings, with their defaults (listed by `--help` and the README). */
export const consumerEnvShape = {
  ...brokerEnvShape,
  /** Deliveries held unacknowledged at once. @default 10 for hello, 1 for task_queue */
  CONSUMER_PREFETCH: intSetting(1, 65_535, 'messages'),
  /**
   * On SIGTERM, time allowed for the deliveries in hand to finish before the connection
   * closes anyway (unacked deliveries then go back to the queue). @default 10000
   */
  SHUTDOWN_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 10_000),
  /** Time the broker has to confirm a copy (retry, dead letter), in ms. @default 10000 */
  PUBLISH_CONFIRM_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 10_000),
  /** The worker's unit of work: time per '.' in a task, in ms (tutorial 2: one second). @default 1000 */
  WORK_UNIT_MS: intSetting(0, 3_600_000, 'milliseconds').transform((v) => v ?? 1000),
  /** Attempts (retries and crashes together) before a message is dead-lettered. @default 5 */
  MAX_ATTEMPTS: intSetting(1, 100, 'attempts').transform((v) => v ?? DEFAULT_MAX_ATTEMPTS),
  /** Backoff before each retry; the last repeats. @default 1000,5000,30000 */
  RETRY_DELAYS_MS: delayList.transform((v) => v ?? [...DEFAULT_RETRY_DELAYS_MS]),
  /** messageIds remembered to suppress duplicates (0 turns suppression off). @default 100000 */
  DEDUP_WINDOW: intSetting(0, 10_000_000, 'messages').transform((v) => v ?? 100_000),
  /**
   * The port of `/metrics`, `/health/live` and `/health/ready` (0: any free port). Unset: no
   * HTTP server (the tutorial runs several workers on one machine). @default unset
   */
  HTTP_PORT: httpPortSetting,
  /** The address that server listens on (the Docker image sets 0.0.0.0). @default 127.0.0.1 */
  HTTP_HOST: httpHostSetting,
  /**
   * Only messages published by these users (their AMQP `user-id`, which the broker checks
   * against the publisher's login) are handled; the rest are dead-lettered. Comma-separated.
   * @default unset: any publisher
   */
  ALLOWED_PUBLISHERS: userList,
  /**
   * A drill for operators: the worker fails every task whose text matches this regular
   * expression (retried, then dead-lettered), to practise finding and replaying dead
   * letters. Never set it in production. @default unset
   */
  FAIL_TASKS_MATCHING: regexSetting,
  /** `/health/live` fails once the event loop was held this long at once, in ms. @default 5000 */
  LIVENESS_MAX_EVENT_LOOP_DELAY_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 5000),
};

const schema = z.object(consumerEnvShape);

/** Every setting, its default and meaning: `consumer --help` prints them. */
export const CONSUMER_SETTINGS: readonly (readonly [name: keyof typeof consumerEnvShape, fallback: string, meaning: string])[] = [
  ['AMQP_URL', 'amqp://guest:guest@localhost:5672', 'the broker, credentials and vhost (amqps:// for TLS)'],
  ['AMQP_URL_FILE', 'unset', 'a file holding AMQP_URL (a mounted secret), instead of AMQP_URL'],
  ['AMQP_PASSWORD_FILE', 'unset', 'a file holding the password, as it is, for a URL with the user only'],
  ['AMQP_TLS_CA_FILE', 'unset', "PEM CA certificate(s) of the broker's certificate (unset: Node's trust store)"],
  ['AMQP_TLS_CERT_FILE', 'unset', 'PEM client certificate, for a broker that wants one (mutual TLS)'],
  ['AMQP_TLS_KEY_FILE', 'unset', "PEM private key of AMQP_TLS_CERT_FILE (unencrypted)"],
  ['AMQP_TLS_SERVERNAME', 'unset', "the name the broker's certificate must carry (unset: the URL's host)"],
  ['AMQP_HOSTS', 'unset', 'cluster nodes host:port,host:port (the URL gives login and vhost); on a loss, the next'],
  ['AMQP_HOST_ORDER', 'random', 'random (spread instances over the nodes) or fixed (as listed)'],
  ['AMQP_TOPOLOGY', 'declare', 'declare the queues, or only check they exist (check: no configure permission needed)'],
  ['AMQP_MANAGEMENT_URL', 'unset', 'management API (http://host:15672): compare queue arguments at start (user: management tag)'],
  ['AMQP_CONNECT_TIMEOUT_MS', '5000', 'TCP connect plus AMQP handshake'],
  ['AMQP_HEARTBEAT_SECONDS', '10', 'AMQP heartbeat (0: off)'],
  ['LOG_LEVEL', 'info', 'fatal error warn info debug trace silent'],
  ['CONSUMER_PREFETCH', '10 (hello), 1 (task_queue)', 'deliveries held unacknowledged at once'],
  ['SHUTDOWN_TIMEOUT_MS', '10000', 'on SIGTERM, time for the deliveries in hand'],
  ['PUBLISH_CONFIRM_TIMEOUT_MS', '10000', 'time the broker has to confirm a retry or dead letter'],
  ['WORK_UNIT_MS', '1000', "the worker's work per '.' in a task"],
  ['MAX_ATTEMPTS', String(DEFAULT_MAX_ATTEMPTS), 'attempts (failures and crashes) before a message is dead-lettered'],
  ['RETRY_DELAYS_MS', DEFAULT_RETRY_DELAYS_MS.join(','), 'backoff before each retry; the last repeats'],
  ['DEDUP_WINDOW', '100000', 'message-ids remembered to suppress duplicates (0: off)'],
  ['HTTP_PORT', 'unset', 'port of /metrics, /health/live, /health/ready (unset: no server; 0: any)'],
  ['HTTP_HOST', '127.0.0.1', 'address that server listens on (0.0.0.0 in the Docker image)'],
  ['LIVENESS_MAX_EVENT_LOOP_DELAY_MS', '5000', '/health/live fails past this event-loop delay'],
  ['ALLOWED_PUBLISHERS', 'unset (any)', 'handle only messages whose user-id is one of these users; dead-letter the rest'],
  ['FAIL_TASKS_MATCHING', 'unset', 'drill: the worker fails tasks matching this regex (never in production)'],
];

export type ConsumerEnv = z.output<typeof schema>;

/**
 * Reads the consumer's settings once, at start.
 * @throws ConfigError naming every bad variable.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ConsumerEnv> {
  return parseEnv(schema, source);
}
