import { drainQueue, eventually, inspectQueue, TASK_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { startConsumer, type DeliveryContext, type RunningConsumer } from '../src/start-consumer.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('start-consumer', { queues: TASK_QUEUES });
let broker: Broker | undefined;
let consumer: RunningConsumer | undefined;

afterEach(async () => {
  await consumer?.stop();
  await broker?.shutdown();
  consumer = undefined;
  broker = undefined;
});

interface Call {
  readonly payload: string;
  readonly context: DeliveryContext;
}

/** Starts the engine on task_queue with `handler`, recording every call. */
async function consume(handler: (call: Call) => void | Promise<void>, options: { maxAttempts?: number } = {}) {
  const calls: Call[] = [];
  broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, memoryLogger().logger);
  consumer = await startConsumer(
    broker,
    'task_queue',
    async (payload, context) => {
      calls.push({ payload, context });
      await handler({ payload, context });
    },
    {
      logger: memoryLogger().logger,
      confirmTimeoutMs: 5000,
      maxAttempts: options.maxAttempts ?? 3,
      retryDelaysMs: [100, 200],
    },
  );
  return calls;
}

function publish(
  body: string,
  options: { messageId?: string; contentType?: string; headers?: Record<string, unknown> } = {},
) {
  return withChannel(vhost.url, async (channel) => {
    channel.sendToQueue('task_queue', Buffer.from(body), { persistent: true, ...options });
    await channel.close();
  });
}

const dlqCount = async () => (await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount ?? 0;

describe('startConsumer', () => {
  // With no hot loop.
  it('retries a failing message through the wait queues, then dead-letters it after the last attempt', async () => {
    const calls = await consume(() => {
      throw new Error('boom');
    });
    await publish('always fails', { messageId: 'm-fail' });
    await eventually(async () => (await dlqCount()) === 1);
    // Exactly maxAttempts runs, numbered, and no more after the dead letter.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(calls.map((c) => c.context.attempt)).toEqual([1, 2, 3]);

    const [dead] = await drainQueue(vhost.url, 'task_queue.dlq');
    expect(dead?.body).toBe('always fails');
    expect(dead?.properties.messageId).toBe('m-fail');
    expect(dead?.properties.headers).toMatchObject({
      'x-dead-letter-reason': 'handler failed: boom (attempt 3 of 3)',
      'x-original-queue': 'task_queue',
      'x-attempts': 3,
    });
    expect(await inspectQueue(vhost.url, 'task_queue')).toMatchObject({ messageCount: 0 });
  });

  it('acks a message whose retry succeeds, leaving nothing behind', async () => {
    const calls = await consume(({ context }) => {
      if (context.attempt === 1) throw new Error('transient');
    });
    await publish('fails once');
    await eventually(() => calls.length === 2);
    await eventually(async () => (await inspectQueue(vhost.url, 'task_queue'))?.messageCount === 0);
    expect(await dlqCount()).toBe(0);
  });

  it('runs the handler once for a message delivered twice with the same messageId', async () => {
    const calls = await consume(() => undefined);
    await publish('resent by a producer', { messageId: 'dup-1' });
    await publish('resent by a producer', { messageId: 'dup-1' });
    await publish('another', { messageId: 'dup-2' });
    await eventually(() => calls.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls.map((c) => c.payload)).toEqual(['resent by a producer', 'another']);
    expect(await inspectQueue(vhost.url, 'task_queue')).toMatchObject({ messageCount: 0 });
  });

  it.each([
    ['invalid JSON', '{"task": ', { contentType: 'application/json' }, /^invalid message: invalid JSON/],
    ['a __proto__ key', '{"task":"x","__proto__":{"admin":true}}', { contentType: 'application/json' }, /__proto__/],
    ['a forged x-death header', 'x', { headers: { 'x-death': 'forged' } }, /malformed x-death/],
    ['a forged x-redeliveries header', 'x', { headers: { 'x-redeliveries': 'zero' } }, /malformed x-redeliveries/],
  ])('dead-letters a message with %s without running the handler, and goes on', async (_, body, options, reason) => {
    const calls = await consume(() => undefined);
    await publish(body, options);
    await publish('good');
    await eventually(() => calls.length === 1);
    await eventually(async () => (await dlqCount()) === 1);
    expect(calls[0]?.payload).toBe('good');
    const [dead] = await drainQueue(vhost.url, 'task_queue.dlq');
    expect(String(dead?.properties.headers?.['x-dead-letter-reason'])).toMatch(reason);
  });
});

describe('startConsumer, on a message that was delivered and never acked (a consumer crash)', () => {
  /** Takes the message with a raw client and closes the channel without an ack, `times` times. */
  async function crashOn(times: number) {
    for (let i = 0; i < times; i++) {
      await withChannel(vhost.url, async (channel) => {
        await eventually(async () => (await channel.get('task_queue', { noAck: false })) !== false);
        // Closing without ack: the broker puts the message back, marked redelivered.
      });
    }
  }

  it.each([
    // A quorum queue counts every return itself (x-delivery-count): two crashes, two attempts.
    ['a quorum queue (counted by the broker)', { durable: true, arguments: { 'x-queue-type': 'quorum' } }, 2, 2],
    // A classic queue only says "redelivered": the consumer counts from the first time it
    // sees that, in a copy it republishes, so one crash uses one attempt.
    ['an adopted classic queue (counted by the consumer)', { durable: true }, 1, 1],
  ])('dead-letters it once the crashes use up the attempts, on %s', async (_, shape, crashes, maxAttempts) => {
    await withChannel(vhost.url, (channel) => channel.assertQueue('task_queue', shape));
    await publish('crashes the consumer');
    await crashOn(crashes);
    const calls = await consume(() => undefined, { maxAttempts });
    await eventually(async () => (await dlqCount()) === 1);
    expect(calls).toHaveLength(0);
    const [dead] = await drainQueue(vhost.url, 'task_queue.dlq');
    expect(dead?.body).toBe('crashes the consumer');
    expect(String(dead?.properties.headers?.['x-dead-letter-reason'])).toMatch(
      new RegExp(`^gave up after ${maxAttempts} attempts`),
    );
  });

  it('runs it again, counting the crash, while attempts remain', async () => {
    await withChannel(vhost.url, (channel) => channel.assertQueue('task_queue', { durable: true }));
    await publish('crashed once');
    await crashOn(1);
    const calls = await consume(() => undefined, { maxAttempts: 3 });
    await eventually(() => calls.length === 1);
    expect(calls[0]?.context.attempt).toBe(2);
  });
});
