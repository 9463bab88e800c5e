import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  DeadLetterReason,
  PublishFailureReason,
  type HandlerOutcome,
  type InFlightDirection,
  type Metrics,
} from './metric-events.js';

export { DeadLetterReason, PublishFailureReason };
export type { HandlerOutcome, InFlightDirection, Metrics };

const NAMESPACE = 'hello_rabbit';

/** Confirms take about a millisecond on a healthy broker, seconds on a struggling one. */
const CONFIRM_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Handlers range from printing a line to the worker's seconds per '.'. */
const HANDLER_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Whole seconds (the AMQP timestamp's resolution), up to an hour of backlog or retries. */
const END_TO_END_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Defines every metric of the producer and the consumer on `registry` (a new one unless
 * given), plus Node's default process metrics (`process_cpu_seconds_total`,
 * `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`, ...).
 * @throws when `registry` already holds these metrics.
 */
export function createMetrics(registry: Registry = new Registry()): Metrics {
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: readonly string[] = ['queue']) =>
    new Counter({ name: `${NAMESPACE}_${name}`, help, labelNames, registers });

  const published = counter(
    'messages_published_total',
    'Messages published, each counted once however many times it was resent.',
  );
  const resent = counter(
    'messages_resent_total',
    'Publishes again of a message, with the same messageId, after an attempt was not confirmed.',
  );
  const confirmed = counter('messages_confirmed_total', 'Messages the broker confirmed.');
  const returned = counter(
    'messages_returned_total',
    'Messages the broker returned as unroutable (no queue of that name).',
  );
  const publishFailed = counter(
    'messages_publish_failed_total',
    'Messages that ended without a confirm: nacked by the broker, or unconfirmed after every resend (in doubt).',
    ['queue', 'reason'],
  );
  const delivered = counter('messages_delivered_total', 'Deliveries received from the broker.');
  const acked = counter('messages_acked_total', 'Deliveries acked after their handler succeeded.');
  const retried = counter('messages_retried_total', 'Deliveries whose handler failed, sent to a retry queue.');
  const deadLettered = counter('messages_dead_lettered_total', 'Deliveries sent to the dead-letter queue, by reason.', [
    'queue',
    'reason',
  ]);
  const duplicates = counter(
    'duplicates_suppressed_total',
    'Deliveries of an already handled messageId, acked without running the handler.',
  );

  const confirmLatency = new Histogram({
    name: `${NAMESPACE}_confirm_latency_seconds`,
    help: 'Time from publishing a message to the broker confirming it.',
    labelNames: ['queue'],
    buckets: CONFIRM_BUCKETS,
    registers,
  });
  const handlerDuration = new Histogram({
    name: `${NAMESPACE}_handler_duration_seconds`,
    help: "Time the consumer's handler took for one delivery.",
    labelNames: ['queue', 'outcome'],
    buckets: HANDLER_BUCKETS,
    registers,
  });
  const endToEnd = new Histogram({
    name: `${NAMESPACE}_end_to_end_latency_seconds`,
    help: "Time from the message's AMQP timestamp (whole seconds) to its delivery.",
    labelNames: ['queue'],
    buckets: END_TO_END_BUCKETS,
    registers,
  });

  const inFlightSources = new Map<InFlightDirection, Set<() => number>>([
    ['publish', new Set()],
    ['consume', new Set()],
  ]);
  new Gauge({
    name: `${NAMESPACE}_in_flight_messages`,
    help:
      'Messages in flight: published and awaiting the broker confirm (publish), ' +
      'or delivered and not yet settled (consume).',
    labelNames: ['direction'],
    registers,
    collect() {
      for (const [direction, sources] of inFlightSources) {
        let sum = 0;
        for (const read of sources) sum += read();
        this.set({ direction }, sum);
      }
    },
  });
  const connected = new Gauge({
    name: `${NAMESPACE}_broker_connected`,
    help: '1 while the broker connection is up with its topology in place, 0 otherwise.',
    registers,
  });
  const blocked = new Gauge({
    name: `${NAMESPACE}_broker_blocked`,
    help: '1 while the broker blocks publishing on the connection (memory or disk alarm), 0 otherwise.',
    registers,
  });
  connected.set(0);
  blocked.set(0);

  collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    messagePublished: (queue) => {
      published.inc({ queue });
    },
    messageResent: (queue) => {
      resent.inc({ queue });
    },
    messageConfirmed: (queue, seconds) => {
      confirmed.inc({ queue });
      confirmLatency.observe({ queue }, seconds);
    },
    messageReturned: (queue) => {
      returned.inc({ queue });
    },
    messagePublishFailed: (queue, reason) => {
      publishFailed.inc({ queue, reason });
    },
    messageDelivered: (queue) => {
      delivered.inc({ queue });
    },
    messageAcked: (queue) => {
      acked.inc({ queue });
    },
    messageRetried: (queue) => {
      retried.inc({ queue });
    },
    messageDeadLettered: (queue, reason) => {
      deadLettered.inc({ queue, reason });
    },
    duplicateSuppressed: (queue) => {
      duplicates.inc({ queue });
    },
    observeHandlerDuration: (queue, seconds, outcome) => {
      handlerDuration.observe({ queue, outcome }, seconds);
    },
    observeEndToEndLatency: (queue, timestampSeconds, nowMs = Date.now()) => {
      if (timestampSeconds === undefined || !Number.isFinite(timestampSeconds)) return;
      // The timestamp is rounded down to the second: a message a few ms old may look up to
      // a second old, never negative.
      endToEnd.observe({ queue }, Math.max(0, nowMs / 1000 - timestampSeconds));
    },
    trackInFlight: (direction, read) => {
      const sources = inFlightSources.get(direction);
      if (sources === undefined) throw new Error(`unknown in-flight direction '${direction}'`);
      sources.add(read);
      return () => {
        sources.delete(read);
      };
    },
    setBrokerConnected: (isConnected) => {
      connected.set(isConnected ? 1 : 0);
    },
    setBrokerBlocked: (isBlocked) => {
      blocked.set(isBlocked ? 1 : 0);
    },
  };
}
