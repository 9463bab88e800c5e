import { randomUUID } from 'node:crypto';
import {
  decodeMessage,
  subscriptions,
  type QueueName,
  type SubscriptionName,
  type SubscriptionPayload,
} from '@hello-rabbit/broker-config';
import { MemoryDedupStore, type DedupStore } from './dedup-store.js';
import { BROKER_DELIVERY_HEADERS, countAttempts, RecoveryHeader, type AttemptCount } from './delivery-attempts.js';
import { channelError } from './broker-errors.js';
import { BrokerError } from './errors.js';
import type { Logger } from '@hello-rabbit/runtime';
import type { DeadLetterReason, Metrics } from '@hello-rabbit/runtime';
import { subscribeQueue, type Broker, type Settle as AckOrNack } from './rascal-adapter.js';
import { createPublisher } from './publisher.js';
import { inProcessSpan, recordFailure } from '@hello-rabbit/runtime';

/** What a handler learns about the delivery it handles. */
export interface DeliveryContext {
  readonly queue: string;
  readonly messageId: string | undefined;
  /** This delivery's attempt number, from 1: retries and crashes count. */
  readonly attempt: number;
  /** AMQP `reply-to`: where a request (tutorial 6) wants its reply. */
  readonly replyTo: string | undefined;
  /** AMQP `correlation-id`: what the reply to a request must carry. */
  readonly correlationId: string | undefined;
}

/** A plain function: resolve and the message is acked; throw and it is retried, then dead-lettered. */
export type Handler<S extends SubscriptionName> = (
  payload: SubscriptionPayload<S>,
  context: DeliveryContext,
) => void | Promise<void>;

export interface ConsumerOptions {
  readonly logger: Logger;
  /** Time the broker has to confirm a copy (retry, dead letter, redelivery count). */
  readonly confirmTimeoutMs: number;
  /** Attempts, retries and crashes together, before a message is dead-lettered. @default 5 */
  readonly maxAttempts?: number;
  /**
   * The backoff before each retry, one per wait queue of the subscription; the last one
   * repeats. @default [1000, 5000, 30000]
   */
  readonly retryDelaysMs?: readonly number[];
  /** Where handled messageIds are remembered. @default an in-memory store of 100,000 ids for an hour */
  readonly dedup?: DedupStore;
  /** `app-id` of the copies it publishes. @default 'consumer' */
  readonly appId?: string;
  /**
   * The user the consumer's connection logged in as: the `user-id` of the copies it
   * publishes (the broker checks it). @default not set
   */
  readonly userId?: string;
  /**
   * Only messages whose AMQP `user-id` (checked by the broker against the publisher's
   * login) is one of these are handled; the others are dead-lettered. A copy the consumer
   * made itself (a retry) counts as its original's publisher. @default any publisher
   */
  readonly allowedPublishers?: readonly string[];
  /** Where deliveries, acks, retries, dead letters, duplicates and timings are counted. */
  readonly metrics?: ConsumerMetrics;
}

/** The part of the metrics (see `createMetrics`) the consumer records. */
export type ConsumerMetrics = Pick<
  Metrics,
  | 'messageDelivered'
  | 'messageAcked'
  | 'messageRetried'
  | 'messageDeadLettered'
  | 'duplicateSuppressed'
  | 'observeHandlerDuration'
  | 'observeEndToEndLatency'
  | 'trackInFlight'
>;

export interface RunningConsumer {
  /**
   * Stops taking deliveries: the subscription is cancelled, deliveries that arrive
   * meanwhile go back to the queue unstarted, and it resolves once the ones in hand are
   * acked or the subscription's close timeout has passed (their channel then closes and
   * the broker requeues them).
   */
  stop(): Promise<void>;
}

