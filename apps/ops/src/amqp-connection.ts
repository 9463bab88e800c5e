import amqplib from 'amqplib';
import { BrokerError, toBrokerError, withDeadline, type Logger } from '@hello-rabbit/broker-client';
import type { OpsSettings } from './load-env.js';

export const CONNECTION_NAME = 'ops';

/**
 * Opens a plain amqplib connection (no topology declared: an operator's tool must not
 * create the queues it looks at). A broker that does not answer within the connect
 * timeout is an error, not a hang; the error is one line without the password.
 * @throws BrokerError
 */
export async function connectAmqp(settings: OpsSettings, logger: Logger): Promise<amqplib.ChannelModel> {
  const { amqp: endpoint, connectTimeoutMs } = settings;
  const url = new URL(endpoint.url);
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(settings.heartbeatSeconds));
  const connecting = amqplib.connect(url.toString(), {
    timeout: connectTimeoutMs,
    noDelay: true,
    clientProperties: { connection_name: CONNECTION_NAME },
  });
  const connection = await withDeadline(
    connecting,
    connectTimeoutMs,
    () => new BrokerError('CONNECT_TIMEOUT', `cannot reach the broker at ${endpoint.host}:${endpoint.port}: no answer within ${connectTimeoutMs} ms`),
  ).catch((err: unknown) => {
    // A connection that arrives after the deadline is closed, not leaked.
    connecting.then((late) => late.close()).catch(() => undefined);
    throw toBrokerError(err, endpoint);
  });
  const where = { broker: endpoint.redacted, vhost: endpoint.vhost };
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
