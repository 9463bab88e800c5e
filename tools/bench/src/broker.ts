import amqplib from 'amqplib';
import { createTestVhost, type TestVhost } from '@hello-rabbit/testkit';
import { plainBody } from './body.js';
import { pump } from './pump.js';
import { createHistogram } from './latency.js';

export type QueueType = 'classic' | 'quorum';

/** The queue every client uses: the contract's work queue, the only one the project's path publishes to. */
export const BENCH_QUEUE = 'task_queue';

/**
 * A vhost of its own for one scenario of one round (rabbitmqctl add_vhost, deleted after):
 * nothing is left behind, and no run sees another's queues.
 */
export function createBenchVhost(label: string): Promise<TestVhost> {
  return createTestVhost(`bench-${label}`);
}

async function withConnection<T>(url: string, fn: (connection: amqplib.ChannelModel) => Promise<T>): Promise<T> {
  const connection = await amqplib.connect(url, {
    noDelay: true,
    clientProperties: { connection_name: 'bench admin' },
  });
  connection.on('error', () => undefined);
  try {
    return await fn(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Deletes `queue` and declares it again, empty, as a durable queue of `type`: each client
 * starts from the same state. A durable classic `task_queue` is adopted as it is by the
 * project's `openBroker`; a quorum one is what it would have declared itself.
 */
export async function resetQueue(url: string, queue: string, type: QueueType): Promise<void> {
  await withConnection(url, async (connection) => {
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue);
    await channel.assertQueue(queue, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: type === 'quorum' ? { 'x-queue-type': 'quorum' } : {},
    });
    await channel.close();
  });
}

/** Fills `queue` with `count` persistent text messages (confirmed), for the consume scenario. */
export async function prefill(url: string, queue: string, count: number, bodySize: number): Promise<void> {
  await withConnection(url, async (connection) => {
    const channel = await connection.createConfirmChannel();
    const body = plainBody(bodySize);
    const result = await pump({
      count,
      window: 1000,
      latency: createHistogram(),
      send: (index, _sentAt, done) => {
        channel.publish(
          '',
          queue,
          body,
          { persistent: true, messageId: `prefill-${String(index)}`, contentType: 'text/plain' },
          (err: unknown) => {
            done(err === null || err === undefined);
          },
        );
      },
    });
    if (result.failed > 0) throw new Error(`prefilling ${queue}: ${String(result.failed)} messages not confirmed`);
    await channel.close();
  });
}

/** Messages now in `queue`. */
export async function queueDepth(url: string, queue: string): Promise<number> {
  return withConnection(url, async (connection) => {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    return messageCount;
  });
}

/** The broker's product and version, as it announces them. */
export async function serverVersion(url: string): Promise<string> {
  return withConnection(url, (connection) => {
    const { product, version } = connection.connection.serverProperties;
    return Promise.resolve(`${product} ${version}`);
  });
}
