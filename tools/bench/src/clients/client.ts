/**
 * What the benchmark needs from a client library: publish one persistent message with a
 * confirm, and consume with manual acks. Each adapter does what its library's README
 * recommends, and nothing more.
 */
export interface BenchClient {
  /** Publishes one persistent message to `queue`; `done(true)` once the broker confirmed it. */
  publish(queue: string, body: Buffer, messageId: string, done: (confirmed: boolean) => void): void;
  /**
   * Consumes `queue` with manual acks and `prefetch` unacknowledged deliveries at most;
   * calls `onDelivery` with each body (bytes or, where the library decodes it, text) and
   * acks it. Resolves once the broker has started the consumer.
   */
  consume(queue: string, prefetch: number, onDelivery: (body: Buffer | string) => void): Promise<RunningConsumer>;
  close(): Promise<void>;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

/** The fixed properties every client sends: persistent, text, its own message-id. */
export const CONTENT_TYPE = 'text/plain';
