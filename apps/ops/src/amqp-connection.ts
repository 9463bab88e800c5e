import amqplib from 'amqplib';
import { BrokerError, toBrokerError, withDeadline, type AmqpEndpoint, type Logger } from '@hello-rabbit/broker-client';
import { connectionSocketOptions, type SaslCredentials, type TlsOptions } from '@hello-rabbit/broker-config';
import type { OpsSettings } from './load-env.js';

export const CONNECTION_NAME = 'ops';

/**
 * SASL PLAIN, as amqplib's `credentials.plain` makes it, minus its `username` and
 * `password` fields: the password stays in the closure, out of any object a library might
 * print. (The apps log in the same way: see broker-client's `openBroker`.)
 */
function plainLogin(user: string, password: string): SaslCredentials {
  return { mechanism: 'PLAIN', response: () => Buffer.from(`\0${user}\0${password}`, 'utf8') };
}

/** The endpoint's TLS settings (their files read at start) as `tls.connect` takes them. */
function tlsOf(endpoint: AmqpEndpoint): TlsOptions | undefined {
  const { tls } = endpoint;
  if (tls === undefined) return undefined;
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca.contents }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert.contents }),
    ...(tls.key === undefined ? {} : { key: tls.key.contents }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
  };
}

/**
 * Opens a plain amqplib connection (no topology declared: an operator's tool must not
 * create the queues it looks at), as the apps connect: the same settings (AMQP_URL or
 * AMQP_URL_FILE, AMQP_PASSWORD_FILE, AMQP_TLS_*), the broker's certificate always verified
 * (chain and name, whatever NODE_TLS_REJECT_UNAUTHORIZED says), and the login handed to
 * amqplib directly, never in a URL (amqplib reads a URL's password with `unescape`, which
 * mangles anything beyond ASCII). A broker that does not answer within the connect timeout
 * is an error, not a hang; every error is one line without the password.
 * @throws BrokerError
 */
export async function connectAmqp(settings: OpsSettings, logger: Logger): Promise<amqplib.ChannelModel> {
  const { amqp: endpoint, connectTimeoutMs } = settings;
  const url = new URL(endpoint.url);
  const named = endpoint.user !== '' || endpoint.password !== '';
  url.username = '';
  url.password = '';
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(settings.heartbeatSeconds));
  const tls = tlsOf(endpoint);
  const connecting = amqplib.connect(
    url.toString(),
    connectionSocketOptions({
      connectTimeoutMs,
      connectionName: CONNECTION_NAME,
      ...(tls === undefined ? {} : { tls }),
      ...(named ? { credentials: plainLogin(endpoint.user, endpoint.password) } : {}),
    }),
  );
  const connection = await withDeadline(
    connecting,
    connectTimeoutMs,
    () => new BrokerError('CONNECT_TIMEOUT', `cannot reach the broker at ${endpoint.host}:${endpoint.port}: no answer within ${connectTimeoutMs} ms`),
  ).catch((err: unknown) => {
    // A connection that arrives after the deadline is closed, not leaked.
    connecting.then((late) => late.close()).catch(() => undefined);
    throw toBrokerError(err, endpoint);
  });
  const where = { broker: endpoint.redacted, vhost: endpoint.vhost, tls: endpoint.protocol === 'amqps' };
  // A lost connection rejects whatever is pending on its channels; this only logs it.
  connection.on('error', (err: Error) => {
    logger.error({ ...where, err }, 'connection error');
  });
  connection.on('blocked', (reason: string) => {
    logger.warn({ ...where, reason }, 'the broker blocked publishing (resource alarm)');
  });
  logger.info(where, 'connected to the broker');
  return connection;
}
