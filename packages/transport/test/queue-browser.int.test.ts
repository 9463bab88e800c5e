import { drainQueue, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import amqplib from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { openQueueBrowser, QueueBrowseError, type QueueBrowser, type QueueMessage } from '../src/queue-browser.js';
import { endpointOf, memoryLogger } from './helpers.js';

const QUORUM = 'browse.quorum';
const CLASSIC = 'browse.classic';
const TARGET = 'browse.target';
const FULL = 'browse.full';
const vhost = useTestVhost('queue-browser', { queues: [QUORUM, CLASSIC, TARGET, FULL] });
let browser: QueueBrowser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

async function open(): Promise<QueueBrowser> {
  const { logger } = memoryLogger();
  browser = await openQueueBrowser(endpointOf(vhost.url), { connectTimeoutMs: 5000, connectionName: 'test' }, logger);
  return browser;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);

/** Declares `queue` and puts messages `m0`, `m1`, ... in it, with a publisher confirm. */
async function seed(queue: string, messageIds: readonly string[], quorum = true): Promise<void> {
  const connection = await amqplib.connect(vhost.url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(
      queue,
      quorum ? { durable: true, arguments: { 'x-queue-type': 'quorum' } } : { durable: false },
    );
    for (const id of messageIds)
      channel.sendToQueue(queue, Buffer.from(`body of ${id}`), { messageId: id, persistent: true, headers: { n: id } });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

const idsIn = async (queue: string) =>
  (await drainQueue(vhost.url, queue)).map((m) => m.properties.messageId as unknown);

describe('openQueueBrowser: scan', () => {
  it('shows every message of a quorum queue as plain data, gives them all back in order (more than 32)', async () => {
    await seed(QUORUM, ids(40));
    const b = await open();
    const seen: QueueMessage[] = [];
    const result = await b.scan(QUORUM, (message) => {
      seen.push(message);
      return 'keep';
    });
    expect(result).toEqual({ seen: 40, removed: 0, kept: 40, total: 40, stopped: false });
    expect(seen.map((m) => m.properties.messageId)).toEqual(ids(40));
    const [first] = seen;
    expect(first?.content.toString()).toBe('body of m0');
    expect(first).toMatchObject({ redelivered: false, exchange: '', routingKey: QUORUM });
    // Every AMQP property, in AMQP's order, absent ones undefined.
    expect(Object.keys(first?.properties ?? {})).toEqual([
      'contentType',
      'contentEncoding',
      'headers',
      'deliveryMode',
      'priority',
      'correlationId',
      'replyTo',
      'expiration',
      'messageId',
      'timestamp',
      'type',
      'userId',
      'appId',
      'clusterId',
    ]);
    expect(first?.properties).toMatchObject({
      messageId: 'm0',
      deliveryMode: 2,
      contentType: undefined,
      headers: { n: 'm0', 'x-delivery-count': 0 },
    });
    expect(await idsIn(QUORUM)).toEqual(ids(40));
  });

  it('removes (acks) what the visitor takes, and after stop gives back the rest in order, read through', async () => {
    await seed(QUORUM, ids(10));
    const b = await open();
    const result = await b.scan(QUORUM, (message, position) => {
      if (position === 6) return 'stop';
      return position % 2 === 0 ? 'remove' : 'keep';
    });
    expect(result).toEqual({ seen: 6, removed: 2, kept: 8, total: 10, stopped: true });
    expect(await idsIn(QUORUM)).toEqual(['m0', 'm2', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  });

  it('on a classic queue without readThrough, stops reading at stop and keeps the order', async () => {
    await seed(CLASSIC, ids(5), false);
    const b = await open();
    let visits = 0;
    const result = await b.scan(
      CLASSIC,
      () => {
        visits++;
        return visits === 2 ? 'stop' : 'keep';
      },
      { readThrough: false },
    );
    expect(result).toEqual({ seen: 2, removed: 0, kept: 2, total: 5, stopped: true });
    expect(await idsIn(CLASSIC)).toEqual(ids(5));
  });

  it('stops deciding when the signal is aborted', async () => {
    await seed(QUORUM, ids(4));
    const b = await open();
    const abort = new AbortController();
    const result = await b.scan(
      QUORUM,
      () => {
        abort.abort();
        return 'keep';
      },
      { signal: abort.signal },
    );
    expect(result).toEqual({ seen: 1, removed: 0, kept: 4, total: 4, stopped: true });
    expect(await idsIn(QUORUM)).toEqual(ids(4));
  });

  it('loses nothing when the visitor fails, and passes its error on', async () => {
    await seed(QUORUM, ids(3));
    const b = await open();
    const boom = new Error('boom');
    await expect(
      b.scan(QUORUM, (_message, position) => {
        if (position === 2) throw boom;
        return 'keep';
      }),
    ).rejects.toBe(boom);
    // What was held and the message in hand are given back: all there, though a quorum
    // queue, not read through, puts them behind the messages not taken yet.
    expect((await idsIn(QUORUM)).sort()).toEqual(ids(3));
  });

  it('says when the queue does not exist', async () => {
    const b = await open();
    const failure = await b.scan('browse.nowhere', () => 'keep').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(QueueBrowseError);
    expect((failure as QueueBrowseError).failure).toBe('queue-not-found');
    // The connection is still usable: the scan had its own channel.
    await seed(QUORUM, ids(1));
    expect((await b.scan(QUORUM, () => 'keep')).seen).toBe(1);
  });
});

describe('openQueueBrowser: publishCopy', () => {
  it('publishes a confirmed copy with the properties given, as is (no messageId, no timestamp when none)', async () => {
    await withChannel(vhost.url, (channel) =>
      channel.assertQueue(TARGET, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
    const b = await open();
    expect(
      await b.publishCopy(
        TARGET,
        Buffer.from('one'),
        {
          messageId: 'c1',
          timestamp: 1_700_000_000,
          contentType: 'text/plain',
          type: 't',
          priority: 3,
          headers: { h: 'v' },
        },
        5000,
      ),
    ).toEqual({
      status: 'confirmed',
    });
    expect(await b.publishCopy(TARGET, Buffer.from('two'), {}, 5000)).toEqual({ status: 'confirmed' });
    const [one, two] = await drainQueue(vhost.url, TARGET);
    expect(one?.body).toBe('one');
    expect(one?.properties).toMatchObject({
      messageId: 'c1',
      timestamp: 1_700_000_000,
      contentType: 'text/plain',
      type: 't',
      priority: 3,
      deliveryMode: 2,
      headers: { h: 'v' },
    });
    expect(two?.body).toBe('two');
    expect(two?.properties).toMatchObject({ messageId: undefined, timestamp: undefined, deliveryMode: 2 });
  });

  it('reports a copy for a queue that does not exist as returned, with or without a messageId', async () => {
    const b = await open();
    const withId = await b.publishCopy('browse.nowhere', Buffer.from('x'), { messageId: 'r1' }, 5000);
    expect(withId).toMatchObject({ status: 'returned' });
    const withoutId = await b.publishCopy('browse.nowhere', Buffer.from('x'), {}, 5000);
    expect(withoutId).toMatchObject({ status: 'returned' });
  });

  it('reports a copy the queue refuses as nacked', async () => {
    await withChannel(vhost.url, (channel) =>
      channel.assertQueue(FULL, { durable: true, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } }),
    );
    const b = await open();
    expect(await b.publishCopy(FULL, Buffer.from('x'), { messageId: 'n1' }, 5000)).toEqual({
      status: 'nacked',
      reason: 'rejected by the broker (basic.nack)',
    });
  });

  it('takes a message for good only after its copy is confirmed', async () => {
    await seed(QUORUM, ids(3));
    await withChannel(vhost.url, (channel) =>
      channel.assertQueue(TARGET, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
    const b = await open();
    const result = await b.scan(QUORUM, async (message) => {
      if (message.properties.messageId === 'm1') return 'keep';
      const outcome = await b.publishCopy(TARGET, message.content, { messageId: message.properties.messageId }, 5000);
      return outcome.status === 'confirmed' ? 'remove' : 'stop';
    });
    expect(result).toMatchObject({ seen: 3, removed: 2, kept: 1 });
    expect(await idsIn(TARGET)).toEqual(['m0', 'm2']);
    expect(await idsIn(QUORUM)).toEqual(['m1']);
  });
});
