import type amqplib from 'amqplib';
import {
  queues,
  queuesUsedBy,
  rascalTopology,
  type QueueDeclaration,
  type QueueMode,
  type QueueName,
  type TopologyUse,
} from '@hello-rabbit/broker-config';
import { nodeEndpoints, withDeadline, type AmqpEndpoint, type Logger, type TopologyMode } from '@hello-rabbit/runtime';
import { channelError, toBrokerError } from './broker-errors.js';
import { connectFirstNode, connecting, connectTimeout } from './connect.js';
import { withRascalConnections } from './connection-options.js';
import { BrokerError } from './errors.js';
import { checkQueuesViaManagement } from './management-check.js';
import { connectedNode, createRascalBroker, onRascalEvent, type Broker } from './rascal-adapter.js';

/** Where and how `openBroker` connects, and what it does with the contract's topology. */
export interface BrokerSettings {
  readonly endpoint: AmqpEndpoint;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
  /** @default 10 */
  readonly heartbeatSeconds?: number;
  /** @default 10 */
  readonly prefetch?: number;
  /** @default 10000 */
  readonly closeTimeoutMs?: number;
  /** Shown in the broker's connection list, e.g. `producer`. */
  readonly connectionName: string;
  /**
   * `declare` the contract's queues (configure permission needed), or only `check` that
   * they exist (no permission needed): then nothing is ever declared. @default 'declare'
   */
  readonly topology?: TopologyMode;
  /**
   * The management API (`http://broker:15672`): each queue's type and arguments are then
   * compared with the contract at start, as the endpoint's user (who needs the
   * `management` tag): a queue checked (`topology: 'check'`) or adopted may differ only
   * where the contract allows. @default not compared
   */
  readonly managementUrl?: string | undefined;
  /**
   * What the command uses of the contract: only those queues are declared or checked (and
   * compared through the management API), and only those subscriptions can be consumed. A
   * Hello World send uses the publication `hello`; the worker the subscription `task_queue`.
   * @default every queue and subscription of the contract
   */
  readonly use?: TopologyUse;
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
 * With `topology: 'check'` nothing is declared: each queue is checked passively (which
 * needs no permission), every missing one is named in one error, and Rascal only checks.
 *
 * Both connections (that throwaway one and Rascal's) use the endpoint's TLS settings and
 * always verify the broker's certificate.
 *
 * @throws BrokerError with a one-line, password-free message.
 */
export async function openBroker(settings: BrokerSettings, logger: Logger): Promise<Broker> {
  const { endpoint } = settings;
  const connectTimeoutMs = settings.connectTimeoutMs ?? 5000;
  const nodes = nodeEndpoints(endpoint);
  const timeout = (node: AmqpEndpoint) => () => connectTimeout(node, connectTimeoutMs);

  // The topology, on the first node that answers (a node that cannot be reached is passed
  // over; any other failure would be the same on every node of a cluster, and stops here).
  const {
    connection,
    node,
    index: first,
  } = await connectFirstNode(
    endpoint,
    { connectTimeoutMs, connectionName: `${settings.connectionName} (topology check)` },
    logger,
  );
  // An error after the handshake (the broker closing on us) rejects the pending call below.
  connection.on('error', () => undefined);
  const declarations = settings.use === undefined ? Object.values(queues) : queuesUsedBy(settings.use);
  const queueModes = await withDeadline(
    resolveQueueModes(settings, node, connection, declarations, logger),
    connectTimeoutMs,
    timeout(node),
  )
    .catch((err: unknown) => {
      throw toBrokerError(err, node);
    })
    .finally(() => connection.close().catch(() => undefined));

  // Once, whichever node answered: the management API is one address, not one per node.
  if (settings.managementUrl !== undefined) {
    await compareThroughManagement(settings.managementUrl, endpoint, declarations, logger, connectTimeoutMs);
  }

  // Rascal starts from the node that just answered and goes round the others on a loss.
  const order = [...nodes.slice(first), ...nodes.slice(0, first)];
  const how = connecting(order[0] as AmqpEndpoint);
  const config = withRascalConnections(
    rascalTopology({
      vhost: endpoint.vhost,
      queueModes,
      use: settings.use,
      prefetch: settings.prefetch,
      closeTimeoutMs: settings.closeTimeoutMs,
    }),
    {
      urls: order.map((each) => connecting(each).url),
      vhost: endpoint.vhost,
      connectTimeoutMs,
      connectionName: settings.connectionName,
      tls: how.tls,
      credentials: how.credentials,
      heartbeatSeconds: settings.heartbeatSeconds,
    },
  );

  const creating = createRascalBroker(config, endpoint.vhost, nodes.length);
  // Rascal may have to go round every node (one connect timeout each) to find one that answers.
  const broker = await withDeadline(creating, connectTimeoutMs * nodes.length, timeout(order[0] as AmqpEndpoint)).catch(
    (err: unknown) => {
      // A connection that arrives after the deadline is closed, not leaked.
      creating.then((late) => late.shutdown()).catch(() => undefined);
      throw toBrokerError(err, order[0] as AmqpEndpoint);
    },
  );

  const where = { broker: endpoint.redacted, vhost: endpoint.vhost };
  onRascalEvent(broker, 'error', (err: Error) => {
    logger.error({ ...where, err }, 'broker error');
  });
  onRascalEvent(broker, 'disconnect', () => {
    logger.warn(where, 'disconnected from the broker; reconnecting');
  });
  onRascalEvent(broker, 'connect', () => {
    logger.info({ ...where, node: connectedNode(broker) }, 'connected to the broker');
  });
  onRascalEvent(broker, 'blocked', (reason: unknown) => {
    logger.warn({ ...where, reason }, 'the broker blocked publishing (resource alarm)');
  });
  onRascalEvent(broker, 'unblocked', () => {
    logger.info(where, 'the broker unblocked publishing');
  });
  logger.info(
    {
      ...where,
      node: connectedNode(broker),
      ...(nodes.length > 1 ? { nodes: nodes.map((each) => `${each.host}:${each.port}`) } : {}),
      topology: settings.topology ?? 'declare',
      queueModes,
      tls: describeTls(endpoint),
    },
    'connected to the broker; topology ready',
  );
  return broker;
}

/** What the log says of the connection's TLS: file paths and names, never contents. */
function describeTls(endpoint: AmqpEndpoint) {
  if (endpoint.protocol !== 'amqps') return false;
  const { tls } = endpoint;
  return {
    ca: tls?.ca?.path ?? "Node's trust store",
    clientCertificate: tls?.cert?.path,
    servername: tls?.servername ?? endpoint.host,
  };
}

async function resolveQueueModes(
  settings: BrokerSettings,
  node: AmqpEndpoint,
  connection: amqplib.ChannelModel,
  declarations: readonly QueueDeclaration[],
  logger: Logger,
): Promise<Record<QueueName, QueueMode>> {
  if (settings.topology === 'check') return checkAll(connection, declarations, node);
  const modes: Partial<Record<QueueName, QueueMode>> = {};
  for (const queue of declarations) {
    modes[queue.name] = await declareOrAdopt(connection, queue, logger);
  }
  return modes as Record<QueueName, QueueMode>;
}

/**
 * `AMQP_TOPOLOGY=check`: checks every queue passively (`queue.declare` with `passive`, which
 * needs no permission) and declares nothing. A queue that is missing, or exclusive to
 * another connection, is named; all of them in one error.
 *
 * The arguments of a queue that exists cannot be compared this way: AMQP has no passive
 * way to read them, and an active declaration needs configure permission (RabbitMQ checks
 * it first). The definitions import (see `exportDefinitions`) is what makes them right.
 */
async function checkAll(
  connection: amqplib.ChannelModel,
  declarations: readonly QueueDeclaration[],
  endpoint: AmqpEndpoint,
): Promise<Record<QueueName, QueueMode>> {
  const missing: string[] = [];
  const locked: string[] = [];
  const modes: Partial<Record<QueueName, QueueMode>> = {};
  for (const queue of declarations) {
    modes[queue.name] = 'check';
    const channel = await connection.createChannel();
    // A 404 or 405 closes the channel; the rejection of checkQueue below carries it.
    channel.on('error', () => undefined);
    try {
      await channel.checkQueue(queue.name);
      await channel.close();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 404) missing.push(queue.name);
      else if (code === 405) locked.push(queue.name);
      else throw channelError(err, `checking queue '${queue.name}'`) ?? err;
    }
  }
  if (missing.length > 0 || locked.length > 0) {
    const problems = [
      ...(missing.length > 0
        ? [`lacks ${missing.length === 1 ? 'the queue' : 'the queues'} ${missing.join(', ')}`]
        : []),
      ...(locked.length > 0 ? [`has ${locked.join(', ')} exclusive to another connection`] : []),
    ];
    throw new BrokerError(
      'TOPOLOGY_MISMATCH',
      `AMQP_TOPOLOGY=check: vhost '${endpoint.vhost}' at ${endpoint.host}:${endpoint.port} ${problems.join(' and ')} ` +
        '(import the definitions from export-definitions, ' +
        'or start once with AMQP_TOPOLOGY=declare as a user who may configure them)',
    );
  }
  return modes as Record<QueueName, QueueMode>;
}

/**
 * With AMQP_MANAGEMENT_URL: every queue's type, flags and arguments against the contract,
 * through the management API. A queue the contract adopts as it is (say, the tutorials'
 * durable quorum `hello`) may differ, but for its `requiredArguments`; any other difference
 * stops the start, every one named in one line.
 */
async function compareThroughManagement(
  url: string,
  node: AmqpEndpoint,
  declarations: readonly QueueDeclaration[],
  logger: Logger,
  timeoutMs: number,
): Promise<void> {
  const drift = await checkQueuesViaManagement({
    url,
    user: node.user,
    password: node.password,
    vhost: node.vhost,
    queues: declarations,
    timeoutMs,
  });
  const adopted = new Set(
    drift.filter((item) => item.kind === 'different' && item.adoptable).map((item) => item.queue),
  );
  for (const queue of adopted) {
    const how = drift.filter((item) => item.queue === queue).map((item) => item.description);
    logger.info({ queue, differences: how }, `queue '${queue}' exists with other properties; using it as it is`);
  }
  const wrong = drift.filter((item) => item.kind === 'missing' || !item.adoptable);
  if (wrong.length > 0) {
    throw new BrokerError(
      'TOPOLOGY_MISMATCH',
      `vhost '${node.vhost}' differs from the contract: ${wrong.map((item) => item.description).join('; ')} ` +
        '(import the definitions from export-definitions again, or delete and re-create those queues)',
    );
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
      throw channelError(err, `declaring queue '${queue.name}'`) ?? err;
    }
    logger.info(
      { queue: queue.name, broker: (err as Error).message },
      `queue '${queue.name}' exists with other properties; using it as it is`,
    );
    return 'check';
  }
}
