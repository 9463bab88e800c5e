/**
 * Remembers which messages were handled, by messageId, so that a message delivered twice
 * (a publisher resent it after a lost confirm, or a consumer died between its work and its
 * ack) is done once. Back it with Redis or a database to share it between workers and keep
 * it across restarts; the default is in memory, per process.
 */
export interface DedupStore {
  /** Whether this messageId was handled within the window. */
  has(messageId: string): boolean | Promise<boolean>;
  /** Records a handled messageId. */
  add(messageId: string): void | Promise<void>;
}

/**
 * The last `maxEntries` messageIds handled, each for at most `ttlMs`: bounded memory,
 * whatever the traffic, and constant time per message however long the process runs.
 *
 * The ids sit in a ring in the order they were added, their slot kept in a Map: the id
 * that falls out of the ring is forgotten unless it was added again since (then it has a
 * later slot). Finding the oldest id never walks the Map (a Map walked from its start
 * steps over every entry deleted before: once full, that made each message cost
 * microseconds, more the longer the consumer ran).
 */
export class MemoryDedupStore implements DedupStore {
  /** messageId -> the sequence number of its latest add. */
  private readonly seen = new Map<string, number>();
  /** The ids by sequence number modulo maxEntries, and when each was added. */
  private readonly ring: string[] = [];
  private readonly addedAt: number[] = [];
  private added = 0;

  constructor(
    private readonly maxEntries = 100_000,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a whole number of at least 1');
  }

  has(messageId: string): boolean {
    const seq = this.seen.get(messageId);
    if (seq === undefined) return false;
    if (this.now() - (this.addedAt[seq % this.maxEntries] ?? 0) > this.ttlMs) {
      this.seen.delete(messageId);
      return false;
    }
    return true;
  }

  add(messageId: string): void {
    const seq = this.added++;
    const slot = seq % this.maxEntries;
    if (seq >= this.maxEntries) {
      const leaving = this.ring[slot] as string;
      // Forgotten only if this slot holds its latest add.
      if (this.seen.get(leaving) === seq - this.maxEntries) this.seen.delete(leaving);
      this.ring[slot] = messageId;
      this.addedAt[slot] = this.now();
    } else {
      this.ring.push(messageId);
      this.addedAt.push(this.now());
    }
    this.seen.set(messageId, seq);
  }

  get size(): number {
    return this.seen.size;
  }
}
