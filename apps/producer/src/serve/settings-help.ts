// The service's settings as `producer serve --help` lists them: plain data, so that printing
// the help loads no zod.

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
