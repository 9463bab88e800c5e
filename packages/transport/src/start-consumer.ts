import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  subscriptions,
  type QueueName,
  type SubscriptionName,
  type SubscriptionPayload,
} from '@hello-rabbit/broker-config';
import type { Logger, Metrics } from '@hello-rabbit/runtime';
import { runConsumer, type RunningConsumer } from './consumer/engine.js';
import { queueSource, type QueueDelivery } from './consumer/queue-source.js';
import { isDedupStoreUnavailable, MemoryDedupStore, type ClaimOutcome, type DedupStore } from './dedup-store.js';
import { createPublisher, type PublishOutcome } from './publisher.js';
import type { AmqpMessage, Broker } from './rascal-adapter.js';
import {
  BROKER_DELIVERY_HEADERS,
  RecoveryHeader,
  retryPolicyFor,
  type AttemptCount,
  type RecoveryDecision,
} from './retry-policy.js';

export type { RunningConsumer } from './consumer/engine.js';

/** A claim a delivery in hand holds in the dedup store, and the answer it keeps. */
interface Claim {
  readonly messageId: string;
  readonly token: string;
  renewedAt: number;
  answer?: string;
}

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
  /**
   * Keeps an answer with the mark of this message done: a repeat of the message (same
   * message-id) finds it done and is given it (`ConsumerOptions.onRepeat`) instead of being
   * handled again. The RPC server keeps its reply this way.
   */
  keep(answer: string): void;
}

/** A plain function: resolve and the message is acked; throw and it is retried, then dead-lettered. */
export type Handler<S extends SubscriptionName> = (
  payload: SubscriptionPayload<S>,
  context: DeliveryContext,
) => void | Promise<void>;

/** How `startConsumer` (and `startRpcServer`) consume. */
export interface ConsumerOptions {
  /** Where its diagnostics go (required). */
  readonly logger: Logger;
  /** Time the broker has to confirm a copy (retry, dead letter, redelivery count), in ms (required). */
  readonly confirmTimeoutMs: number;
  /** Attempts, retries and crashes together, before a message is dead-lettered. @default 5 (DEFAULT_MAX_ATTEMPTS) */
  readonly maxAttempts?: number;
  /**
   * The backoff before each retry, one per wait queue of the subscription; the last one
   * repeats. @default [1000, 5000, 30000] (DEFAULT_RETRY_DELAYS_MS)
   */
  readonly retryDelaysMs?: readonly number[];
  /**
   * Where messages are claimed before they are handled and marked done after, by queue and
   * messageId. @default an in-memory store of 100,000 ids for an hour (per process)
   */
  readonly dedup?: DedupStore | undefined;
  /**
   * How long a claim holds before another worker may take the task (a worker killed
   * mid-task), in ms; renewed every third of it while the handler runs. @default 30000
   */
  readonly dedupLeaseMs?: number;
  /**
   * A repeat of a message done before, with the answer its first handling kept
   * (`context.keep`): the RPC server sends the kept reply again. @default nothing (acked)
   */
  readonly onRepeat?: (answer: string, context: DeliveryContext) => Promise<void>;
  /** `app-id` of the copies it publishes (and of the RPC server's replies). @default 'consumer' */
  readonly appId?: string;
  /**
   * The user the consumer's connection logged in as: the `user-id` of the copies it
   * publishes (and of the RPC server's replies; the broker checks it). @default not set
   */
  readonly userId?: string;
  /**
   * Only messages whose AMQP `user-id` (checked by the broker against the publisher's
   * login) is one of these are handled; the others are dead-lettered. A copy the consumer
   * made itself (a retry) counts as its original's publisher. @default any publisher
   */
  readonly allowedPublishers?: readonly string[] | undefined;
  /** Where deliveries, acks, retries, dead letters, duplicates and timings are counted. @default none */
  readonly metrics?: ConsumerMetrics | undefined;
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

/**
 * Subscribes to a contract subscription and runs `handler` for every delivery, with
 * at-least-once semantics and no redelivery loop. Each delivery ends one way:
 * - recovery headers malformed, or the body breaks the contract: dead-lettered at once;
 * - more attempts than `maxAttempts` (retries and unacked redeliveries): dead-lettered;
 * - a messageId already done (in the dedup store): acked without running the handler (a
 *   duplicate); one another worker has claimed and not finished waits in the first retry
 *   queue (not an attempt) and comes back;
 * - the handler resolves: its messageId is marked done, then it is acked;
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
  const { logger, metrics } = options;
  const declaration = subscriptions[name];
  const queue = declaration.queue;
  const policy = retryPolicyFor(name, options);
  const dedup = options.dedup ?? new MemoryDedupStore();
  const leaseMs = options.dedupLeaseMs ?? 30_000;
  /** Claims are per queue: a message routed to two queues is done once in each. */
  const scope = `consume:${queue}`;
  /**
   * The claim each delivery in hand holds and the answer it keeps; renewed together by one
   * timer (every third of the lease, each claim once it is that old): no timer per message.
   */
  const claims = new Map<QueueDelivery, Claim>();
  let stopping = false;
  const appId = options.appId ?? 'consumer';
  // Copies (retries, dead letters, redelivery counts) go out on a confirm channel of their own.
  const publisher = createPublisher(broker, { logger, maxInFlight: 100, userId: options.userId });
  const allowedPublishers = options.allowedPublishers === undefined ? undefined : new Set(options.allowedPublishers);

