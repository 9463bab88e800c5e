import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger, Publisher } from '@hello-rabbit/broker-client';
import type { EncodedMessage } from '@hello-rabbit/broker-config';

/** How one message ended, after every attempt. */
export interface MessageResult {
  readonly index: number;
  readonly messageId: string;
  /**
   * `confirmed`: the broker has it. `returned` (unroutable) and `nacked` (refused): the
   * broker does not. `failed`: never confirmed before the deadline; the broker may or may
   * not have it (in doubt). `unsent`: never published (the run was interrupted).
   */
  readonly status: 'confirmed' | 'returned' | 'nacked' | 'failed' | 'unsent';
  readonly attempts: number;
  readonly reason?: string;
}

export interface SendReport {
  readonly total: number;
  readonly confirmed: number;
  readonly returned: number;
  readonly nacked: number;
  readonly failed: number;
  readonly unsent: number;
  /** The first failure's reason, for the summary line. */
  readonly firstFailure: string | undefined;
}

export interface SendOptions {
  /** Messages awaiting their confirm at once: the cap on memory and the back-pressure. */
  readonly window: number;
  readonly confirmTimeoutMs: number;
  /**
   * How long an unconfirmed message (connection lost, channel closed, no confirm in time)
   * is published again, with the same messageId, before it counts as failed.
   */
  readonly deadlineMs: number;
  readonly logger: Logger;
  /** Stops publishing: nothing new starts, nothing is published again; in-flight ones settle. */
  readonly signal?: AbortSignal;
  /** Called once per message, when it has settled for good. */
  readonly onSettled?: (result: MessageResult) => void;
}

/** Waits between attempts: 250 ms, doubling, at most 5 s. */
const backoff = (attempt: number) => Math.min(5000, 250 * 2 ** (attempt - 1));

/**
 * Publishes `count` messages (made one at a time by `message(i)`, so memory does not grow
 * with the count), each with its own messageId, keeping at most `window` unconfirmed: a
 * caller waits here while the broker is slow or away. A message that is not confirmed is
 * published again, with the same messageId (the consumer suppresses duplicates), until it
 * is confirmed or the deadline passes. Returned and nacked messages are final failures.
 */
export async function sendAll(
  publisher: Publisher,
  queue: string,
  count: number,
  message: (index: number) => EncodedMessage,
  options: SendOptions,
): Promise<SendReport> {
  const counts = { confirmed: 0, returned: 0, nacked: 0, failed: 0, unsent: 0 };
  let firstFailure: string | undefined;
  let next = 0;
  const deadline = Date.now() + options.deadlineMs;
  const stopped = () => options.signal?.aborted === true;

  const settle = (result: MessageResult) => {
    counts[result.status]++;
    if (result.status !== 'confirmed') firstFailure ??= result.reason;
    options.onSettled?.(result);
  };

  const publishOne = async (index: number): Promise<MessageResult> => {
    const { content, contentType } = message(index);
    const messageId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      const outcome = await publisher.publish(queue, content, {
        messageId,
        contentType,
        appId: 'producer',
        timeoutMs: options.confirmTimeoutMs,
      });
      if (outcome.status !== 'failed') {
        return { index, messageId, status: outcome.status, attempts: attempt, ...(outcome.status === 'confirmed' ? {} : { reason: outcome.reason }) };
      }
      const wait = backoff(attempt);
      if (stopped() || Date.now() + wait >= deadline) {
        const why = stopped() ? 'interrupted' : `not confirmed within the ${options.deadlineMs} ms deadline`;
        return { index, messageId, status: 'failed', attempts: attempt, reason: `${outcome.reason} (${why})` };
      }
      options.logger.warn({ messageId, attempt, retryInMs: wait, reason: outcome.reason }, 'not confirmed; publishing again');
      await sleep(wait);
    }
  };

  const worker = async () => {
    while (next < count && !stopped()) settle(await publishOne(next++));
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.window, count)) }, worker));
  for (; next < count; next++) settle({ index: next, messageId: '', status: 'unsent', attempts: 0, reason: 'interrupted' });
  return { total: count, ...counts, firstFailure };
}
