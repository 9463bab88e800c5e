/**
 * The dedup store shared by every worker (and every producer service instance): Redis, one
 * key per scope and id, `<prefix>:<scope>:<id>`, holding either a claim (`c:<token>`, with
 * the lease as its expiry) or the mark of a task done (`d:` and the answer, if any, kept for
 * the window). Each step is a Lua script, so that checking and changing a key is atomic
 * whatever the number of workers. The claims (and the marks) asked for in one turn of the
 * event loop go to Redis together, in one script call: a consumer with many deliveries in
 * hand pays one round trip per batch, not one per message. The scripts take many keys, so
 * the store needs one Redis (a primary and its replicas), not a Redis Cluster.
 *
 * While Redis does not answer, every call rejects at once with `DedupStoreUnavailable`
 * (no queue of commands waits for it), and the client reconnects by itself; the store says
 * once that it is unreachable and once that it answers again (`onChange`).
 */
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@hello-rabbit/runtime';
import { DedupStoreUnavailable, type ClaimOutcome, type DedupStore } from './dedup-store.js';
import { checkRedisUrl, DedupStoreError } from './redis-url.js';

export { DedupStoreError };

/**
 * Claims each free key (ARGV: token and lease of each, in turn); a key done or claimed says
 * so, with the answer kept or the claim's time left. Two entries per key in the reply.
 */
const CLAIM = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    redis.call('SET', key, 'c:' .. ARGV[2 * i - 1], 'PX', ARGV[2 * i])
    out[2 * i - 1] = 'claimed'
    out[2 * i] = ''
  elseif string.sub(v, 1, 2) == 'd:' then
    out[2 * i - 1] = 'done'
    out[2 * i] = string.sub(v, 3)
  else
    out[2 * i - 1] = 'busy'
    out[2 * i] = tostring(redis.call('PTTL', key))
  end
end
return out
`;
/** Marks each key done (ARGV: the window, then each key's answer), whoever claims it now. */
const MARK = `
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 'd:' .. ARGV[i + 1], 'PX', ARGV[1])
end
return #KEYS
`;
/** Extends a claim this token holds. */
const RENEW = `
if redis.call('GET', KEYS[1]) == 'c:' .. ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;
/** Gives up a claim this token holds (a claim since taken by another is left alone). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == 'c:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** How `openRedisDedupStore` connects, and how long it remembers. */
export interface RedisDedupOptions {
  readonly logger: Logger;
  /** How long a task done is remembered, in ms. @default 86_400_000 (a day) */
  readonly windowMs?: number;
  /** Prefix of every key. @default 'hello-rabbit' */
  readonly prefix?: string;
  /** Time Redis has to answer one call, in ms. @default 2000 */
  readonly commandTimeoutMs?: number;
  /** Told when the store becomes unreachable (false) and when it answers again (true). */
  readonly onChange?: (answering: boolean) => void;
}

/** The Redis store, open. */
export interface RedisDedupStore extends DedupStore {
  /** Whether Redis answered the last call (or reconnected since). */
  readonly answering: boolean;
  /** The URL as printed (no password). */
  readonly redacted: string;
  /** Deletes every key under this store's prefix (a benchmark's or a test's own); resolves with how many. */
  clear(): Promise<number>;
  /** Closes the connection. */
  close(): Promise<void>;
}

const isAuthFailure = (message: string) => /^(?:WRONGPASS|NOAUTH|NOPERM)\b/.test(message);

/**
 * Connects to Redis and checks that it answers.
 * @throws DedupStoreError: STORE_CONFIG (a bad URL, exit 78), STORE_AUTH (the password or
 * user refused, exit 77), STORE_UNREACHABLE (no answer, exit 69).
 */