/** The parts of an amqplib message the consumer reads. */
interface Delivery {
  readonly content: Buffer;
  readonly fields: { readonly redelivered: boolean };
  readonly properties: {
    readonly messageId?: string;
    readonly contentType?: string;
    readonly headers?: Record<string, unknown>;
    /** AMQP user-id: the user the publisher logged in as, when it said so (the broker checks it). */
    readonly userId?: string;
    /** AMQP timestamp: seconds since the epoch, as the publisher set it. */
    readonly timestamp?: number;
    readonly replyTo?: string;
    readonly correlationId?: string;
  };
}

const requeue = { strategy: 'nack', requeue: true } as const;

/**
 * Subscribes to a contract subscription and runs `handler` for every delivery, with
 * at-least-once semantics and no redelivery loop. Each delivery ends one way:
 * - recovery headers malformed, or the body breaks the contract: dead-lettered at once;
 * - more attempts than `maxAttempts` (retries and unacked redeliveries): dead-lettered;
 * - a messageId already handled: acked without running the handler (a duplicate);
 * - the handler resolves: acked, and its messageId remembered;
 * - the handler throws: a copy waits in the next retry queue, then comes back; after the
 *   last attempt it is dead-lettered.
 * Every copy (retry, dead letter) is confirmed by the broker before the original is acked;
 * if it cannot be, the original goes back to the queue. Nothing is dropped.
 */
