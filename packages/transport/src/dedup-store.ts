/**
 * What a consumer asks before it does a task: may I do it? Claims are per scope (the queue,
 * say) and id (the message-id), so that "done once" holds per queue: a message bound to
 * two queues is done once in each.
 *
 * - `claimed`: do it; then `done` (success) or `release` (failure), with the token.
 * - `done`: it was done already (within the store's window): ack it without doing it.
 * - `busy`: another worker holds a claim on it whose lease has not run out: do not do it
 *   now; ask again later (in `retryInMs` at the latest the lease runs out).
 */
export type ClaimOutcome =
  | { readonly state: 'claimed'; readonly token: string }
  | { readonly state: 'done'; readonly answer?: string | undefined }
  | { readonly state: 'busy'; readonly retryInMs: number };

/**
 * Remembers which messages were done, so that a message delivered twice (a publisher resent
 * it after a lost confirm, or a consumer died between its work and its ack) is done once.
 * In memory per process (`MemoryDedupStore`, the default) or shared by every worker on Redis
 * (`RedisDedupStore`, from `@hello-rabbit/transport/redis-dedup`).
 *
 * A store that cannot answer (Redis unreachable) rejects with a `DedupStoreUnavailable`:
 * the caller must not do the task unchecked.
 */
export interface DedupStore {
  /** Claims `id` in `scope` for `leaseMs`, unless it is done or claimed by another. */
  claim(scope: string, id: string, leaseMs: number): ClaimOutcome | Promise<ClaimOutcome>;
  /** Extends a claim this token still holds; false when it was lost (the lease ran out and another took it). */
  renew(scope: string, id: string, token: string, leaseMs: number): boolean | Promise<boolean>;
  /** Marks it done (kept for the store's window), with an answer to give later claims. */
  done(scope: string, id: string, token: string, answer?: string): void | Promise<void>;
  /** Gives a claim up (the task failed): the next claim gets it at once. */
  release(scope: string, id: string, token: string): void | Promise<void>;
}

const UNAVAILABLE = Symbol.for('hello-rabbit.dedupStoreUnavailable');

/** The store could not be asked (Redis unreachable, or it did not answer in time). */
export class DedupStoreUnavailable extends Error {
  override readonly name = 'DedupStoreUnavailable';
  readonly [UNAVAILABLE] = true;
}

/**
 * Whether `err` is a DedupStoreUnavailable, also one from another copy of this module (the
 * apps' bundles load the Redis store as a file of its own, with its own copy).
 */
export const isDedupStoreUnavailable = (err: unknown): err is DedupStoreUnavailable =>
  typeof err === 'object' && err !== null && (err as { [UNAVAILABLE]?: unknown })[UNAVAILABLE] === true;

/** A store that remembers nothing: every claim is granted (duplicate suppression off). */
export const REMEMBERS_NOTHING: DedupStore = {
  claim: () => ({ state: 'claimed', token: '' }),
  renew: () => true,
  done: () => undefined,
  release: () => undefined,
};

/**
 * The last `maxEntries` ids done, each for at most `ttlMs`: bounded memory, whatever the
 * traffic, and constant time per message however long the process runs.
 *
 * The ids sit in a ring in the order they were added, their slot kept in a Map: the id
 * that falls out of the ring is forgotten unless it was added again since (then it has a
 * later slot). Finding the oldest id never walks the Map (a Map walked from its start
 * steps over every entry deleted before: once full, that made each message cost
 * microseconds, more the longer the consumer ran).
 */
class RecentIds {
  /** id -> the sequence number of its latest add. */
  private readonly seen = new Map<string, number>();
  /** The answers of ids done with one (bounded like the ids: dropped with them). */
  private readonly answers = new Map<string, string>();
  /** The ids by sequence number modulo maxEntries, and when each was added. */
  private readonly ring: string[] = [];
  private readonly addedAt: number[] = [];
  private added = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  has(id: string): boolean {
    const seq = this.seen.get(id);
    if (seq === undefined) return false;
    if (this.now() - (this.addedAt[seq % this.maxEntries] ?? 0) > this.ttlMs) {
      this.seen.delete(id);
      this.answers.delete(id);
      return false;
    }
    return true;
  }

  answer(id: string): string | undefined {
    return this.answers.get(id);
  }

  add(id: string, answer?: string): void {
    const seq = this.added++;
    const slot = seq % this.maxEntries;
    if (seq >= this.maxEntries) {
      const leaving = this.ring[slot] as string;
      // Forgotten only if this slot holds its latest add.
      if (this.seen.get(leaving) === seq - this.maxEntries) {
        this.seen.delete(leaving);
        this.answers.delete(leaving);
      }
      this.ring[slot] = id;
      this.addedAt[slot] = this.now();
    } else {
      this.ring.push(id);
      this.addedAt.push(this.now());
    }
    this.seen.set(id, seq);
    if (answer !== undefined) this.answers.set(id, answer);
  }

  get size(): number {
    return this.seen.size;
  }
}

/** One scope's records: the ids done, and the claims held (their token, until when). */
interface Scope {
  readonly done: RecentIds;
  readonly claims: Map<string, { readonly token: string; until: number }>;
}

/**
 * The dedup store of one process: per scope (queue), the last `maxEntries` ids done, each
 * remembered for at most `ttlMs`, and the claims held. Ids are the Map keys as they come
 * (no key built per message), so a claim and its mark cost a few Map operations.
 */
export class MemoryDedupStore implements DedupStore {
  /** Tokens given so far (a claim's token need only differ from the others of this process). */
  private tokens = 0;
  private readonly scopes = new Map<string, Scope>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError('maxEntries must be a whole number of at least 1');
  }

  private scope(name: string): Scope {
    let scope = this.scopes.get(name);
    if (scope === undefined) {
      scope = { done: new RecentIds(this.maxEntries, this.ttlMs, this.now), claims: new Map() };
      this.scopes.set(name, scope);
    }
    return scope;
  }

  claim(scope: string, id: string, leaseMs: number): ClaimOutcome {
    const { done, claims } = this.scope(scope);
    if (done.has(id)) return { state: 'done', answer: done.answer(id) };
    const now = this.now();
    const held = claims.get(id);
    if (held !== undefined && held.until > now) return { state: 'busy', retryInMs: held.until - now };
    const token = String(++this.tokens);
    claims.set(id, { token, until: now + leaseMs });
    return { state: 'claimed', token };
  }

  renew(scope: string, id: string, token: string, leaseMs: number): boolean {
    const held = this.scope(scope).claims.get(id);
    if (held?.token !== token) return false;
    held.until = this.now() + leaseMs;
    return true;
  }

  done(scope: string, id: string, token: string, answer?: string): void {
    const { done, claims } = this.scope(scope);
    if (claims.get(id)?.token === token) claims.delete(id);
    done.add(id, answer);
  }

  release(scope: string, id: string, token: string): void {
    const { claims } = this.scope(scope);
    if (claims.get(id)?.token === token) claims.delete(id);
  }

  /** Whether this id was recorded done within the window (in the scope ''). */
  has(messageId: string): boolean {
    return this.scope('').done.has(messageId);
  }

  /** Records an id done (in the scope ''). */
  add(messageId: string): void {
    this.scope('').done.add(messageId);
  }

  /** Ids remembered done, in every scope. */
  get size(): number {
    let size = 0;
    for (const scope of this.scopes.values()) size += scope.done.size;
    return size;
  }
}