export async function openRedisDedupStore(url: string, options: RedisDedupOptions): Promise<RedisDedupStore> {
  const { redacted } = checkRedisUrl(url);
  const { logger } = options;
  const windowMs = options.windowMs ?? 86_400_000;
  const prefix = options.prefix ?? 'hello-rabbit';
  const client = new Redis(url, {
    lazyConnect: true,
    // A call while disconnected fails at once: the consumer holds its delivery instead.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectionName: 'hello-rabbit-dedup',
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  let lastError = '';
  client.on('error', (err: Error) => {
    lastError = err.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    const message = lastError === '' ? (err as Error).message : lastError;
    if (isAuthFailure(message))
      throw new DedupStoreError(
        'STORE_AUTH',
        `Redis at ${redacted} refused the credentials: ${message.split('.')[0]}`,
        { cause: err },
      );
    throw new DedupStoreError('STORE_UNREACHABLE', `Redis at ${redacted} does not answer: ${message}`, { cause: err });
  }

  let answering = true;
  const changed = (now: boolean, err?: unknown) => {
    if (answering === now) return;
    answering = now;
    if (now) logger.info({ store: redacted }, 'dedup store answers again');
    else
      logger.error(
        { store: redacted, reason: (err as Error | undefined)?.message ?? (lastError || 'connection closed') },
        'dedup store unreachable: no task is started until it answers',
      );
    options.onChange?.(now);
  };
  client.on('ready', () => {
    changed(true);
  });
  client.on('close', () => {
    changed(false);
  });

  const keyOf = (scope: string, id: string) => `${prefix}:${scope}:${id}`;
  client.defineCommand('helloRabbitClaim', { lua: CLAIM });
  client.defineCommand('helloRabbitMark', { lua: MARK });
  const scripts = client as unknown as {
    helloRabbitClaim(keyCount: number, ...args: string[]): Promise<string[]>;
    helloRabbitMark(keyCount: number, ...args: string[]): Promise<number>;
  };

  /** The calls of one turn, sent together (at most 500 keys a call). */
  const batcher = <Item, Result>(send: (items: readonly Item[]) => Promise<readonly Result[]>) => {
    let pending: { item: Item; resolve: (result: Result) => void; reject: (err: unknown) => void }[] = [];
    const flush = () => {
      const batch = pending;
      pending = [];
      for (let start = 0; start < batch.length; start += 500) {
        const part = batch.slice(start, start + 500);
        send(part.map((one) => one.item)).then(
          (results) => {
            part.forEach((one, i) => {
              one.resolve(results[i] as Result);
            });
          },
          (err: unknown) => {
            for (const one of part) one.reject(err);
          },
        );
      }
    };
    return (item: Item) =>
      new Promise<Result>((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ item, resolve, reject });
      });
  };

  const claims = batcher<{ key: string; token: string; leaseMs: number }, ClaimOutcome>(async (items) => {
    const reply = await scripts.helloRabbitClaim(
      items.length,
      ...items.map((one) => one.key),
      ...items.flatMap((one) => [one.token, String(one.leaseMs)]),
    );
    return items.map((one, i): ClaimOutcome => {
      const state = reply[2 * i];
      const detail = reply[2 * i + 1] ?? '';
      if (state === 'claimed') return { state, token: one.token };
      if (state === 'done') return { state, answer: detail === '' ? undefined : detail };
      return { state: 'busy', retryInMs: Math.max(Number(detail), 0) };
    });
  });
  const marks = batcher<{ key: string; answer: string }, undefined>(async (items) => {
    await scripts.helloRabbitMark(
      items.length,
      ...items.map((one) => one.key),
      String(windowMs),
      ...items.map((one) => one.answer),
    );
    return items.map(() => undefined);
  });
  const ask = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await fn();
      changed(true);
      return result;
    } catch (err) {
      // Whatever the reason (no connection, no answer in time, a password or an ACL changed
      // since the start), the store cannot say: the task waits, and readiness says why.
      changed(false, err);
      throw new DedupStoreUnavailable(`dedup store unreachable: ${(err as Error).message}`, { cause: err });
    }
  };

  return {
    get answering() {
      return answering;
    },
    redacted,
    claim: (scope, id, leaseMs) => ask(() => claims({ key: keyOf(scope, id), token: randomUUID(), leaseMs })),
    renew: (scope, id, token, leaseMs) =>
      ask(async () => (await client.eval(RENEW, 1, keyOf(scope, id), token, String(leaseMs))) === 1),
    // Done, even when the claim ran out meanwhile: the work happened.
    done: (scope, id, _token, answer) => ask(() => marks({ key: keyOf(scope, id), answer: answer ?? '' })),
    release: (scope, id, token) =>
      ask(async () => {
        await client.eval(RELEASE, 1, keyOf(scope, id), token);
      }),
    clear: async () => {
      let deleted = 0;
      const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
      for await (const keys of client.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
        if (keys.length > 0) deleted += await client.unlink(...keys);
      }
      return deleted;
    },
    close: async () => {
      client.removeAllListeners('close');
      await client.quit().catch(() => {
        client.disconnect();
      });
    },
  };
}
