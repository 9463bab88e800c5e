import { drainQueue, HELLO_QUEUES, TASK_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { openBroker, type Broker } from '../src/open-broker.js';
import { publishConfirmed } from '../src/publish-confirmed.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('publish', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });
let broker: Broker | undefined;

afterEach(async () => {
  await broker?.shutdown();
  broker = undefined;
});

async function open(): Promise<Broker> {
  broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, memoryLogger().logger);
  return broker;
}

describe('publishConfirmed', () => {
  it('resolves confirmed once the broker has the message, with its id and properties', async () => {
    const outcome = await publishConfirmed(await open(), 'hello', Buffer.from('Hello World!'), {
      messageId: 'm-1',
      contentType: 'text/plain',
      appId: 'producer',
      timeoutMs: 5000,
    });
    expect(outcome).toEqual({ status: 'confirmed', messageId: 'm-1' });
    const [message, ...rest] = await drainQueue(vhost.url, 'hello');
    expect(rest).toHaveLength(0);
    expect(message?.body).toBe('Hello World!');
    expect(message?.properties).toMatchObject({ messageId: 'm-1', contentType: 'text/plain', appId: 'producer', deliveryMode: 2 });
  });

  it('reports an unroutable message as returned, never as sent', async () => {
    const b = await open();
    // The queue disappears after the topology was set up: the default exchange has
    // nowhere to route 'hello' any more.
    await withChannel(vhost.url, (channel) => channel.deleteQueue('hello'));
    const outcome = await publishConfirmed(b, 'hello', Buffer.from('lost?'), { messageId: 'm-2', timeoutMs: 5000 });
    expect(outcome.status).toBe('returned');
    expect(outcome).toMatchObject({ reason: expect.stringContaining('NO_ROUTE') as unknown });
  });

  it('reports a message the broker refuses (basic.nack) as nacked', async () => {
    // A queue that takes nothing and rejects what overflows: the broker nacks every publish.
    await withChannel(vhost.url, (channel) =>
      channel.assertQueue('hello', { durable: false, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } }),
    );
    const outcome = await publishConfirmed(await open(), 'hello', Buffer.from('refused'), { messageId: 'm-3', timeoutMs: 5000 });
    expect(outcome).toEqual({ status: 'nacked', messageId: 'm-3', reason: 'rejected by the broker (basic.nack)' });
  });

  it('settles each of many concurrent publishes exactly once', async () => {
    const b = await open();
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        publishConfirmed(b, 'hello', Buffer.from(`n${i}`), { messageId: `id-${i}`, timeoutMs: 10_000 }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'confirmed')).toHaveLength(100);
    expect(new Set(outcomes.map((o) => o.messageId)).size).toBe(100);
    const bodies = (await drainQueue(vhost.url, 'hello')).map((m) => m.body);
    expect(bodies.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`).sort());
  });
});
