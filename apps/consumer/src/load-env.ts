import {
  brokerEnvShape,
  dedupEnvShape,
  httpHostSetting,
  httpPortSetting,
  intSetting,
  parseEnv,
} from '@hello-rabbit/runtime';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS } from '@hello-rabbit/transport';
import * as z from 'zod';

/** A comma-separated list of delays in ms, e.g. `1000,5000,30000`. */
const delayList = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be a comma-separated list of milliseconds, e.g. 1000,5000,30000')
    .transform((value) => value.split(',').map((part) => Number(part.trim())))
    .pipe(
      z.array(
        z.number().int().min(1, 'each delay must be at least 1 ms').max(86_400_000, 'each delay must be at most a day'),
      ),
    )
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

/**
 * The consumer's settings, with their defaults and, on each, its `.meta()`: what `consumer
 * --help` and docs/settings.md say (`pnpm settings:generate`; see `brokerEnvShape`).
 */
export const consumerEnvShape = {
  ...brokerEnvShape,
  CONSUMER_PREFETCH: intSetting(1, 65_535, 'messages').meta({
    description: 'deliveries held unacknowledged at once',
    defaultText: '`10`; `1` for `task_queue`, `rpc_queue`',
    details: "unset: the contract's, one task at a time for the worker and the RPC server (fair dispatch)",
  }),
  SHUTDOWN_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 10_000)
    .meta({
      description: 'on SIGTERM, time for the deliveries in hand, in ms',
      details: 'past it, the connection closes anyway and the unacknowledged deliveries go back to the queue',
    }),
  PUBLISH_CONFIRM_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 10_000)
    .meta({ description: 'time the broker has to confirm a retry or dead-letter copy, in ms' }),
  WORK_UNIT_MS: intSetting(0, 3_600_000, 'milliseconds')
    .transform((v) => v ?? 1000)
    .meta({ description: "the worker's work per dot (`.`) in a task, in ms", details: 'tutorial 2: one second' }),
  MAX_ATTEMPTS: intSetting(1, 100, 'attempts')
    .transform((v) => v ?? DEFAULT_MAX_ATTEMPTS)
    .meta({ description: 'attempts (failures and crashes together) before a message is dead-lettered' }),
  RETRY_DELAYS_MS: delayList
    .transform((v) => v ?? [...DEFAULT_RETRY_DELAYS_MS])
    .meta({
      description: 'backoff before each retry, comma-separated ms; the last repeats',
      details: 'one retry queue per delay',
    }),
  DEDUP_WINDOW: intSetting(0, 10_000_000, 'messages')
    .transform((v) => v ?? 100_000)
    .meta({
      description: '`message-id`s remembered to suppress duplicates (`0`: off)',
      details: 'in memory, per process',
    }),
  ...dedupEnvShape,
  HTTP_PORT: httpPortSetting.meta({
    description: 'port of `/metrics`, `/health/live`, `/health/ready` (unset: no server; `0`: any)',
    details: 'no server by default, as tutorial 2 runs several workers on one machine',
  }),
  HTTP_HOST: httpHostSetting.meta({ description: 'address that server listens on (`0.0.0.0` in the Docker image)' }),
  ALLOWED_PUBLISHERS: userList.meta({
    description: 'handle only messages whose `user-id` is one of these users; dead-letter the rest',
    defaultText: 'unset: any',
    details:
      "comma-separated. The broker checks a message's `user-id` against its publisher's login; the others are " +
      "dead-lettered (`untrusted_publisher`), and a retry keeps its original's publisher (`x-original-user-id`)",
  }),
  FAIL_TASKS_MATCHING: regexSetting.meta({
    description: 'drill: the worker fails tasks matching this regex (never in production)',
    details: 'each is retried, then dead-lettered: practice for finding and replaying dead letters',
  }),
  LIVENESS_MAX_EVENT_LOOP_DELAY_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 5000)
    .meta({
      description: '`/health/live` fails past this event-loop delay, in ms',
      details: 'the event loop held this long at once',
    }),
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