  /**
   * Who published a delivery: its user-id; on a message of the consumer's own user, the
   * original's publisher when it is one of its copies (the header), else its own user (the
   * producer may share the consumer's user).
   */
  const publishedBy = (message: AmqpMessage): string | undefined => {
    const { userId, headers } = message.properties;
    if (userId === undefined || userId !== options.userId) return userId;
    const original = headers?.[RecoveryHeader.publisher];
    if (typeof original === 'string') return original;
    return Buffer.isBuffer(original) ? original.toString('utf8') : userId;
  };

  /**
   * Runs a call on the dedup store, again every half second while the store does not answer
   * (the delivery is held meanwhile: nothing is started unchecked, nothing goes back to the
   * queue to be counted as an attempt). Undefined once the consumer is stopping.
   */
  const whenAnswered = async <T>(call: () => T | Promise<T>): Promise<T | undefined> => {
    for (;;) {
      try {
        return await call();
      } catch (err) {
        if (!isDedupStoreUnavailable(err)) throw err;
      }
      if (stopping) return undefined;
      await sleep(500);
    }
  };

  let renewal: NodeJS.Timeout | undefined;
  const renewHeld = () => {
    const due = Date.now() - leaseMs / 3;
    for (const [delivery, claim] of claims) {
      if (claim.renewedAt > due) continue;
      claim.renewedAt = Date.now();
      void Promise.resolve()
        .then(() => dedup.renew(scope, claim.messageId, claim.token, leaseMs))
        .then(
          (still) => {
            if (!still && claims.has(delivery))
              logger.warn(
                { messageId: claim.messageId, queue },
                'claim lost: the task ran past its lease; another worker may do it too',
              );
          },
          () => undefined, // The store is away: the lease may run out; the mark of done still follows.
        );
    }
  };
  const holdClaim = (delivery: QueueDelivery, messageId: string, token: string) => {
    claims.set(delivery, { messageId, token, renewedAt: Date.now() });
    if (renewal === undefined) {
      renewal = setInterval(renewHeld, Math.max(Math.floor(leaseMs / 6), 50));
      renewal.unref();
    }
  };
  const letGo = (delivery: QueueDelivery) => {
    const claim = claims.get(delivery);
    if (claim === undefined) return undefined;
    claims.delete(delivery);
    return claim;
  };

  /** The task failed or was given back: its claim goes (if the store is away, its lease runs out). */
  const releaseClaim = async (delivery: QueueDelivery) => {
    const claim = letGo(delivery);
    if (claim === undefined) return;
    try {
      await dedup.release(scope, claim.messageId, claim.token);
    } catch {
      // Unreachable store: the claim expires with its lease.
    }
  };

  const contextOf = (delivery: QueueDelivery, attempt: number): DeliveryContext => {
    const { messageId, replyTo, correlationId } = delivery.message.properties;
    return {
      queue,
      messageId,
      attempt,
      replyTo,
      correlationId,
      keep: (answer) => {
        const claim = claims.get(delivery);
        if (claim !== undefined) claim.answer = answer;
      },
    };
  };

