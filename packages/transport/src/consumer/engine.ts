/**
 * The consumer engine: one delivery pipeline and one lifecycle for every kind of consumer
 * (queue subscriptions, exchange subscribers, the RPC server).
 *
 * A source (see queue-source.ts and own-queue-source.ts) gets deliveries from the broker;
 * a pipeline says what this kind of consumer does at the steps where kinds differ (how a
 * delivery's attempt is counted, what becomes of one that cannot be handled). The engine
 * runs each delivery through the same steps, in this order:
 *
 *   metrics (delivered, end-to-end latency)
 *   -> admit (before the span: attempts counted, publisher checked)
 *   -> trace span `<label> process`
 *      -> screen (attempts used up, a redelivery to count)
 *      -> decode (the contract's codec)
 *      -> duplicate?
 *      -> handler (timed)
 *      -> settle: on success remembered done (`handled`), then acked; the pipeline's
 *         `failed` on a throw
 *
 * and stops the same way: from `stop()` on, deliveries still arriving on a shared queue go
 * back unstarted, the source cancels its consumer and waits (up to its deadline) for the
 * deliveries in hand, then the pipeline releases what it holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeMessage, type MessageName } from '@hello-rabbit/broker-config';
import { inProcessSpan, recordFailure, type Metrics } from '@hello-rabbit/runtime';
import type { AmqpMessage } from '../rascal-adapter.js';

/** One delivery as a source hands it over: the message, and how to ack it. */
export interface Delivery {
  readonly message: AmqpMessage;
  /** Acks it: it leaves the queue. */
  ack(): void;
}

/** A way of getting deliveries from the broker. */
export interface DeliverySource<D extends Delivery> {
  /**
   * Starts consuming, handing every delivery to `deliver`; resolves once the broker has
   * answered `basic.consume`.
   * @throws BrokerError when the subscription cannot be made (no permission, ...).
   */
  start(deliver: (delivery: D) => void): Promise<void>;
  /**
   * What becomes of a delivery that arrives once stop has begun: on a queue other
   * consumers share, it goes back unstarted. Unset: it is handled like any other (a
   * subscriber's own queue dies with it, so a line already here is better handled than lost).
   */
  readonly giveBack?: (delivery: D) => void;
  /**
   * Stops consuming: no new deliveries, then waits for the ones in hand (`untilSettled`
   * waits for them, up to a deadline), then releases the channel.
   */
  stop(untilSettled: (timeoutMs: number) => Promise<void>): Promise<void>;
}

/** What the engine records, labelled with the pipeline's label. */
export type EngineMetrics = Pick<
  Metrics,
  'messageDelivered' | 'messageAcked' | 'observeHandlerDuration' | 'observeEndToEndLatency'
> &
  Partial<Pick<Metrics, 'trackInFlight'>>;

/** What `admit` learns about a delivery that goes on: at least its attempt number, from 1. */
export interface Admitted {
  readonly attempt: number;
}

/** The steps where kinds of consumer differ (see the module's comment for the order). */
export interface DeliveryPipeline<D extends Delivery, A extends Admitted, C, P> {
  /** Labels the metrics and the span: the queue, or the exchange. */
  readonly label: string;
  /** The contract's message every body must be. */
  readonly message: MessageName;
  readonly metrics?: EngineMetrics | undefined;
  /** Whether its deliveries in hand count in the metrics' `consume` in-flight gauge. */
  readonly countsInFlight: boolean;
  readonly handler: (payload: P, context: C) => void | Promise<void>;
  /** Before the span: how it goes on, or undefined once settled here (set aside). */
  admit(delivery: D): A | undefined | Promise<A | undefined>;
  /** In the span, before decoding: true once settled here. */
  screen(delivery: D, admitted: A): boolean | Promise<boolean>;
  /** The body breaks the contract (`reason`, from the codec): settle it. */
  invalid(delivery: D, reason: string, admitted: A): void | Promise<void>;
  /** Decoded: true once settled here (a duplicate). */
  duplicate(delivery: D, admitted: A): boolean | Promise<boolean>;
  /** What the handler learns about the delivery. */
  context(delivery: D, admitted: A): C;
  /** A delivery handled, before its ack: remember it done. */
  handled(delivery: D): void | Promise<void>;
  /** The handler threw (the failure is already on the span and in the metrics): settle it. */
  failed(delivery: D, err: unknown, admitted: A): void | Promise<void>;
  /** Any other step threw: settle it anyway. */
  unexpected(delivery: D, err: unknown): void;
  /** Releases what the pipeline holds (a publisher), once the source has stopped. */
  close(): Promise<void>;
}

