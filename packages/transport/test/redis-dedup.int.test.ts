import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  deleteRedisKeys,
  eventually,
  inspectQueue,
  RedisServer,
  requireRedis,
  sharedRedisUrl,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBroker } from '../src/open-broker.js';
import type { Logger } from '@hello-rabbit/runtime';
import type { Broker } from '../src/rascal-adapter.js';
import { openRedisDedupStore, type RedisDedupStore } from '../src/redis-dedup.js';
import { startConsumer, type RunningConsumer } from '../src/start-consumer.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('redis-dedup', { queues: TASK_QUEUES });
/** Every key of this file starts with it; deleted after each test. */
const prefix = `test-hello-rabbit-${randomUUID()}`;

const open: { brokers: Broker[]; consumers: RunningConsumer[]; stores: RedisDedupStore[]; servers: RedisServer[] } = {
  brokers: [],
  consumers: [],
  stores: [],
  servers: [],
};

beforeAll(async () => {
  await requireRedis();
});
afterEach(async () => {
  for (const c of open.consumers.splice(0)) await c.stop();
  for (const b of open.brokers.splice(0)) await b.shutdown();
  for (const s of open.stores.splice(0)) await s.close();
  for (const s of open.servers.splice(0)) await s.dispose();
  await deleteRedisKeys(prefix);
});
afterAll(async () => {
  await deleteRedisKeys(prefix);
});

const store = async (
  url = sharedRedisUrl(),
  options: { onChange?: (answering: boolean) => void; logger?: Logger } = {},
) => {
  const s = await openRedisDedupStore(url, {
    logger: memoryLogger().logger,
    prefix,
    windowMs: 60_000,
    commandTimeoutMs: 1000,
    ...options,
  });
  open.stores.push(s);
  return s;
};

describe('the Redis dedup store', () => {
  it('claims a task for one worker at a time; once done, each later claim finds it done, with its answer', async () => {
    const [a, b] = [await store(), await store()];
    const first = await a.claim('consume:q', 'm-1', 10_000);
    expect(first.state).toBe('claimed');
    expect(await b.claim('consume:q', 'm-1', 10_000)).toMatchObject({ state: 'busy' });
    const busy = await b.claim('consume:q', 'm-1', 10_000);
    expect(busy.state === 'busy' && busy.retryInMs > 9000 && busy.retryInMs <= 10_000).toBe(true);
    // Per queue: the same message-id in another queue is another task.
    expect((await b.claim('consume:other', 'm-1', 10_000)).state).toBe('claimed');

    if (first.state !== 'claimed') throw new Error('unreachable');
    await a.done('consume:q', 'm-1', first.token, 'the answer');
    expect(await b.claim('consume:q', 'm-1', 10_000)).toEqual({ state: 'done', answer: 'the answer' });
    expect(await a.claim('consume:q', 'm-1', 10_000)).toEqual({ state: 'done', answer: 'the answer' });

    // clear() deletes the store's own keys, and nothing else.
    expect(await a.clear()).toBe(2);
    expect((await b.claim('consume:q', 'm-1', 10_000)).state).toBe('claimed');
  });

  it('a claim released (the task failed) is free at once; a claim not renewed runs out with its lease', async () => {
    const [a, b] = [await store(), await store()];
    const claim = await a.claim('consume:q', 'm-2', 10_000);
    if (claim.state !== 'claimed') throw new Error(`expected a claim, got ${claim.state}`);
    // Another worker's release does nothing to it.
    await b.release('consume:q', 'm-2', 'not-the-token');
    expect((await b.claim('consume:q', 'm-2', 10_000)).state).toBe('busy');
    await a.release('consume:q', 'm-2', claim.token);
    expect((await b.claim('consume:q', 'm-2', 10_000)).state).toBe('claimed');

    // A worker killed mid-task renews nothing: its claim lasts its lease, then another takes it.
    const short = await a.claim('consume:q', 'm-3', 400);
    if (short.state !== 'claimed') throw new Error(`expected a claim, got ${short.state}`);
    expect(await a.renew('consume:q', 'm-3', short.token, 400)).toBe(true);
    expect((await b.claim('consume:q', 'm-3', 10_000)).state).toBe('busy');
    await sleep(600);
    const taken = await b.claim('consume:q', 'm-3', 10_000);
    expect(taken.state).toBe('claimed');
    // The late worker's renewal says its claim is gone.
    expect(await a.renew('consume:q', 'm-3', short.token, 400)).toBe(false);
  });

  // Each refusal is one line, without the password.
  it('refuses a bad URL, a wrong password and an address where nothing answers', async () => {
    await expect(openRedisDedupStore('http://127.0.0.1:6379', { logger: memoryLogger().logger })).rejects.toMatchObject(
      {
        code: 'STORE_CONFIG',
        exitCode: 78,
        message: 'scheme must be redis: or rediss:, not http:',
      },
    );
    await expect(
      openRedisDedupStore('redis://:pw@127.0.0.1:6379/99', { logger: memoryLogger().logger }),
    ).rejects.toMatchObject({ code: 'STORE_CONFIG' });

    const locked = await RedisServer.start({ password: 'the-right-one' });
    open.servers.push(locked);
    const refused = openRedisDedupStore(locked.url('wrong-secret'), { logger: memoryLogger().logger });
    await expect(refused).rejects.toMatchObject({ code: 'STORE_AUTH', exitCode: 77 });
    const message = await refused.catch((e: unknown) => (e as Error).message);
    expect(message).toMatch(/^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/);
    expect(message).not.toContain('wrong-secret');
    expect(message).not.toContain('\n');
    expect((await store(locked.url())).answering).toBe(true);

    await locked.stop();
    await expect(openRedisDedupStore(locked.url(), { logger: memoryLogger().logger })).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
      exitCode: 69,
    });
  });
});

