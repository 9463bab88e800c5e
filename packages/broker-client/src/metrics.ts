import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Why a publish ended without the broker having the message (the `reason` label of
 * `hello_rabbit_messages_publish_failed_total`).
 */
export const PublishFailureReason = {
  /** The broker refused it (basic.nack), e.g. a full queue with `x-overflow: reject-publish`. */
  nacked: 'nacked',
  /** No confirm came in time, or the connection or channel was lost first: in doubt. */
  unconfirmed: 'unconfirmed',
} as const;
export type PublishFailureReason = (typeof PublishFailureReason)[keyof typeof PublishFailureReason];

/**
 * Why a message was dead-lettered (the `reason` label of
 * `hello_rabbit_messages_dead_lettered_total`). A small fixed set, so that the label stays
 * bounded: the full reason is in the message's `x-dead-letter-reason` header and the log.
 */
export const DeadLetterReason = {
  /** The body breaks the contract (encoding, content type, size, schema). */
  invalid: 'invalid',
  /** Its recovery headers (`x-death`, `x-redeliveries`) are malformed. */
  malformedHeaders: 'malformed_headers',
  /** The handler failed and the queue has no retries (`hello`). */
  handlerFailed: 'handler_failed',
  /** Every attempt was used: failures and crashes together reached `MAX_ATTEMPTS`. */
  maxAttempts: 'max_attempts',
  /** Its publisher (the AMQP `user-id`, checked by the broker) is not one the queue accepts. */
  untrustedPublisher: 'untrusted_publisher',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** Which side of the broker a message in flight is on (the `direction` label of the gauge). */
export type InFlightDirection = 'publish' | 'consume';

/** How a handler run ended (the `outcome` label of the handler duration). */
export type HandlerOutcome = 'success' | 'failure';

/**
 * Every metric of both apps, on one registry, with a method per event. Names and labels
 * follow Prometheus' conventions: a `hello_rabbit_` namespace, `_total` on counters, base
 * units (seconds) in the name, and only bounded labels (`queue` is a contract queue name,
 * `reason` one of a fixed set).
 */
export interface Metrics {
  readonly registry: Registry;
  /** The exposition format's content type, for the `/metrics` response. */
  readonly contentType: string;
  /** The exposition text of every metric. */
  render(): Promise<string>;

  /** A message was published for the first time (its resends count in `messageResent`). */
  messagePublished(queue: string): void;
  /** A message was published again, with the same messageId, after an attempt failed. */
  messageResent(queue: string): void;
  /** The broker confirmed a message, `seconds` after the confirmed attempt was published. */
  messageConfirmed(queue: string, seconds: number): void;
  /** The broker returned a message as unroutable (mandatory flag: no such queue). */
  messageReturned(queue: string): void;
  /** A message ended without the broker having it (after every resend). */
  messagePublishFailed(queue: string, reason: PublishFailureReason): void;

  /** A delivery arrived. */
  messageDelivered(queue: string): void;
  /** A delivery was acked once handled (duplicates and dead letters are counted apart). */
  messageAcked(queue: string): void;
  /** A failed delivery went to a retry queue. */
  messageRetried(queue: string): void;
  /** A delivery went to its dead-letter queue. */
  messageDeadLettered(queue: string, reason: DeadLetterReason): void;
  /** A delivery whose messageId was handled before was acked without running the handler. */
  duplicateSuppressed(queue: string): void;
  /** The handler took `seconds`. */
  observeHandlerDuration(queue: string, seconds: number, outcome: HandlerOutcome): void;
  /**
   * From the message's AMQP `timestamp` (seconds since the epoch, as the publisher set it)
   * to now. Whole seconds only: the AMQP timestamp has no finer resolution. A message
   * without a timestamp is not observed.
   */
  observeEndToEndLatency(queue: string, timestampSeconds: number | undefined, nowMs?: number): void;

  /**
   * Adds a source of messages in flight, read at each scrape (the gauge is their sum).
   * @returns a function that removes it.
   */
  trackInFlight(direction: InFlightDirection, read: () => number): () => void;
  /** Whether the broker connection is up (with its topology in place). */
  setBrokerConnected(connected: boolean): void;
  /** Whether the broker blocks publishing on this connection (a memory or disk alarm). */
  setBrokerBlocked(blocked: boolean): void;
}

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

  const published = counter('messages_published_total', 'Messages published, each counted once however many times it was resent.');
  const resent = counter('messages_resent_total', 'Publishes again of a message, with the same messageId, after an attempt was not confirmed.');
  const confirmed = counter('messages_confirmed_total', 'Messages the broker confirmed.');
  const returned = counter('messages_returned_total', 'Messages the broker returned as unroutable (no queue of that name).');
  const publishFailed = counter(
    'messages_publish_failed_total',
    'Messages that ended without a confirm: nacked by the broker, or unconfirmed after every resend (in doubt).',
    ['queue', 'reason'],
  );
  const delivered = counter('messages_delivered_total', 'Deliveries received from the broker.');
  const acked = counter('messages_acked_total', 'Deliveries acked after their handler succeeded.');
  const retried = counter('messages_retried_total', 'Deliveries whose handler failed, sent to a retry queue.');
  const deadLettered = counter('messages_dead_lettered_total', 'Deliveries sent to the dead-letter queue, by reason.', ['queue', 'reason']);
  const duplicates = counter('duplicates_suppressed_total', 'Deliveries of an already handled messageId, acked without running the handler.');

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
    help: 'Messages in flight: published and awaiting the broker confirm (publish), or delivered and not yet settled (consume).',
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
