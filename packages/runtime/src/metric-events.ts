import type { Registry } from 'prom-client';

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