/** Publishes tasks `ids` (each body `task <id>`) to task_queue, confirmed. */
const publish = (ids: readonly string[]) =>
  withChannel(vhost.url, async (channel) => {
    for (const id of ids)
      channel.sendToQueue('task_queue', Buffer.from(`task ${id}`), { messageId: id, persistent: true });
    await channel.waitForConfirms();
  });

/** A worker on task_queue with its own connection and the given store; records what it did. */
async function worker(
  dedup: RedisDedupStore,
  handle: (id: string) => void | Promise<void> = () => undefined,
  leaseMs = 30_000,
) {
  const { logger, lines } = memoryLogger();
  const broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test', prefetch: 20 }, logger);
  open.brokers.push(broker);
  const done: string[] = [];
  const consumer = await startConsumer(
    broker,
    'task_queue',
    async (_payload, context) => {
      await handle(context.messageId ?? '?');
      done.push(context.messageId ?? '?');
    },
    { logger, confirmTimeoutMs: 5000, retryDelaysMs: [200], dedup, dedupLeaseMs: leaseMs },
  );
  open.consumers.push(consumer);
  return { done, lines, consumer };
}

describe('workers sharing the Redis store', () => {
  it('do a task sent twice once between them, and count the other as a duplicate', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `t-${i}`);
    const a = await worker(await store(), () => sleep(Math.random() * 5));
    const b = await worker(await store(), () => sleep(Math.random() * 5));
    // Every task twice, as a publisher resending after a lost confirm would.
    await publish([...ids, ...ids]);

    const suppressed = () => [...a.lines, ...b.lines].filter((l) => l.includes('"duplicate suppressed"')).length;
    await eventually(
      () => a.done.length + b.done.length === ids.length && suppressed() === ids.length,
      30_000,
      'every task done once, every copy suppressed',
    );
    await eventually(async () => (await inspectQueue(vhost.url, 'task_queue'))?.messageCount === 0);
    const all = [...a.done, ...b.done].sort();
    expect(all).toEqual([...ids].sort());
    expect(a.done.length).toBeGreaterThan(0);
    expect(b.done.length).toBeGreaterThan(0);
    expect((await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount).toBe(0);
  });

  // The worker renews its claim past the lease.
  it('a task claimed by a worker still at it waits, no attempt spent, then is found done', async () => {
    let release: () => void = () => undefined;
    const busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    // A lease of 600 ms, the task held for far longer: only the renewal keeps the claim.
    const a = await worker(
      await store(),
      () => {
        started = true;
        return busy;
      },
      600,
    );
    await publish(['slow-1']);
    await eventually(() => started, 10_000, 'the first worker at the task');
    // A second copy (a resend) reaches another worker while the first is at it.
    const b = await worker(await store(), () => undefined, 600);
    await publish(['slow-1']);
    await eventually(
      () => b.lines.some((l) => l.includes('claimed by another worker: waiting for it')),
      10_000,
      'the copy waiting for the claim',
    );
    await sleep(2000);
    expect(b.done).toEqual([]);
    release();
    await eventually(
      () => [...a.lines, ...b.lines].some((l) => l.includes('"duplicate suppressed"')),
      10_000,
      'the waiting copy found done',
    );
    expect([...a.done, ...b.done]).toEqual(['slow-1']);
    // It waited several times in the first retry queue; none of that was an attempt.
    expect([...a.lines, ...b.lines].filter((l) => l.includes('"message dead-lettered"'))).toEqual([]);
  });
});

describe('when Redis goes away', () => {
  it('starts no task while Redis is down, says so once, then goes on by itself: each task done once', async () => {
    const redis = await RedisServer.start();
    open.servers.push(redis);
    const changes: boolean[] = [];
    const said = memoryLogger();
    const shared = await store(redis.url(), { onChange: (answering) => changes.push(answering), logger: said.logger });
    const w = await worker(shared);
    await publish(['before']);
    await eventually(() => w.done.includes('before'));

    await redis.stop();
    const down = Array.from({ length: 20 }, (_, i) => `down-${i}`);
    await publish(down);
    await eventually(() => changes.includes(false), 10_000, 'the store seen unreachable');
    await sleep(2000);
    expect(w.done).toEqual(['before']);
    expect(shared.answering).toBe(false);
    // Held, not requeued: nothing counted as an attempt.
    expect(said.lines.filter((l) => l.includes('dedup store unreachable')).length).toBe(1);

    await redis.resume();
    await eventually(() => w.done.length === 21, 20_000, 'the tasks done once Redis answers');
    expect(changes).toEqual([false, true]);
    expect([...w.done].sort()).toEqual(['before', ...down].sort());
    expect(said.lines.filter((l) => l.includes('dedup store answers again')).length).toBe(1);
    expect((await inspectQueue(vhost.url, 'task_queue'))?.messageCount).toBe(0);
    expect((await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount).toBe(0);
  });
});
