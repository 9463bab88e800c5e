import { brokerEnvShape, intSetting, parseEnv } from '@hello-rabbit/broker-client';
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

const schema = z.object({
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
  MAX_ATTEMPTS: intSetting(1, 100, 'attempts').transform((v) => v ?? 5),
  /** Backoff before each retry; the last repeats. @default 1000,5000,30000 */
  RETRY_DELAYS_MS: delayList.transform((v) => v ?? [1000, 5000, 30_000]),
  /** messageIds remembered to suppress duplicates. @default 100000 */
  DEDUP_WINDOW: intSetting(0, 10_000_000, 'messages').transform((v) => v ?? 100_000),
});

export type ConsumerEnv = z.output<typeof schema>;

/**
 * Reads the consumer's settings once, at start.
 * @throws ConfigError naming every bad variable.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<ConsumerEnv> {
  return parseEnv(schema, source);
}
