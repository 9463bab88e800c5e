import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRedisKeys, requireRedis, sharedRedisUrl } from '../src/redis-server.js';

// The shared Redis: a prefix of this run's own, so nothing else is touched.
const prefix = `hello-rabbit-testkit:${randomUUID()}:`;
let client: Redis;

beforeAll(async () => {
  await requireRedis();
  client = new Redis(sharedRedisUrl());
});

afterAll(async () => {
  await client.del(`${prefix.slice(0, -1)}-beside`).catch(() => 0);
  await deleteRedisKeys(prefix);
  await client.quit();
});

describe('deleteRedisKeys', () => {
  it('deletes every key under the prefix, over several SCAN pages, and none beside it', async () => {
    const keys = Array.from({ length: 2500 }, (_, i) => `${prefix}k${i}`);
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.set(key, '1');
    // A key whose name starts like the prefix, then differs: it stays.
    pipeline.set(`${prefix.slice(0, -1)}-beside`, '1');
    await pipeline.exec();

    expect(await deleteRedisKeys(prefix)).toBe(2500);
    expect(await client.exists(...keys.slice(0, 100))).toBe(0);
    expect(await client.exists(`${prefix.slice(0, -1)}-beside`)).toBe(1);
    expect(await deleteRedisKeys(prefix)).toBe(0);
  });

  it('takes a glob character in the prefix literally', async () => {
    const star = `${prefix}*:`;
    await client.set(`${star}a`, '1');
    await client.set(`${prefix}xa`, '1');
    expect(await deleteRedisKeys(star)).toBe(1);
    expect(await client.exists(`${prefix}xa`)).toBe(1);
  });

  it('refuses a prefix so short it could delete what other tests own', async () => {
    await expect(deleteRedisKeys('hello')).rejects.toThrow(/so short a prefix: 'hello'/);
  });
});
