// The service's settings as `producer serve --help` lists them: plain data, so that printing
// the help loads no zod.
import { BROKER_SETTINGS_HELP, DEDUP_SETTINGS_HELP, type SettingHelp } from '@hello-rabbit/runtime/cli';

/** The settings, their defaults and meaning, as `producer serve --help` lists them. */
export const SERVICE_SETTINGS: readonly SettingHelp[] = [
  ...BROKER_SETTINGS_HELP,
  ['PUBLISH_CONFIRM_TIMEOUT_MS', '10000', 'time the broker has to confirm one publish'],
  ['PUBLISH_DEADLINE_MS', '60000', 'how long a request publishes an unconfirmed message again'],
  ['PUBLISH_WINDOW', '1000', 'messages awaiting their confirm at once; beyond: 503'],
  ['HTTP_HOST', '127.0.0.1', 'address to listen on (0.0.0.0 in the Docker image)'],
  ['HTTP_PORT', '8080', 'port of the API, /metrics and /health/*'],
  ['HTTP_RETRY_AFTER_SECONDS', '1', 'Retry-After of a 503'],
  ['SHUTDOWN_DELAY_MS', '5000', 'on SIGTERM, readiness down this long before refusing messages'],
  ['SHUTDOWN_TIMEOUT_MS', '10000', 'then, time for the messages in flight to be confirmed'],
  ['LIVENESS_MAX_EVENT_LOOP_DELAY_MS', '5000', '/health/live fails past this event-loop delay'],
  ['LOG_PAYLOADS', 'false', "log each message's text"],
  ['DEDUP_WINDOW', '100000', 'Idempotency-Keys this instance remembers without Redis (0: keys not checked)'],
  ...DEDUP_SETTINGS_HELP,
];