/** A consumer that runs until stopped. */
export interface RunningConsumer {
  /**
   * Stops taking deliveries: the subscription is cancelled, deliveries that arrive
   * meanwhile go back to the queue unstarted (a queue of the subscriber's own: they are
   * handled), and it resolves once the ones in hand are acked or the close timeout has
   * passed (their channel then closes and the broker requeues them).
   */
  stop(): Promise<void>;
}

/** Runs `pipeline` on every delivery of `source` until stopped; resolves once consuming. */
export async function runConsumer<D extends Delivery, A extends Admitted, C, P>(
  source: DeliverySource<D>,
  pipeline: DeliveryPipeline<D, A, C, P>,
): Promise<RunningConsumer> {
  const { label, metrics } = pipeline;
  let stopping = false;
  /** Deliveries received and not yet through the pipeline. */
  let inHand = 0;
  const untrackInFlight = pipeline.countsInFlight ? metrics?.trackInFlight?.('consume', () => inHand) : undefined;

  const run = async (delivery: D): Promise<void> => {
    const admitted = await pipeline.admit(delivery);
    if (admitted === undefined) return;
    const { messageId, headers, contentType } = delivery.message.properties;
    await inProcessSpan(label, { messageId, attempt: admitted.attempt, headers }, async (span) => {
      if (await pipeline.screen(delivery, admitted)) return;
      const decoded = decodeMessage(pipeline.message, delivery.message.content, contentType);
      if (!decoded.ok) {
        await pipeline.invalid(delivery, decoded.reason, admitted);
        return;
      }
      const duplicate = pipeline.duplicate(delivery, admitted);
      if (duplicate === true || (duplicate !== false && (await duplicate))) return;

      const started = metrics === undefined ? 0 : performance.now();
      try {
        const handled = pipeline.handler(decoded.payload as P, pipeline.context(delivery, admitted));
        // A handler that returns nothing is not awaited: no extra turn per message.
        if (handled !== undefined) await handled;
      } catch (err) {
        metrics?.observeHandlerDuration(label, (performance.now() - started) / 1000, 'failure');
        recordFailure(span, err);
        await pipeline.failed(delivery, err, admitted);
        return;
      }
      if (metrics !== undefined) {
        metrics.observeHandlerDuration(label, (performance.now() - started) / 1000, 'success');
        metrics.messageAcked(label);
      }
      // Remembered as done before the ack: a worker killed between the two leaves a task
      // done and marked, which the redelivery finds done.
      const remembered = pipeline.handled(delivery);
      if (remembered !== undefined) await remembered;
      delivery.ack();
    });
  };

  const deliver = (delivery: D) => {
    if (stopping && source.giveBack !== undefined) {
      // Prefetched but not started: back to the queue for another consumer.
      source.giveBack(delivery);
      return;
    }
    if (metrics !== undefined) {
      metrics.messageDelivered(label);
      metrics.observeEndToEndLatency(label, delivery.message.properties.timestamp);
    }
    inHand++;
    run(delivery)
      .catch((err: unknown) => {
        pipeline.unexpected(delivery, err);
      })
      .finally(() => {
        inHand--;
      });
  };

  const untilSettled = async (timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (inHand > 0 && Date.now() < until) await sleep(20);
  };

  try {
    await source.start(deliver);
  } catch (err) {
    untrackInFlight?.();
    await pipeline.close().catch(() => undefined);
    throw err;
  }

  return {
    stop: async () => {
      stopping = true;
      untrackInFlight?.();
      try {
        await source.stop(untilSettled);
      } finally {
        await pipeline.close();
      }
    },
  };
}
