/**
 * The retry and dead-letter policy of the contract's queue subscriptions, in one place:
 * the defaults, how many times a delivery has been tried, and what becomes of one that
 * failed. The wait queues themselves are topology, declared in the contract
 * (`subscriptions[name].retryQueues` in broker-config); the policy reads them from there.
 *
 * Attempts are counted from headers that survive a consumer crash: the broker's own
 * records (`x-death` from the retry wait queues, `x-delivery-count` on quorum queues) and
 * the consumer's `x-redeliveries` on copies it made. Headers that steer this count are
 * checked, not trusted: a malformed one makes the message poison.
 */
import { subscriptions, type QueueName, type SubscriptionName } from '@hello-rabbit/broker-config';
import type { DeadLetterReason } from '@hello-rabbit/runtime';

import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS } from './retry-defaults.js';

export { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS };

/** Headers the consumer sets on the copies it publishes (retries, dead letters, redelivery counts). */
export const RecoveryHeader = {
  /** Times a message was delivered and not acked (a crash, a lost channel), on a classic queue. */
  redeliveries: 'x-redeliveries',
  /** On a dead letter: how many attempts it had. */
  attempts: 'x-attempts',
  /** On a dead letter: why it was set aside. */
  reason: 'x-dead-letter-reason',
  /** On a dead letter: the queue it was consumed from. */
  queue: 'x-original-queue',
  /** On a dead letter: when it was set aside (ISO 8601). */
  at: 'x-dead-lettered-at',
  /**
   * On a copy (retry, dead letter, redelivery count): the `user-id` of the original, since
   * the copy is published, and signed by the broker, as the consumer's own user.
   */
  publisher: 'x-original-user-id',
  /**
   * On a copy waiting for another worker's claim (see the dedup store): how many times it
   * waited in the first retry queue. Those passes are not attempts.
   */
  claimWaits: 'x-claim-waits',
} as const;

/**
 * Set (non-enumerable) on a header table that the decoder did not decode in full: a table
 * or array in it was nested too deep (see patches/amqplib@2.3.1.patch). Such a message is
 * hostile or broken; it is dead-lettered, never handled.
 */
export const HEADERS_TRUNCATED = Symbol.for('amqplib.fieldsTruncated');

/** Headers the broker sets on delivery, never copied onto a message the consumer publishes. */
export const BROKER_DELIVERY_HEADERS = ['x-delivery-count', 'rascal'] as const;

/** How many times a delivery has been tried, and how. */
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
 * Counts a delivery's attempts from its headers and its `redelivered` flag.
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
      if (
        !isRecord(entry) ||
        !isCount(entry.count) ||
        typeof entry.queue !== 'string' ||
        typeof entry.reason !== 'string'
      ) {
        return { ok: false, reason: 'malformed x-death header: an entry lacks count, queue or reason' };
      }
      if (entry.reason === 'expired' && retryQueues.includes(entry.queue)) retries += entry.count;
    }
  }

  const waits = headers?.[RecoveryHeader.claimWaits];
  if (waits !== undefined && !isCount(waits)) {
    return { ok: false, reason: `malformed ${RecoveryHeader.claimWaits} header: not a whole number` };
  }
  // Waits for another worker's claim went through the first retry queue: not attempts.
  retries = Math.max(0, retries - (waits ?? 0));

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

  return {
    ok: true,
    count: { retries, redeliveries, uncounted, attempt: 1 + retries + redeliveries + (uncounted ? 1 : 0) },
  };
}

/** What becomes of a delivery that cannot be acked as handled. */
export type RecoveryDecision =
  | {
      readonly action: 'retry';
      /** The wait queue of this step. */
      readonly queue: QueueName;
      /** The copy's `expiration`: how long it waits there. */
      readonly delayMs: number;
      /** Why, for the log line. */
      readonly reason: string;
    }
  | {
      readonly action: 'dead-letter';
      readonly queue: QueueName;
      /** The metric's label. */
      readonly category: DeadLetterReason;
      /** The `x-dead-letter-reason` header. */
      readonly reason: string;
      /** The `x-attempts` header: the attempts it had. */
      readonly attempts: number;
    };

/** The retry and dead-letter policy of one subscription (see `retryPolicyFor`). */
export interface RetryPolicy {
  /** The wait queues, one per backoff step (from the contract). */
  readonly retryQueues: readonly QueueName[];
  /** Where messages are set aside (from the contract). */
  readonly deadLetterQueue: QueueName;
  readonly maxAttempts: number;
  /** This delivery's attempt number, or why its headers cannot be right. */
  count(headers: Readonly<Record<string, unknown>> | undefined, redelivered: boolean): ReturnType<typeof countAttempts>;
  /** Set aside at once, whatever the attempt: the message cannot be handled (`reason`). */
  refuse(
    category: DeadLetterReason,
    reason: string,
    attempts: number,
  ): RecoveryDecision & { readonly action: 'dead-letter' };
  /** Before the handler runs: dead-lettered when the earlier attempts (ended without an ack) used them all up. */
  beforeAttempt(attempt: number): (RecoveryDecision & { readonly action: 'dead-letter' }) | undefined;
  /** The handler failed on attempt `attempt`: retry in the next wait queue, or dead-letter. */
  afterFailure(attempt: number, failure: string): RecoveryDecision;
  /**
   * Where a message waits for another worker's claim, up to `ms`: the first wait queue (a
   * short wait: no more than the first retry delay), or undefined when there is none.
   */
  claimWait(ms: number): { readonly queue: QueueName; readonly delayMs: number } | undefined;
}

/**
 * The policy of one contract subscription: its wait queues and dead-letter queue from the
 * contract, its attempts and delays as configured.
 */
export function retryPolicyFor(
  name: SubscriptionName,
  options: { readonly maxAttempts?: number | undefined; readonly retryDelaysMs?: readonly number[] | undefined } = {},
): RetryPolicy {
  const declaration = subscriptions[name];
  const retryQueues: readonly QueueName[] = declaration.retryQueues;
  const deadLetterQueue: QueueName = declaration.deadLetterQueue;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const refuse = (category: DeadLetterReason, reason: string, attempts: number) =>
    ({ action: 'dead-letter', queue: deadLetterQueue, category, reason, attempts }) as const;
  return {
    retryQueues,
    deadLetterQueue,
    maxAttempts,
    count: (headers, redelivered) => countAttempts(headers, redelivered, retryQueues),
    refuse,
    beforeAttempt: (attempt) =>
      attempt > maxAttempts
        ? refuse(
            'max_attempts',
            `gave up after ${attempt - 1} attempts (the last ones ended without an ack)`,
            attempt - 1,
          )
        : undefined,
    afterFailure: (attempt, failure) => {
      const reason = `handler failed: ${failure}`;
      // No wait queues (hello, rpc_queue): a failure is set aside at once.
      if (attempt >= maxAttempts || retryQueues.length === 0) {
        return refuse(
          retryQueues.length === 0 ? 'handler_failed' : 'max_attempts',
          `${reason} (attempt ${attempt} of ${maxAttempts})`,
          attempt,
        );
      }
      const step = Math.min(attempt, retryQueues.length) - 1;
      const delayMs = delays[Math.min(step, delays.length - 1)] ?? 1000;
      return { action: 'retry', queue: retryQueues[step] as QueueName, delayMs, reason };
    },
    claimWait: (ms) => {
      const queue = retryQueues[0];
      if (queue === undefined) return undefined;
      return { queue, delayMs: Math.max(100, Math.min(ms, delays[0] ?? 1000)) };
    },
  };
}