export async function startConsumer<S extends SubscriptionName>(
  broker: Broker,
  name: S,
  handler: Handler<S>,
  options: ConsumerOptions,
): Promise<RunningConsumer> {
  const { logger } = options;
  const declaration = subscriptions[name];
  const queue = declaration.queue;
  const retryQueues: readonly QueueName[] = declaration.retryQueues;
  const maxAttempts = options.maxAttempts ?? 5;
  const delays = options.retryDelaysMs ?? [1000, 5000, 30_000];
  const dedup = options.dedup ?? new MemoryDedupStore();
  const appId = options.appId ?? 'consumer';
  const { metrics } = options;
  let stopping = false;
  /** Deliveries received and not yet acked or nacked. */
  let inHand = 0;
  const untrackInFlight = metrics?.trackInFlight('consume', () => inHand);
  // Copies (retries, dead letters, redelivery counts) go out on a confirm channel of their own.
  const publisher = createPublisher(broker, { logger, maxInFlight: 100, ...(options.userId === undefined ? {} : { userId: options.userId }) });
  const allowedPublishers = options.allowedPublishers === undefined ? undefined : new Set(options.allowedPublishers);

  /**
   * Who published a delivery: its user-id; on a message of the consumer's own user, the
   * original's publisher when it is one of its copies (the header), else its own user (the
   * producer may share the consumer's user).
   */
  const publishedBy = (message: Delivery): string | undefined => {
    const { userId, headers } = message.properties;
    if (userId === undefined || userId !== options.userId) return userId;
    const original = headers?.[RecoveryHeader.publisher];
    if (typeof original === 'string') return original;
    return Buffer.isBuffer(original) ? original.toString('utf8') : userId;
  };

  /** Publishes a copy of `message` to `target` and waits for the broker's confirm. */
  const copyTo = async (target: QueueName, message: Delivery, headers: Record<string, unknown>, expiration?: number) => {
    const carried = { ...message.properties.headers };
    for (const header of BROKER_DELIVERY_HEADERS) Reflect.deleteProperty(carried, header);
    // The copy is published as the consumer's user: who published the original goes along.
    const origin = publishedBy(message);
    if (origin === undefined) Reflect.deleteProperty(carried, RecoveryHeader.publisher);
    else carried[RecoveryHeader.publisher] = origin;
    return publisher.publish(target, message.content, {
      messageId: message.properties.messageId ?? randomUUID(),
      contentType: message.properties.contentType,
      headers: { ...carried, ...headers },
      appId,
      ...(expiration === undefined ? {} : { expiration }),
      timeoutMs: options.confirmTimeoutMs,
    });
  };

  /** Acks once the copy is confirmed; otherwise the original goes back to the queue. */
  const settleAfterCopy = (
    outcome: Awaited<ReturnType<typeof copyTo>>,
    ackOrNack: AckOrNack,
    log: Record<string, unknown>,
    done: string,
    onConfirmed?: () => void,
  ) => {
    if (outcome.status === 'confirmed') {
      logger.warn(log, done);
      onConfirmed?.();
      ackOrNack();
    } else {
      logger.error({ ...log, copyFailure: outcome.reason }, `${done} failed; the message goes back to the queue`);
      ackOrNack(new Error(outcome.reason), { ...requeue, defer: 1000 });
    }
  };

  const deadLetter = async (message: Delivery, category: DeadLetterReason, reason: string, attempts: number, ackOrNack: AckOrNack) => {
    const outcome = await copyTo(declaration.deadLetterQueue, message, {
      [RecoveryHeader.reason]: reason,
      [RecoveryHeader.queue]: queue,
      [RecoveryHeader.at]: new Date().toISOString(),
      [RecoveryHeader.attempts]: attempts,
    });
    const log = { messageId: message.properties.messageId, queue, attempt: attempts, deadLetterQueue: declaration.deadLetterQueue, reason };
    settleAfterCopy(outcome, ackOrNack, log, 'message dead-lettered', () => metrics?.messageDeadLettered(queue, category));
  };

  const handle = async (message: Delivery, ackOrNack: AckOrNack) => {
    const { messageId, headers } = message.properties;
    const counted = countAttempts(headers, message.fields.redelivered, retryQueues);
    if (!counted.ok) {
      await deadLetter(message, 'malformed_headers', counted.reason, 1, ackOrNack);
      return;
    }
    if (allowedPublishers !== undefined) {
      const publisherId = publishedBy(message);
      if (publisherId === undefined || !allowedPublishers.has(publisherId)) {
        const who = publisherId === undefined ? 'a publisher that did not say who it is (no user-id)' : `user '${publisherId}'`;
        await deadLetter(message, 'untrusted_publisher', `published by ${who}, not allowed on '${queue}'`, counted.count.attempt, ackOrNack);
        return;
      }
    }
    await inProcessSpan(queue, { messageId, attempt: counted.count.attempt, headers }, (span) =>
      processDelivery(message, counted.count, ackOrNack, (err) => {
        recordFailure(span, err);
      }),
    );
  };

  /** One delivery whose attempts are counted: see startConsumer's description. */
  const processDelivery = async (message: Delivery, count: AttemptCount, ackOrNack: AckOrNack, failed: (err: unknown) => void) => {
    const { messageId } = message.properties;
    const { attempt, redeliveries, uncounted } = count;
    if (attempt > maxAttempts) {
      await deadLetter(message, 'max_attempts', `gave up after ${attempt - 1} attempts (the last ones ended without an ack)`, attempt - 1, ackOrNack);
      return;
    }
    if (uncounted) {
      // Delivered before and never acked, on a queue that does not count: count it in a
      // copy, so that a message that crashes the consumer every time ends in the
      // dead-letter queue instead of looping.
      const outcome = await copyTo(queue, message, { [RecoveryHeader.redeliveries]: redeliveries + 1 });
      settleAfterCopy(outcome, ackOrNack, { messageId, queue, attempt }, 'redelivered message counted and requeued');
      return;
    }

    const decoded = decodeMessage(declaration.message, message.content, message.properties.contentType);
    if (!decoded.ok) {
      await deadLetter(message, 'invalid', `invalid message: ${decoded.reason}`, attempt, ackOrNack);
      return;
    }
    // A store answering at once (the in-memory one) is not awaited: no extra turn per message.
    const seen = messageId === undefined ? false : dedup.has(messageId);
    if (seen === true || (seen !== false && (await seen))) {
      logger.info({ messageId, queue, attempt }, 'duplicate suppressed');
      metrics?.duplicateSuppressed(queue);
      ackOrNack();
      return;
    }

    const started = metrics === undefined ? 0 : performance.now();
    try {
      const { replyTo, correlationId } = message.properties;
      const handled = handler(decoded.payload as SubscriptionPayload<S>, { queue, messageId, attempt, replyTo, correlationId });
      if (handled !== undefined) await handled;
    } catch (err) {
      metrics?.observeHandlerDuration(queue, (performance.now() - started) / 1000, 'failure');
      failed(err);
      const reason = `handler failed: ${err instanceof Error ? err.message : String(err)}`;
      if (attempt >= maxAttempts || retryQueues.length === 0) {
        await deadLetter(
          message,
          retryQueues.length === 0 ? 'handler_failed' : 'max_attempts',
          `${reason} (attempt ${attempt} of ${maxAttempts})`,
          attempt,
          ackOrNack,
        );
        return;
      }
      const step = Math.min(attempt, retryQueues.length) - 1;
      const target = retryQueues[step] as QueueName;
      const delay = delays[Math.min(step, delays.length - 1)] ?? 1000;
      const outcome = await copyTo(target, message, {}, delay);
      settleAfterCopy(outcome, ackOrNack, { messageId, queue, attempt, retryIn: delay, reason }, 'message will be retried', () =>
        metrics?.messageRetried(queue),
      );
      return;
    }
    if (metrics !== undefined) {
      metrics.observeHandlerDuration(queue, (performance.now() - started) / 1000, 'success');
      metrics.messageAcked(queue);
    }
    ackOrNack();
    if (messageId !== undefined) {
      const added = dedup.add(messageId);
      if (added !== undefined) await added;
    }
  };

  const session = await subscribeQueue(broker, name);
  // Rascal starts consuming when the 'message' listener is attached, and says 'subscribed'
  // once the broker has answered basic.consume; the consumer is ready only then.
  const subscribed = new Promise<void>((resolve, reject) => {
    session.once('subscribed', resolve);
    session.once('error', reject);
  });
  session.on('message', (message: Delivery, _content: unknown, ackOrNack: AckOrNack) => {
    if (stopping) {
      // Prefetched but not started: back to the queue for another consumer.
      ackOrNack(new Error('consumer stopping'), requeue);
      return;
    }
    let settle = ackOrNack;
    if (metrics !== undefined) {
      metrics.messageDelivered(queue);
      metrics.observeEndToEndLatency(queue, message.properties.timestamp);
      inHand++;
      // Rascal's ackOrNack reads its arity: pass the arguments on as they came.
      settle = (...args: Parameters<AckOrNack>) => {
        inHand--;
        ackOrNack(...args);
      };
    }
    handle(message, settle).catch((err: unknown) => {
      logger.error({ err, queue, messageId: message.properties.messageId }, 'unexpected error; the message goes back to the queue');
      settle(err as Error, { ...requeue, defer: 1000 });
    });
  });
  // The subscription asks Rascal for raw bytes, so it should never find content invalid;
  // if it does, the message is set aside like any other the contract refuses.
  session.on('invalid_content', (err: Error, message: Delivery, ackOrNack: AckOrNack) => {
    void deadLetter(message, 'invalid', `invalid content: ${err.message}`, 1, ackOrNack);
  });
  session.on('error', (err: Error) => {
    logger.error({ err, queue }, 'subscription error');
  });
  session.on('cancelled', (err: Error) => {
    logger.warn({ err, queue }, 'the broker cancelled the subscription; resubscribing');
  });

  await subscribed.catch((err: unknown) => {
    // A 403 (the user may not read the queue) or a 404 says so, with its exit code.
    throw (
      channelError(err, `cannot consume queue '${queue}'`) ??
      new BrokerError('BROKER_ERROR', `cannot consume queue '${queue}': ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      })
    );
  });

  return {
    stop: async () => {
      stopping = true;
      untrackInFlight?.();
      try {
        await session.cancel();
      } finally {
        await publisher.close();
      }
    },
  };
}
