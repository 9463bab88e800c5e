import { randomUUID } from 'node:crypto';
import {
  ctl,
  drainQueue,
  eventually,
  inspectQueue,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecoveryHeader } from '../src/retry-policy.js';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { createPublisher } from '../src/publisher.js';
import { startConsumer, type RunningConsumer } from '../src/start-consumer.js';
import { endpointOf, memoryLogger } from './helpers.js';

// Who published a message: the AMQP user-id, which RabbitMQ checks against the login of the
// connection that publishes it. Two users here: the producer's, made for this file (and
// removed after it), and the consumer's (the broker user of AMQP_URL).

const vhost = useTestVhost('publisher-identity', { queues: TASK_QUEUES });
const producerUser = `test-producer-${randomUUID().slice(0, 8)}`;
const producerPassword = `p@ss:w/rd%#?${randomUUID().slice(0, 8)}`;
const brokers: Broker[] = [];
let consumer: RunningConsumer | undefined;

beforeAll(async () => {
  await ctl('add_user', producerUser, producerPassword);
  await ctl(
    'set_permissions',
    '-p',
    decodeURIComponent(new URL(vhost.url).pathname.slice(1)),
    producerUser,
    '.*',
    '.*',
    '.*',
  );
});
afterAll(async () => {
  await ctl('delete_user', producerUser);
});
afterEach(async () => {
  await consumer?.stop();
  for (const broker of brokers.splice(0)) await broker.shutdown();
  consumer = undefined;
});

const consumerUser = () => endpointOf(vhost.url).user;

/** A URL of the test vhost for the producer's user. */
function producerUrl() {
  const url = new URL(vhost.url);
  url.username = encodeURIComponent(producerUser);
  url.password = encodeURIComponent(producerPassword);
  return url.toString();
}

async function open(url: string) {
  const broker = await openBroker({ endpoint: endpointOf(url), connectionName: 'test' }, memoryLogger().logger);
  brokers.push(broker);
  return broker;
}

describe('publisher identity (AMQP user-id)', () => {
  it('the publisher sets its login as user-id; the broker refuses a message that claims another user', async () => {
    const broker = await open(producerUrl());
    const honest = createPublisher(broker, { logger: memoryLogger().logger, userId: producerUser });
    expect(
      (await honest.publish('task_queue', Buffer.from('honest'), { messageId: 'm-1', timeoutMs: 5000 })).status,
    ).toBe('confirmed');
    await honest.close();
    const [message] = await drainQueue(vhost.url, 'task_queue');
    expect(message?.properties.userId).toBe(producerUser);

    const forger = createPublisher(broker, { logger: memoryLogger().logger, userId: 'admin' });
    const forged = await forger.publish('task_queue', Buffer.from('forged'), { messageId: 'm-2', timeoutMs: 5000 });
    await forger.close();
    expect(forged.status).toBe('failed');
    expect(await inspectQueue(vhost.url, 'task_queue')).toMatchObject({ messageCount: 0 });
  });

  it('a consumer restricted to the producer handles its messages, retries too, and dead-letters the rest', async () => {
    const handled: { payload: string; attempt: number }[] = [];
    const consumerBroker = await open(vhost.url);
    consumer = await startConsumer(
      consumerBroker,
      'task_queue',
      (payload, { attempt }) => {
        handled.push({ payload, attempt });
        if (payload === 'fails once' && attempt === 1) throw new Error('transient');
      },
      {
        logger: memoryLogger().logger,
        confirmTimeoutMs: 5000,
        retryDelaysMs: [100],
        userId: consumerUser(),
        allowedPublishers: [producerUser],
      },
    );

    const producer = createPublisher(await open(producerUrl()), {
      logger: memoryLogger().logger,
      userId: producerUser,
    });
    for (const [id, body] of [
      ['p-1', 'from the producer'],
      ['p-2', 'fails once'],
    ]) {
      expect(
        (
          await producer.publish('task_queue', Buffer.from(body as string), {
            messageId: id as string,
            timeoutMs: 5000,
          })
        ).status,
      ).toBe('confirmed');
    }
    await producer.close();
    // Another client, with no user-id; and one claiming the producer in a forged header.
    await withChannel(vhost.url, async (channel) => {
      channel.sendToQueue('task_queue', Buffer.from('anonymous'), { messageId: 'a-1', persistent: true });
      channel.sendToQueue('task_queue', Buffer.from('claims a header'), {
        messageId: 'a-2',
        persistent: true,
        headers: { [RecoveryHeader.publisher]: producerUser },
      });
      await channel.close();
    });

    await eventually(
      async () => (await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount === 2,
      15_000,
      'two dead letters',
    );
    await eventually(() => handled.length === 3, 15_000, 'three handler runs');
    expect(handled).toEqual([
      { payload: 'from the producer', attempt: 1 },
      { payload: 'fails once', attempt: 1 },
      { payload: 'fails once', attempt: 2 },
    ]);
    const dead = await drainQueue(vhost.url, 'task_queue.dlq');
    // The header alone proves nothing: only on a copy signed by the consumer's own user.
    expect(dead.map((m) => String(m.properties.messageId)).sort()).toEqual(['a-1', 'a-2']);
    expect(String(dead[0]?.properties.headers?.[RecoveryHeader.reason])).toMatch(/did not say who it is/);
  });

  it('producer and consumer logged in as the same user: its messages and their retries are handled', async () => {
    const handled: { payload: string; attempt: number }[] = [];
    const broker = await open(vhost.url);
    consumer = await startConsumer(
      broker,
      'task_queue',
      (payload, { attempt }) => {
        handled.push({ payload, attempt });
        if (attempt === 1) throw new Error('transient');
      },
      {
        logger: memoryLogger().logger,
        confirmTimeoutMs: 5000,
        retryDelaysMs: [100],
        userId: consumerUser(),
        allowedPublishers: [consumerUser()],
      },
    );
    const producer = createPublisher(broker, { logger: memoryLogger().logger, userId: consumerUser() });
    expect(
      (await producer.publish('task_queue', Buffer.from('same user'), { messageId: 's-1', timeoutMs: 5000 })).status,
    ).toBe('confirmed');
    await producer.close();
    await eventually(() => handled.length === 2, 15_000, 'both attempts');
    expect(handled).toEqual([
      { payload: 'same user', attempt: 1 },
      { payload: 'same user', attempt: 2 },
    ]);
    expect((await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount).toBe(0);
  });
});
