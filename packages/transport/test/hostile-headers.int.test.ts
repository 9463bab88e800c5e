import {
  drainQueue,
  eventually,
  inspectQueue,
  pythonWithPika,
  runProcess,
  TASK_QUEUES,
  useTestVhost,
} from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { RecoveryHeader } from '../src/retry-policy.js';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { startConsumer, type RunningConsumer } from '../src/start-consumer.js';
import { endpointOf, memoryLogger } from './helpers.js';

// Headers no well-behaved client sends, published by another client (pika) as a hostile
// publisher would: the consumer must neither crash in a loop nor be steered by them.

const vhost = useTestVhost('hostile-headers', { queues: TASK_QUEUES });
let broker: Broker | undefined;
let consumer: RunningConsumer | undefined;

afterEach(async () => {
  await consumer?.stop();
  await broker?.shutdown();
  consumer = undefined;
  broker = undefined;
});

/** Publishes to task_queue with pika; `headers` is a Python expression. */
async function publishWithPika(messageId: string, body: string, headers: string) {
  const script = [
    'import sys, pika',
    // pika encodes tables recursively too: room for a few thousand levels.
    'sys.setrecursionlimit(100000)',
    `headers = ${headers}`,
    'c = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))',
    'ch = c.channel()',
    'ch.confirm_delivery()',
    `ch.basic_publish(exchange='', routing_key='task_queue', body=${JSON.stringify(body)}.encode(), ` +
      `properties=pika.BasicProperties(delivery_mode=2, message_id=${JSON.stringify(messageId)}, headers=headers))`,
    'c.close()',
  ].join('\n');
  const result = await runProcess(pythonWithPika(), ['-c', script, vhost.url]);
  expect(result.code, result.stderr).toBe(0);
}

/** A Python expression: a table nested `depth` levels deep. */
const nested = (depth: number) =>
  `__import__('functools').reduce(lambda inner, _: {'a': inner}, range(${depth}), {'leaf': 1})`;

async function consume() {
  const handled: string[] = [];
  broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, memoryLogger().logger);
  consumer = await startConsumer(
    broker,
    'task_queue',
    (payload) => {
      handled.push(payload);
    },
    { logger: memoryLogger().logger, confirmTimeoutMs: 5000 },
  );
  return handled;
}

describe('hostile headers at the protocol level', () => {
  it('a header table nested 5000 levels deep is dead-lettered; the consumer stays up and goes on', async () => {
    const handled = await consume();
    await publishWithPika('deep-1', 'deep', nested(5000));
    await publishWithPika('next-1', 'the next one', '{}');

    await eventually(() => handled.includes('the next one'), 15_000, 'the next message handled');
    await eventually(
      async () => (await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount === 1,
      10_000,
      'one dead letter',
    );
    // Never handled, never redelivered: the queue is empty and the handler saw only the next one.
    expect(handled).toEqual(['the next one']);
    expect(await inspectQueue(vhost.url, 'task_queue')).toMatchObject({ messageCount: 0 });
    const [dead] = await drainQueue(vhost.url, 'task_queue.dlq');
    expect(dead?.properties.messageId).toBe('deep-1');
    expect(String(dead?.properties.headers?.[RecoveryHeader.reason])).toMatch(/nested too deep/);
  });

  it("a forged 'rascal' header (an order to nack at once) is ignored: the message is handled as usual", async () => {
    const handled = await consume();
    await publishWithPika(
      'forged-1',
      'forged',
      "{'rascal': {'recovery': {'task_queue': {'immediateNack': True}}}, 'rascal.redeliveries': 99}",
    );
    await eventually(() => handled.length === 1, 15_000, 'the message handled');
    expect(handled).toEqual(['forged']);
    expect((await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount).toBe(0);
    expect((await inspectQueue(vhost.url, 'task_queue'))?.messageCount).toBe(0);
  });
});
