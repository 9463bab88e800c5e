import { brokerEnvShape, dedupEnvShape, httpHostSetting, httpPortSetting, intSetting, parseEnv } from '@hello-rabbit/runtime';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS } from '@hello-rabbit/transport';
import * as z from 'zod';

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
  ...dedupEnvShape,
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


export type ConsumerEnv = z.output<typeof schema>;

/**
 * Reads the consumer's settings once, at start.
 * @throws ConfigError naming every bad variable.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ConsumerEnv> {
  return parseEnv(schema, source);
}
