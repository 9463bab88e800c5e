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
 * whatever the traffic.
 */
export class MemoryDedupStore implements DedupStore {
  // A Map iterates in insertion order: the first entries are the oldest.
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  has(messageId: string): boolean {
    const at = this.seen.get(messageId);
    if (at === undefined) return false;
    if (this.now() - at > this.ttlMs) {
      this.seen.delete(messageId);
      return false;
    }
    return true;
  }

  add(messageId: string): void {
    this.seen.delete(messageId);
    this.seen.set(messageId, this.now());
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (oldest.done === true) break;
      this.seen.delete(oldest.value);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
