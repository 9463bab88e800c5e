import amqplib from 'amqplib';
import rascal from 'rascal';
import {
  createBrokerConfig,
  queues,
  type QueueDeclaration,
  type QueueMode,
  type QueueName,
} from '@hello-rabbit/broker-config';
import type { AmqpEndpoint } from './amqp-url.js';
import { toBrokerError } from './broker-errors.js';
import { coalesceVhostWrites } from './coalesce-writes.js';
import { withDeadline } from './deadline.js';
import { BrokerError } from './errors.js';
import type { Logger } from './logger.js';

export type Broker = rascal.BrokerAsPromised;

export interface BrokerSettings {
  readonly endpoint: AmqpEndpoint;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
  /** @default 10 */
  readonly heartbeatSeconds?: number;
  /** @default 10000 */
  readonly confirmTimeoutMs?: number;
  /** @default 10 */
  readonly prefetch?: number;
  /** @default 10000 */
  readonly closeTimeoutMs?: number;
  /** Shown in the broker's connection list, e.g. `producer`. */
  readonly connectionName: string;
}

/**
 * Connects to the broker and brings the contract's topology up, then hands over a Rascal
 * broker whose `error` events are logged, never thrown.
 *
 * Each queue is first declared with the contract's options on a throwaway channel. When
 * the broker answers `406 PRECONDITION_FAILED` the queue exists with other options (say,
 * the tutorials' durable quorum `hello`) and, where the contract allows it, it is adopted:
 * Rascal is told to check it exists instead of declaring it again.
 *
 * @throws BrokerError with a one-line, password-free message.
 */
export async function openBroker(settings: BrokerSettings, logger: Logger): Promise<Broker> {
  const { endpoint } = settings;
  const connectTimeoutMs = settings.connectTimeoutMs ?? 5000;
  const timeout = () =>
    new BrokerError(
      'CONNECT_TIMEOUT',
      `cannot reach the broker at ${endpoint.host}:${endpoint.port}: no answer within ${connectTimeoutMs} ms`,
    );

  const queueModes = await withDeadline(
    resolveQueueModes(settings, Object.values(queues), logger),
    connectTimeoutMs,
    timeout,
  ).catch((err: unknown) => {
    throw toBrokerError(err, endpoint);
  });

  const config = createBrokerConfig({
    url: endpoint.url,
    vhost: endpoint.vhost,
    queueModes,
    connectTimeoutMs,
    connectionName: settings.connectionName,
    ...(settings.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: settings.heartbeatSeconds }),
    ...(settings.confirmTimeoutMs === undefined ? {} : { confirmTimeoutMs: settings.confirmTimeoutMs }),
    ...(settings.prefetch === undefined ? {} : { prefetch: settings.prefetch }),
    ...(settings.closeTimeoutMs === undefined ? {} : { closeTimeoutMs: settings.closeTimeoutMs }),
  });

  const creating = rascal.BrokerAsPromised.create(rascal.withDefaultConfig(config));
  const broker = await withDeadline(creating, connectTimeoutMs, timeout).catch((err: unknown) => {
    // A connection that arrives after the deadline is closed, not leaked.
    creating.then((late) => late.shutdown()).catch(() => undefined);
    throw toBrokerError(err, endpoint);
  });

  const vhost = (broker as unknown as { getVhost(name: string): Parameters<typeof coalesceVhostWrites>[0] | undefined }).getVhost(
    endpoint.vhost,
  );
  if (vhost !== undefined) coalesceVhostWrites(vhost);

  const where = { broker: endpoint.redacted, vhost: endpoint.vhost };
  broker.on('error', (err: Error) => {
    logger.error({ ...where, err }, 'broker error');
  });
  broker.on('disconnect', () => {
    logger.warn(where, 'disconnected from the broker; reconnecting');
  });
  broker.on('connect', () => {
    logger.info(where, 'connected to the broker');
  });
  broker.on('blocked', (reason: unknown) => {
    logger.warn({ ...where, reason }, 'the broker blocked publishing (resource alarm)');
  });
  broker.on('unblocked', () => {
    logger.info(where, 'the broker unblocked publishing');
  });
  logger.info({ ...where, queueModes }, 'connected to the broker; topology ready');
  return broker;
}

async function resolveQueueModes(
  settings: BrokerSettings,
  declarations: readonly QueueDeclaration[],
  logger: Logger,
): Promise<Record<QueueName, QueueMode>> {
  const connection = await amqplib.connect(settings.endpoint.url, {
    timeout: settings.connectTimeoutMs ?? 5000,
    noDelay: true,
    clientProperties: { connection_name: `${settings.connectionName} (topology check)` },
  });
  // An error after the handshake (the broker closing on us) rejects the pending call below.
  connection.on('error', () => undefined);
  try {
    const modes: Partial<Record<QueueName, QueueMode>> = {};
    for (const queue of declarations) {
      modes[queue.name] = await declareOrAdopt(connection, queue, logger);
    }
    return modes as Record<QueueName, QueueMode>;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function declareOrAdopt(
  connection: amqplib.ChannelModel,
  queue: QueueDeclaration,
  logger: Logger,
): Promise<QueueMode> {
  const channel = await connection.createChannel();
  // A 406 closes the channel; the rejection of assertQueue below carries it.
  channel.on('error', () => undefined);
  try {
    await channel.assertQueue(queue.name, queue.options);
    await channel.close();
    return 'assert';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 406 || !queue.adoptExisting) {
      if (code === 406) {
        throw new BrokerError(
          'TOPOLOGY_MISMATCH',
          `queue '${queue.name}' exists with other properties than the contract's: ${(err as Error).message}`,
          { cause: err },
        );
      }
      throw err;
    }
    logger.info(
      { queue: queue.name, broker: (err as Error).message },
      `queue '${queue.name}' exists with other properties; using it as it is`,
    );
    return 'check';
  }
}
