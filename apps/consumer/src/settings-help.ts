// The settings as `consumer --help` lists them: plain data, so that printing the help
// loads neither zod nor the transport.
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS } from '@hello-rabbit/transport/retry-defaults';
import { BROKER_SETTINGS_HELP, DEDUP_SETTINGS_HELP, type SettingHelp } from '@hello-rabbit/runtime/cli';
import type { consumerEnvShape } from './load-env.js';

/** Every setting, its default and meaning: `consumer --help` prints them. */
export const CONSUMER_SETTINGS: readonly SettingHelp<keyof typeof consumerEnvShape>[] = [
  ...BROKER_SETTINGS_HELP,
  ['CONSUMER_PREFETCH', '10 (hello), 1 (task_queue)', 'deliveries held unacknowledged at once'],
  ['SHUTDOWN_TIMEOUT_MS', '10000', 'on SIGTERM, time for the deliveries in hand'],
  ['PUBLISH_CONFIRM_TIMEOUT_MS', '10000', 'time the broker has to confirm a retry or dead letter'],
  ['WORK_UNIT_MS', '1000', "the worker's work per '.' in a task"],
  ['MAX_ATTEMPTS', String(DEFAULT_MAX_ATTEMPTS), 'attempts (failures and crashes) before a message is dead-lettered'],
  ['RETRY_DELAYS_MS', DEFAULT_RETRY_DELAYS_MS.join(','), 'backoff before each retry; the last repeats'],
  ['DEDUP_WINDOW', '100000', 'message-ids remembered to suppress duplicates (0: off)'],
  ...DEDUP_SETTINGS_HELP,
  ['HTTP_PORT', 'unset', 'port of /metrics, /health/live, /health/ready (unset: no server; 0: any)'],
  ['HTTP_HOST', '127.0.0.1', 'address that server listens on (0.0.0.0 in the Docker image)'],
  ['LIVENESS_MAX_EVENT_LOOP_DELAY_MS', '5000', '/health/live fails past this event-loop delay'],
  ['ALLOWED_PUBLISHERS', 'unset (any)', 'handle only messages whose user-id is one of these users; dead-letter the rest'],
  ['FAIL_TASKS_MATCHING', 'unset', 'drill: the worker fails tasks matching this regex (never in production)'],
];
