import {
  ctl,
  drainQueue,
  eventually,
  HELLO_QUEUES,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { createPublisher, type Publisher, type PublishOutcome } from '../src/publisher.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('publisher', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });
let broker: Broker | undefined;
let publisher: Publisher | undefined;

afterEach(async () => {
  await publisher?.close();
  await broker?.shutdown();
  publisher = undefined;
  broker = undefined;
});

async function open(maxInFlight = 1000): Promise<Publisher> {
  const { logger } = memoryLogger();
  broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, logger);
  publisher = createPublisher(broker, { logger, maxInFlight });
  return publisher;
}

describe('createPublisher', () => {
  it('confirms a message and delivers it with its properties', async () => {
    const p = await open();
    const outcome = await p.publish('task_queue', Buffer.from('job.'), {
      messageId: 'p-1',
      contentType: 'text/plain',
      appId: 'producer',
      timeoutMs: 5000,
    });
    expect(outcome).toEqual({ status: 'confirmed', messageId: 'p-1' });
    const [message] = await drainQueue(vhost.url, 'task_queue');
    expect(message?.body).toBe('job.');
    expect(message?.properties).toMatchObject({
      messageId: 'p-1',
      contentType: 'text/plain',
      appId: 'producer',
      deliveryMode: 2,
    });
  });

  it('keeps many messages in flight and settles each exactly once', async () => {
    const p = await open(500);
    const outcomes = await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        p.publish('task_queue', Buffer.from(`n${i}`), { messageId: `id-${i}`, timeoutMs: 30_000 }),
      ),
    );
    expect(outcomes.every((o) => o.status === 'confirmed')).toBe(true);
    expect(new Set(outcomes.map((o) => o.messageId)).size).toBe(5000);
    expect(p.inFlight).toBe(0);
    expect((await drainQueue(vhost.url, 'task_queue')).length).toBe(5000);
  });

  it('never has more than maxInFlight messages unconfirmed: publish waits', async () => {
    const p = await open(3);
    let peak = 0;
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const outcome = p.publish('task_queue', Buffer.from('x'), { messageId: `w-${i}`, timeoutMs: 10_000 });
        peak = Math.max(peak, p.inFlight);
        return outcome;
      }),
    );
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('reports an unroutable message as returned', async () => {
    const p = await open();
    const outcome = await p.publish('no-such-queue', Buffer.from('lost?'), { messageId: 'r-1', timeoutMs: 5000 });
    expect(outcome.status).toBe('returned');
    expect(outcome).toMatchObject({ reason: expect.stringContaining('NO_ROUTE') as unknown });
  });

  it('reports a refused message as nacked', async () => {
    await withChannel(vhost.url, (channel) =>
      channel.assertQueue('task_queue', {
        durable: true,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      }),
    );
    const p = await open();
    expect(await p.publish('task_queue', Buffer.from('no room'), { messageId: 'n-1', timeoutMs: 5000 })).toEqual({
      status: 'nacked',
      messageId: 'n-1',
      reason: 'rejected by the broker (basic.nack)',
    });
    // The channel survives a nack: the next publish to a queue with room goes through.
    expect((await p.publish('hello', Buffer.from('fine'), { messageId: 'n-2', timeoutMs: 5000 })).status).toBe(
      'confirmed',
    );
  });

  it('fails the messages in flight when the connection is lost, then publishes on the new connection', async () => {
    const p = await open();
    // Publish without pause while the broker closes every connection of the vhost, as on
    // a node restart.
    const outcomes: PublishOutcome[] = [];
    const run = { publishing: true };
    const loop = (async () => {
      for (let i = 0; run.publishing; i++) {
        const outcome = await p.publish('task_queue', Buffer.from('x'), { messageId: `c-${i}`, timeoutMs: 2000 });
        outcomes.push(outcome);
        // A caller backs off after a failure (the producer waits 250 ms and more).
        if (outcome.status !== 'confirmed') await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await eventually(() => outcomes.length > 100);
    await ctl('close_all_connections', '-p', vhostName(vhost.url), 'test: connection lost');
    await eventually(() => outcomes.some((o) => o.status === 'failed'), 20_000);
    run.publishing = false;
    await loop;
    expect(outcomes.every((o) => o.status === 'confirmed' || o.status === 'failed')).toBe(true);
    // Rascal reconnects by itself (after about a second); the publisher follows.
    await eventually(
      async () =>
        (await p.publish('task_queue', Buffer.from('after'), { messageId: `after-${Date.now()}`, timeoutMs: 2000 }))
          .status === 'confirmed',
      30_000,
    );
  });
});

function vhostName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}
