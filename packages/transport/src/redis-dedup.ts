/**
 * The dedup store shared by every worker (and every producer service instance): Redis, one
 * key per scope and id, `<prefix>:<scope>:<id>`, holding either a claim (`c:<token>`, with
 * the lease as its expiry) or the mark of a task done (`d:` and the answer, if any, kept for
 * the window). Each step is one Lua script, so that checking and changing a key is atomic
 * whatever the number of workers.
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

/** Claims a free key; a key done or claimed says so (with the claim's time left). */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'c:' .. ARGV[1], 'PX', ARGV[2])
  return {'claimed'}
end
if string.sub(v, 1, 2) == 'd:' then return {'done', string.sub(v, 3)} end
return {'busy', tostring(redis.call('PTTL', KEYS[1]))}
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
    if (isAuthFailure(message)) throw new DedupStoreError('STORE_AUTH', `Redis at ${redacted} refused the credentials: ${message.split('.')[0]}`, { cause: err });
    throw new DedupStoreError('STORE_UNREACHABLE', `Redis at ${redacted} does not answer: ${message}`, { cause: err });
  }

  let answering = true;
  const changed = (now: boolean, err?: unknown) => {
    if (answering === now) return;
    answering = now;
    if (now) logger.info({ store: redacted }, 'dedup store answers again');
    else logger.error({ store: redacted, reason: (err as Error | undefined)?.message ?? (lastError || 'connection closed') }, 'dedup store unreachable: no task is started until it answers');
    options.onChange?.(now);
  };
  client.on('ready', () => {
    changed(true);
  });
  client.on('close', () => {
    changed(false);
  });

  const keyOf = (scope: string, id: string) => `${prefix}:${scope}:${id}`;
  const ask = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await fn();
      changed(true);
      return result;
    } catch (err) {
      if (isAuthFailure((err as Error).message)) throw err;
      changed(false, err);
      throw new DedupStoreUnavailable(`dedup store unreachable: ${(err as Error).message}`, { cause: err });
    }
  };

  return {
    get answering() {
      return answering;
    },
    redacted,
    claim: (scope, id, leaseMs) =>
      ask(async (): Promise<ClaimOutcome> => {
        const token = randomUUID();
        const [state, detail] = (await client.eval(CLAIM, 1, keyOf(scope, id), token, String(leaseMs))) as [string, string?];
        if (state === 'claimed') return { state, token };
        if (state === 'done') return { state, answer: detail === '' ? undefined : detail };
        return { state: 'busy', retryInMs: Math.max(Number(detail), 0) };
      }),
    renew: (scope, id, token, leaseMs) => ask(async () => (await client.eval(RENEW, 1, keyOf(scope, id), token, String(leaseMs))) === 1),
    done: (scope, id, _token, answer) =>
      ask(async () => {
        // Done, even when the claim ran out meanwhile: the work happened.
        await client.set(keyOf(scope, id), `d:${answer ?? ''}`, 'PX', windowMs);
      }),
    release: (scope, id, token) =>
      ask(async () => {
        await client.eval(RELEASE, 1, keyOf(scope, id), token);
      }),
    clear: async () => {
      let deleted = 0;
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await client.unlink(...keys);
      } while (cursor !== '0');
      return deleted;
    },
    close: async () => {
      client.removeAllListeners('close');
      await client.quit().catch(() => { client.disconnect(); });
    },
  };
}
