/**
 * How many times a delivery has been tried, read from headers that survive a consumer
 * crash: the broker's own records (`x-death` from the retry wait queues, `x-delivery-count`
 * on quorum queues) and the consumer's `x-redeliveries` on copies it made. Headers that
 * steer this count are checked, not trusted: a malformed one makes the message poison.
 */

/** Headers the consumer sets, read back here. */
export const RecoveryHeader = {
  /** Times a message was delivered and not acked (a crash, a lost channel), on a classic queue. */
  redeliveries: 'x-redeliveries',
  /** On a dead letter: how many attempts it had. */
  attempts: 'x-attempts',
  reason: 'x-dead-letter-reason',
  queue: 'x-original-queue',
  at: 'x-dead-lettered-at',
  /**
   * On a copy (retry, dead letter, redelivery count): the `user-id` of the original, since
   * the copy is published, and signed by the broker, as the consumer's own user.
   */
  publisher: 'x-original-user-id',
} as const;

/**
 * Set (non-enumerable) on a header table that the decoder did not decode in full: a table
 * or array in it was nested too deep (see patches/amqplib@2.3.1.patch). Such a message is
 * hostile or broken; it is dead-lettered, never handled.
 */
export const HEADERS_TRUNCATED = Symbol.for('amqplib.fieldsTruncated');

/** Headers the broker sets on delivery, never copied onto a message the consumer publishes. */
export const BROKER_DELIVERY_HEADERS = ['x-delivery-count', 'rascal'] as const;

export interface AttemptCount {
  /** Failures that went through a retry wait queue (from the broker's `x-death`). */
  readonly retries: number;
  /** Deliveries that ended without an ack: crashes, lost channels. */
  readonly redeliveries: number;
  /**
   * The delivery was not acked last time and the queue does not count it itself (a classic
   * queue): the consumer must count it by republishing a copy.
   */
  readonly uncounted: boolean;
  /** This delivery's attempt number, from 1. */
  readonly attempt: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * @param retryQueues the wait queues whose expiries count as attempts of this queue.
 * @returns the count, or why the headers cannot be right.
 */
export function countAttempts(
  headers: Readonly<Record<string, unknown>> | undefined,
  redelivered: boolean,
  retryQueues: readonly string[],
): { ok: true; count: AttemptCount } | { ok: false; reason: string } {
  if (headers !== undefined && (headers as Readonly<Record<symbol, unknown>>)[HEADERS_TRUNCATED] === true) {
    return { ok: false, reason: 'malformed headers: a table nested too deep to decode' };
  }
  const xDeath = headers?.['x-death'];
  let retries = 0;
  if (xDeath !== undefined) {
    if (!Array.isArray(xDeath)) return { ok: false, reason: 'malformed x-death header: not an array' };
    for (const entry of xDeath as unknown[]) {
      if (!isRecord(entry) || !isCount(entry.count) || typeof entry.queue !== 'string' || typeof entry.reason !== 'string') {
        return { ok: false, reason: 'malformed x-death header: an entry lacks count, queue or reason' };
      }
      if (entry.reason === 'expired' && retryQueues.includes(entry.queue)) retries += entry.count;
    }
  }

  const own = headers?.[RecoveryHeader.redeliveries];
  if (own !== undefined && !isCount(own)) {
    return { ok: false, reason: `malformed ${RecoveryHeader.redeliveries} header: not a whole number` };
  }
  let redeliveries = own ?? 0;

  // A quorum queue counts returned deliveries itself; a classic queue only says
  // "redelivered", once, however many times it happened.
  const deliveryCount = headers?.['x-delivery-count'];
  const counted = redelivered && isCount(deliveryCount);
  if (counted) redeliveries += deliveryCount;
  const uncounted = redelivered && !counted;

  return { ok: true, count: { retries, redeliveries, uncounted, attempt: 1 + retries + redeliveries + (uncounted ? 1 : 0) } };
}
