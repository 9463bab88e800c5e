import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PublishFailureReason, type Logger, type Metrics } from '@hello-rabbit/runtime';
import type { EncodedMessage } from '@hello-rabbit/broker-config';
import type { Publisher } from './publisher.js';

/** How one message ended, after every attempt. */
export interface MessageResult {
  readonly index: number;
  readonly messageId: string;
  /**
   * `confirmed`: the broker has it. `returned` (unroutable) and `nacked` (refused at every
   * attempt until the deadline): the broker does not. `failed`: never confirmed before the
   * deadline; the broker may or may not have it (in doubt). `unsent`: never published (the
   * run was interrupted).
   */
  readonly status: 'confirmed' | 'returned' | 'nacked' | 'failed' | 'unsent';
  readonly attempts: number;
  readonly reason?: string;
}

/** How `sendAll` went: messages by outcome. */
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

/** How `sendAll` publishes, waits and resends. */
export interface SendOptions {
  /** Messages awaiting their confirm at once: the cap on memory and the back-pressure. */
  readonly window: number;
  readonly confirmTimeoutMs: number;
  /**
   * How long an unconfirmed message (connection lost, channel closed, no confirm in time)
   * or a refused one (nacked: a quorum queue without a leader for the moment, a full queue)
   * is published again, with the same messageId, before it counts as failed or nacked.
   */
  readonly deadlineMs: number;
  readonly logger: Logger;
  /** Who publishes, as AMQP `app-id` (e.g. `producer`). */
  readonly appId: string;
  /** Stops publishing: nothing new starts, nothing is published again; in-flight ones settle. @default never stops */
  readonly signal?: AbortSignal;
  /** Called once per message, when it has settled for good. @default nothing is called */
  readonly onSettled?: (result: MessageResult) => void;
  /** Where published, resent, confirmed, returned and failed messages are counted. @default not counted */
  readonly metrics?: Metrics;
  /**
   * Set: `queue` names an exchange, and every message is published to it with this routing
   * key. @default unset: published to the queue through the default exchange
   */
  readonly routingKey?: string | undefined;
}

/** Waits between attempts: 250 ms, doubling, at most 5 s. */
const backoff = (attempt: number) => Math.min(5000, 250 * 2 ** (attempt - 1));

/**
 * Publishes `count` messages (made one at a time by `message(i)`, so memory does not grow
 * with the count), each with its own messageId, keeping at most `window` unconfirmed: a
 * caller waits here while the broker is slow or away. A message that is not confirmed is
 * published again, with the same messageId (the consumer suppresses duplicates), until it
 * is confirmed or the deadline passes; so is one the broker refused (nacked), which it may
 * take a moment later (a quorum queue electing a leader, a full queue drained). Returned
 * (unroutable) messages are final failures.
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
    const messageId = randomUUID();
    const settled = await publishUntilSettled(publisher, queue, message(index), messageId, {
      confirmTimeoutMs: options.confirmTimeoutMs,
      deadline,
      deadlineMs: options.deadlineMs,
      logger: options.logger,
      appId: options.appId,
      signal: options.signal,
      metrics: options.metrics,
      routingKey: options.routingKey,
    });
    return { index, messageId, ...settled };
  };

  const worker = async () => {
    while (next < count && !stopped()) settle(await publishOne(next++));
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.window, count)) }, worker));
  for (; next < count; next++)
    settle({ index: next, messageId: '', status: 'unsent', attempts: 0, reason: 'interrupted' });
  return { total: count, ...counts, firstFailure };
}

/** How one message ended, after every attempt. */
export interface Settled {
  readonly status: 'confirmed' | 'returned' | 'nacked' | 'failed';
  readonly attempts: number;
  readonly reason?: string;
}

/** How `publishUntilSettled` resends one message. */
export interface SettleOptions {
  readonly confirmTimeoutMs: number;
  /** When (epoch ms) a message not yet confirmed stops being published again. */
  readonly deadline: number;
  /** The deadline as configured, for the failure's reason. */
  readonly deadlineMs: number;
  readonly logger: Logger;
  /** Who publishes, as AMQP `app-id` (e.g. `producer`). */
  readonly appId: string;
  /** Once aborted, a failed attempt is not published again. @default never aborted */
  readonly signal?: AbortSignal | undefined;
  /**
   * Asked after an attempt that was not confirmed (`refused`: the broker nacked it): a
   * reason not to publish again now (say, the broker is away, or a caller that would rather
   * retry later itself), or undefined to go on until the deadline. @default always goes on
   */
  readonly holdResend?: (refused: boolean) => string | undefined;
  /** Where the message is counted (published, resent, confirmed, returned, failed). @default not counted */
  readonly metrics?: Metrics | undefined;
  /** Set: `queue` names an exchange, published to with this routing key. @default unset */
  readonly routingKey?: string | undefined;
}

/**
 * Publishes one message and, while it is not confirmed (connection lost, channel closed,
 * no confirm in time, or refused: nacked), publishes it again with the same messageId, with
 * backoff, until the deadline, the signal or `holdResend` stops it; it then counts as
 * nacked when the broker refused its last attempt, else as failed (in doubt). Returned is
 * final at once. Counts the message in `metrics`: published once, resent per extra
 * attempt, then confirmed (with the confirmed attempt's latency), returned or failed.
 */
export async function publishUntilSettled(
  publisher: Publisher,
  queue: string,
  message: EncodedMessage,
  messageId: string,
  options: SettleOptions,
): Promise<Settled> {
  const { metrics } = options;
  const { content, contentType } = message;
  for (let attempt = 1; ; attempt++) {
    if (attempt === 1) metrics?.messagePublished(queue);
    else metrics?.messageResent(queue);
    const started = performance.now();
    const publishOptions = { messageId, contentType, appId: options.appId, timeoutMs: options.confirmTimeoutMs };
    const outcome =
      options.routingKey === undefined
        ? await publisher.publish(queue, content, publishOptions)
        : await publisher.publishTo(queue, options.routingKey, content, publishOptions);
    switch (outcome.status) {
      case 'confirmed':
        metrics?.messageConfirmed(queue, (performance.now() - started) / 1000);
        return { status: 'confirmed', attempts: attempt };
      case 'returned':
        metrics?.messageReturned(queue);
        return { status: 'returned', attempts: attempt, reason: outcome.reason };
      case 'nacked':
      case 'failed':
        break;
    }
    // Refused (nacked) or in doubt (failed): published again, until the deadline.
    const refused = outcome.status === 'nacked';
    const giveUp = (why: string): Settled => {
      metrics?.messagePublishFailed(queue, refused ? PublishFailureReason.nacked : PublishFailureReason.unconfirmed);
      return refused
        ? { status: 'nacked', attempts: attempt, reason: outcome.reason }
        : { status: 'failed', attempts: attempt, reason: `${outcome.reason} (${why})` };
    };
    const wait = backoff(attempt);
    const held = options.signal?.aborted === true ? 'interrupted' : options.holdResend?.(refused);
    if (held !== undefined || Date.now() + wait >= options.deadline) {
      return giveUp(held ?? `not confirmed within the ${options.deadlineMs} ms deadline`);
    }
    options.logger.warn(
      { messageId, queue, attempt, retryInMs: wait, reason: outcome.reason },
      refused ? 'refused by the broker; publishing again' : 'not confirmed; publishing again',
    );
    await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal?.aborted === true) return giveUp('interrupted');
  }
}
