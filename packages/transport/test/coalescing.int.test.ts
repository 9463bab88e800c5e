import { randomUUID } from 'node:crypto';
import { drainQueue, eventually, inspectQueue, TASK_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../src/coalesce-writes.js';
import { openBroker } from '../src/open-broker.js';
import { openChannel, watchChannels, type Broker } from '../src/rascal-adapter.js';
import { createPublisher } from '../src/publisher.js';
import { startConsumer, type RunningConsumer } from '../src/start-consumer.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('coalescing', { queues: TASK_QUEUES });
let broker: Broker | undefined;
let consumer: RunningConsumer | undefined;

afterEach(async () => {
  await consumer?.stop();
  await broker?.shutdown();
  consumer = undefined;
  broker = undefined;
});

interface AmqpChannel {
  connection: { stream: SocketLike };
  ack(message: { fields: { deliveryTag: number } }, allUpTo?: boolean): void;
}
interface SocketLike {
  _write: (...args: unknown[]) => unknown;
  _writev: (...args: unknown[]) => unknown;
}
/** Counts the write system calls Node makes on a socket (one per `_write` or `_writev`). */
function countWrites(socket: SocketLike) {
  let writes = 0;
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (...args) => {
    writes++;
    return write(...args);
  };
  socket._writev = (...args) => {
    writes++;
    return writev(...args);
  };
  return () => writes;
}

const open = async () => {
  broker = await openBroker(
    { endpoint: endpointOf(vhost.url), connectionName: 'test', prefetch: 50 },
    memoryLogger().logger,
  );
  return broker;
};

const channelOf = async (b: Broker, kind: 'regular' | 'confirm') =>
  (await openChannel(b, kind)) as unknown as AmqpChannel;

describe('coalesced writes', () => {
  it('a burst of publishes reaches the socket in a few system calls, not one per message, each confirmed', async () => {
    const b = await open();
    // The publisher's channel shares this connection (Rascal keeps one per vhost).
    const probe = await channelOf(b, 'confirm');
    const writes = countWrites(probe.connection.stream);
    const publisher = createPublisher(b, { logger: memoryLogger().logger, maxInFlight: 1000 });
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        publisher.publish('task_queue', Buffer.from(`task ${i}`), { messageId: randomUUID(), timeoutMs: 10_000 }),
      ),
    );
    await publisher.close();
    expect(outcomes.every((o) => o.status === 'confirmed')).toBe(true);
    // 500 messages, one write each without coalescing; a handful of batches with it.
    expect(writes()).toBeLessThan(50);
    expect((await inspectQueue(vhost.url, 'task_queue'))?.messageCount).toBe(500);
    await drainQueue(vhost.url, 'task_queue');
  });

  it('leaves a connection of an unknown shape untouched', () => {
    expect(coalesceWrites({})).toBe(false);
    expect(coalesceWrites(null)).toBe(false);
    expect(coalesceWrites({ muxer: { _readIncoming: 'not a function' } })).toBe(false);
  });
});

/** Counts the acks on the subscription's channel, as Rascal hands it out. */
function spyOnAcks(b: Broker) {
  const acks = { frames: 0, multiple: 0 };
  watchChannels(b, (channel) => {
    const ack = channel.ack.bind(channel);
    channel.ack = (message, allUpTo) => {
      acks.frames++;
      if (allUpTo === true) acks.multiple++;
      ack(message, allUpTo);
    };
  });
  return acks;
}

/** Tasks `m-0` ... on task_queue, once the topology is up (openBroker declares it). */
const publishTasks = (total: number) =>
  withChannel(vhost.url, async (channel) => {
    for (let i = 0; i < total; i++)
      channel.sendToQueue('task_queue', Buffer.from(`task ${i}`), { messageId: `m-${i}`, persistent: true });
    await channel.close();
  });

describe('coalesced acks', () => {
  it('handlers finishing out of order, some failing: every message handled once, none left unacked', async () => {
    const total = 400;
    const b = await open();
    const acks = spyOnAcks(b);
    await publishTasks(total);

    const attempts = new Map<string, number[]>();
    consumer = await startConsumer(
      b,
      'task_queue',
      async (_payload, context) => {
        const id = context.messageId ?? '?';
        attempts.set(id, [...(attempts.get(id) ?? []), context.attempt]);
        const n = Number(id.slice(2));
        // Out of order: some finish at once, others later.
        if (n % 3 === 0) await new Promise((resolve) => setTimeout(resolve, (n * 7) % 20));
        // Every 10th fails once: retried through a wait queue, then done.
        if (n % 10 === 0 && context.attempt === 1) throw new Error('transient');
      },
      { logger: memoryLogger().logger, confirmTimeoutMs: 10_000, retryDelaysMs: [100] },
    );

    const settled = () =>
      [...attempts.entries()].every(([id, runs]) => runs.length === (Number(id.slice(2)) % 10 === 0 ? 2 : 1));
    await eventually(
      () => attempts.size === total && settled(),
      30_000,
      `every message handled (${attempts.size} so far)`,
    );
    await eventually(async () => {
      const queue = await inspectQueue(vhost.url, 'task_queue');
      return queue?.messageCount === 0;
    });
    await consumer.stop();
    consumer = undefined;

    // Nothing was delivered twice (an ack for an unknown tag would have closed the channel
    // and redelivered everything in flight), nothing is waiting to be delivered again.
    for (const [id, runs] of attempts) {
      const n = Number(id.slice(2));
      expect(runs, id).toEqual(n % 10 === 0 ? [1, 2] : [1]);
    }
    expect((await inspectQueue(vhost.url, 'task_queue'))?.messageCount).toBe(0);
    expect((await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount).toBe(0);
    // Acked in batches: far fewer ack frames than the 440 deliveries.
    // Some acks went out together even out of order; none was lost or sent twice.
    expect(acks.multiple).toBeGreaterThan(0);
    expect(acks.frames).toBeLessThanOrEqual(total + total / 10);
  });

  it('handlers finishing in order: hundreds of deliveries acked in a few frames', async () => {
    const total = 400;
    const b = await open();
    const acks = spyOnAcks(b);
    await publishTasks(total);
    let handled = 0;
    consumer = await startConsumer(
      b,
      'task_queue',
      () => {
        handled++;
      },
      { logger: memoryLogger().logger, confirmTimeoutMs: 10_000 },
    );
    await eventually(() => handled === total, 30_000, `every message handled (${handled} so far)`);
    await eventually(async () => (await inspectQueue(vhost.url, 'task_queue'))?.messageCount === 0);
    await consumer.stop();
    consumer = undefined;
    expect(handled).toBe(total);
    expect(acks.multiple).toBeGreaterThan(0);
    expect(acks.frames).toBeLessThan(total / 4);
  });
});
