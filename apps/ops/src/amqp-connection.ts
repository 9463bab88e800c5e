import type amqplib from 'amqplib';
import { type Logger } from '@hello-rabbit/runtime';
import { connectFirstNode } from '@hello-rabbit/transport';
import type { OpsSettings } from './load-env.js';

export const CONNECTION_NAME = 'ops';

/**
 * Opens a plain amqplib connection (no topology declared: an operator's tool must not
 * create the queues it looks at), as the apps connect: the same settings (AMQP_URL or
 * AMQP_URL_FILE, AMQP_PASSWORD_FILE, AMQP_TLS_*, the first node of AMQP_HOSTS that
 * answers), the broker's certificate always verified
 * (chain and name, whatever NODE_TLS_REJECT_UNAUTHORIZED says), and the login handed to
 * amqplib directly, never in a URL (amqplib reads a URL's password with `unescape`, which
 * mangles anything beyond ASCII). A broker that does not answer within the connect timeout
 * is an error, not a hang; every error is one line without the password.
 * @throws BrokerError
 */
export async function connectAmqp(settings: OpsSettings, logger: Logger): Promise<amqplib.ChannelModel> {
  const { amqp: endpoint, connectTimeoutMs } = settings;
  const { connection, node } = await connectFirstNode(
    endpoint,
    { connectTimeoutMs, connectionName: CONNECTION_NAME, heartbeatSeconds: settings.heartbeatSeconds },
    logger,
  );
  const where = { broker: endpoint.redacted, node: `${node.host}:${node.port}`, vhost: endpoint.vhost, tls: endpoint.protocol === 'amqps' };
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
