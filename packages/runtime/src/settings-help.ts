// The broker settings every app reads (brokerEnvShape) as a `--help` lists them: plain data,
// so that printing the help loads no zod.
import type { brokerEnvShape, dedupEnvShape } from './settings.js';

/** A setting as a `--help` lists it: its name, its default and what it is for. */
export type SettingHelp<Name extends string = string> = readonly [name: Name, fallback: string, meaning: string];

/** The broker settings (brokerEnvShape), their defaults and meaning. */
export const BROKER_SETTINGS_HELP: readonly SettingHelp<keyof typeof brokerEnvShape>[] = [
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
  ['LOG_LEVEL', 'info', 'fatal error warn info debug trace silent'],
];

/** The shared dedup store's settings (dedupEnvShape), their defaults and meaning. */
export const DEDUP_SETTINGS_HELP: readonly SettingHelp<keyof typeof dedupEnvShape>[] = [
  ['DEDUP_REDIS_URL', 'unset', 'Redis shared by every instance: a task done once, a key answered once (unset: in memory)'],
  ['DEDUP_LEASE_MS', '30000', 'how long a claim holds a task or request from the others (renewed while it runs)'],
  ['DEDUP_REDIS_WINDOW_MS', '86400000', 'how long Redis remembers a task done or a request answered (a day)'],
];