  /** Publishes a copy of `message` to `target` and waits for the broker's confirm. */
  const copyTo = async (
    target: QueueName,
    message: AmqpMessage,
    headers: Record<string, unknown>,
    expiration?: number,
  ) => {
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
      expiration,
      timeoutMs: options.confirmTimeoutMs,
    });
  };

  /** Acks once the copy is confirmed; otherwise the original goes back to the queue. */
  const settleAfterCopy = (
    outcome: PublishOutcome,
    delivery: QueueDelivery,
    log: Record<string, unknown>,
    done: string,
    onConfirmed?: () => void,
  ) => {
    if (outcome.status === 'confirmed') {
      logger.warn(log, done);
      onConfirmed?.();
      delivery.ack();
    } else {
      logger.error({ ...log, copyFailure: outcome.reason }, `${done} failed; the message goes back to the queue`);
      delivery.requeue(new Error(outcome.reason), 1000);
    }
  };

  const deadLetter = async (
    delivery: QueueDelivery,
    decision: RecoveryDecision & { readonly action: 'dead-letter' },
  ) => {
    const { message } = delivery;
    const { reason, attempts } = decision;
    const outcome = await copyTo(decision.queue, message, {
      [RecoveryHeader.reason]: reason,
      [RecoveryHeader.queue]: queue,
      [RecoveryHeader.at]: new Date().toISOString(),
      [RecoveryHeader.attempts]: attempts,
    });
    const log = {
      messageId: message.properties.messageId,
      queue,
      attempt: attempts,
      deadLetterQueue: decision.queue,
      reason,
    };
    settleAfterCopy(outcome, delivery, log, 'message dead-lettered', () =>
      metrics?.messageDeadLettered(queue, decision.category),
    );
  };

  /**
   * What a delivery becomes once the store answered its claim (undefined: the consumer
   * stopped while the store was away): true when it is settled here.
   */
  const afterClaim = (
    delivery: QueueDelivery,
    messageId: string,
    attempt: number,
    outcome: ClaimOutcome | undefined,
  ): boolean | Promise<boolean> => {
    if (outcome === undefined) {
      delivery.requeue(new Error('consumer stopping while the dedup store was unreachable'));
      return true;
    }
    if (outcome.state === 'claimed') {
      holdClaim(delivery, messageId, outcome.token);
      return false;
    }
    return outcome.state === 'done'
      ? suppress(delivery, messageId, attempt, outcome.answer)
      : waitForClaim(delivery, messageId, attempt, outcome.retryInMs);
  };

  /** Done before: acked without running the handler (a kept answer given to the repeat). */
  const suppress = async (
    delivery: QueueDelivery,
    messageId: string,
    attempt: number,
    answer: string | undefined,
  ): Promise<boolean> => {
    logger.info({ messageId, queue, attempt }, 'duplicate suppressed');
    metrics?.duplicateSuppressed(queue);
    if (answer !== undefined && answer !== '' && options.onRepeat !== undefined)
      await options.onRepeat(answer, contextOf(delivery, attempt));
    delivery.ack();
    return true;
  };

  /** Claimed by another worker that has not finished: it waits, then comes back to ask again. */
  const waitForClaim = async (
    delivery: QueueDelivery,
    messageId: string,
    attempt: number,
    retryInMs: number,
  ): Promise<boolean> => {
    const wait = policy.claimWait(retryInMs);
    if (wait === undefined) {
      // No wait queue (rpc_queue): held here, the delivery goes back once the wait is over.
      await sleep(Math.max(100, Math.min(retryInMs, 1000)));
      delivery.requeue(new Error('claimed by another worker'));
      return true;
    }
    const waits = delivery.message.properties.headers?.[RecoveryHeader.claimWaits];
    const copy = await copyTo(
      wait.queue,
      delivery.message,
      { [RecoveryHeader.claimWaits]: (typeof waits === 'number' ? waits : 0) + 1 },
      wait.delayMs,
    );
    settleAfterCopy(
      copy,
      delivery,
      { messageId, queue, attempt, waitIn: wait.delayMs },
      'claimed by another worker: waiting for it',
    );
    return true;
  };

  const source = queueSource(broker, name, queue, {
    logger,
    // The subscription asks Rascal for raw bytes, so it should never find content invalid;
    // if it does, the message is set aside like any other the contract refuses.
    onInvalidContent: (delivery, err) => {
      void deadLetter(delivery, policy.refuse('invalid', `invalid content: ${err.message}`, 1));
    },
  });

  const running = await runConsumer<QueueDelivery, AttemptCount, DeliveryContext, SubscriptionPayload<S>>(source, {
    label: queue,
    message: declaration.message,
    metrics,
    countsInFlight: true,
    handler,
    admit: async (delivery) => {
      const { message } = delivery;
      const counted = policy.count(message.properties.headers, message.fields.redelivered);
      if (!counted.ok) {
        await deadLetter(delivery, policy.refuse('malformed_headers', counted.reason, 1));
        return undefined;
      }
      if (allowedPublishers !== undefined) {
        const publisherId = publishedBy(message);
        if (publisherId === undefined || !allowedPublishers.has(publisherId)) {
          const who =
            publisherId === undefined ? 'a publisher that did not say who it is (no user-id)' : `user '${publisherId}'`;
          await deadLetter(
            delivery,
            policy.refuse(
              'untrusted_publisher',
              `published by ${who}, not allowed on '${queue}'`,
              counted.count.attempt,
            ),
          );
          return undefined;
        }
      }
      return counted.count;
    },
    screen: async (delivery, { attempt, redeliveries, uncounted }) => {
      const exhausted = policy.beforeAttempt(attempt);
      if (exhausted !== undefined) {
        await deadLetter(delivery, exhausted);
        return true;
      }
      if (!uncounted) return false;
      // Delivered before and never acked, on a queue that does not count: count it in a
      // copy, so that a message that crashes the consumer every time ends in the
      // dead-letter queue instead of looping.
      const outcome = await copyTo(queue, delivery.message, { [RecoveryHeader.redeliveries]: redeliveries + 1 });
      settleAfterCopy(
        outcome,
        delivery,
        { messageId: delivery.message.properties.messageId, queue, attempt },
        'redelivered message counted and requeued',
      );
      return true;
    },
    invalid: (delivery, reason, { attempt }) =>
      deadLetter(delivery, policy.refuse('invalid', `invalid message: ${reason}`, attempt)),
    duplicate: (delivery, { attempt }) => {
      const { messageId } = delivery.message.properties;
      if (messageId === undefined) return false;
      const claim = () => dedup.claim(scope, messageId, leaseMs);
      let outcome: ClaimOutcome | Promise<ClaimOutcome>;
      try {
        outcome = claim();
      } catch (err) {
        if (!isDedupStoreUnavailable(err)) throw err;
        return whenAnswered(claim).then((later) => afterClaim(delivery, messageId, attempt, later));
      }
      // A store answering at once (the in-memory one): no extra turn per message.
      if (!(outcome instanceof Promise)) return afterClaim(delivery, messageId, attempt, outcome);
      return outcome
        .catch(async (err: unknown) => {
          if (!isDedupStoreUnavailable(err)) throw err;
          return whenAnswered(claim);
        })
        .then((later) => afterClaim(delivery, messageId, attempt, later));
    },
    context: (delivery, { attempt }) => contextOf(delivery, attempt),
    handled: (delivery) => {
      const claim = letGo(delivery);
      if (claim === undefined) return undefined;
      const mark = () => dedup.done(scope, claim.messageId, claim.token, claim.answer);
      let marked: void | Promise<void>;
      try {
        marked = mark();
      } catch (err) {
        marked = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      // A store answering at once (the in-memory one) is not awaited: no extra turn per message.
      if (marked === undefined) return undefined;
      return marked.catch(async (err: unknown) => {
        if (!isDedupStoreUnavailable(err)) throw err;
        if ((await whenAnswered(mark)) === undefined) {
          logger.warn(
            { messageId: claim.messageId, queue },
            'done, but not marked done: the dedup store was unreachable at stop',
          );
        }
      });
    },
    failed: async (delivery, err, { attempt }) => {
      await releaseClaim(delivery);
      const decision = policy.afterFailure(attempt, err instanceof Error ? err.message : String(err));
      if (decision.action === 'dead-letter') {
        await deadLetter(delivery, decision);
        return;
      }
      const { messageId } = delivery.message.properties;
      const outcome = await copyTo(decision.queue, delivery.message, {}, decision.delayMs);
      settleAfterCopy(
        outcome,
        delivery,
        { messageId, queue, attempt, retryIn: decision.delayMs, reason: decision.reason },
        'message will be retried',
        () => metrics?.messageRetried(queue),
      );
    },
    unexpected: (delivery, err) => {
      void releaseClaim(delivery);
      logger.error(
        { err, queue, messageId: delivery.message.properties.messageId },
        'unexpected error; the message goes back to the queue',
      );
      delivery.requeue(err as Error, 1000);
    },
    close: () => publisher.close(),
  });
  return {
    stop: async () => {
      // Deliveries held for an unreachable store go back to the queue from now on.
      stopping = true;
      try {
        await running.stop();
      } finally {
        clearInterval(renewal);
      }
    },
  };
}
