// The settings as `consumer --help` lists them: plain data, so that printing the help
// loads neither zod nor the transport.
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS } from '@hello-rabbit/transport/retry-defaults';
import type { consumerEnvShape } from './load-env.js';

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
