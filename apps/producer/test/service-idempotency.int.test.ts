import { randomUUID } from 'node:crypto';
import { drainQueue, eventually, HELLO_QUEUES, TASK_QUEUES, useRedis, useTestVhost } from '@hello-rabbit/testkit';
import { openRedisDedupStore } from '@hello-rabbit/transport/redis-dedup';
import { createLogger } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { ServiceProcess } from './support/service.js';

const broker = useTestVhost('producer-idempotency', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });
/** The keys the services of this file's vhost write (`hello-rabbit:<vhost>:...`), deleted after each test. */
const keyPrefix = () => `hello-rabbit:${new URL(broker.url).pathname.slice(1)}:`;
const redis = useRedis(keyPrefix);

/** `producer serve` on the file's vhost with the shared store. */
const serve = (env: Record<string, string> = {}) =>
  ServiceProcess.start({ AMQP_URL: broker.url, DEDUP_REDIS_URL: redis.url, ...env }, (app, args, options) =>
    broker.spawnApp(app, args, options),
  );

describe('producer serve with DEDUP_REDIS_URL: Idempotency-Keys across instances', () => {
  it('a key answered by one instance is answered the same by another, and published once', async () => {
    const [a, b] = [await serve(), await serve()];
    const key = `order-${randomUUID()}`;
    const first = await a.post('task_queue', 'ship order.', { 'idempotency-key': key });
    const repeat = await b.post('task_queue', 'ship order.', { 'idempotency-key': key });
    expect([first.status, repeat.status]).toEqual([202, 202]);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(b.log().find((line) => line.msg === 'repeated Idempotency-Key: the first answer again')).toMatchObject({
      messageId: key,
    });
    expect((await drainQueue(broker.url, 'task_queue')).map((m) => m.properties.messageId as unknown)).toEqual([key]);
  });

  it('a key still awaiting its confirm elsewhere is answered 409 with Retry-After, nothing published', async () => {
    const service = await serve();
    // Another instance holds the key: its request awaits the broker's confirm.
    const other = await openRedisDedupStore(redis.url, {
      logger: createLogger({ name: 'test', level: 'silent' }),
      prefix: keyPrefix().slice(0, -1),
    });
    try {
      const claim = await other.claim('publish:hello', 'in-flight-1', 30_000);
      expect(claim.state).toBe('claimed');
      const answer = await service.post('hello', { message: 'Hi' }, { 'idempotency-key': 'in-flight-1' });
      expect(answer.status).toBe(409);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body.message).toBe(
        'a request with this Idempotency-Key is still awaiting its confirm; retry with the same key to get its answer',
      );
      expect(await drainQueue(broker.url, 'hello')).toEqual([]);
    } finally {
      await other.close();
    }
  });

  // Nothing is published unchecked.
  it('while Redis is away, a request with a key is answered 503; one without a key is published', async () => {
    const own = await redis.start();
    const service = await serve({ DEDUP_REDIS_URL: own.url() });
    await own.stop();
    const keyed = await service.post('hello', { message: 'keyed' }, { 'idempotency-key': 'away-1' });
    expect(keyed.status).toBe(503);
    expect(keyed.headers.get('retry-after')).toBe('1');
    expect(keyed.body.message).toBe(
      'the dedup store is unreachable: the Idempotency-Key cannot be checked; retry with the same Idempotency-Key',
    );
    expect((await service.post('hello', { message: 'keyless' })).status).toBe(202);
    await own.resume();
    // The client retries with the same key, as the 503 asks, until the store is back.
    await eventually(
      async () => (await service.post('hello', { message: 'keyed' }, { 'idempotency-key': 'away-1' })).status === 202,
      15_000,
      'a 202 once Redis answers',
    );
    expect((await drainQueue(broker.url, 'hello')).map((m) => m.body)).toEqual(['keyless', 'keyed']);
  });

  it('a Redis that refuses the password ends the start: one line, exit 77, no password', async () => {
    const locked = await redis.start({ password: 'right-one' });
    const result = await broker.spawnApp('producer', ['serve'], {
      env: { AMQP_URL: broker.url, HTTP_PORT: '0', DEDUP_REDIS_URL: locked.url('hunter2') },
    }).exited;
    expect(result.code).toBe(77);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^producer: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/,
    );
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('a malformed DEDUP_REDIS_URL: one line, exit 78', async () => {
    const result = await broker.spawnApp('producer', ['serve'], {
      env: { AMQP_URL: broker.url, DEDUP_REDIS_URL: 'redis://:hunter2@cache:6379/99' },
    }).exited;
    expect(result.code).toBe(78);
    expect(result.stderr.trim()).toBe("producer: DEDUP_REDIS_URL: database must be 0 to 15, not '99'");
  });
});
