import type { EventEmitter } from 'node:events';
import type { Broker } from './open-broker.js';

/** What the broker sends back with basic.return. */
interface ReturnedMessage {
  readonly fields: { readonly replyText: string; readonly routingKey: string };
}

/** How one publish ended. Only `confirmed` means the broker has the message. */
export type PublishOutcome =
  | { readonly status: 'confirmed'; readonly messageId: string }
  | { readonly status: 'returned'; readonly messageId: string; readonly reason: string }
  | { readonly status: 'nacked'; readonly messageId: string; readonly reason: string }
  | { readonly status: 'failed'; readonly messageId: string; readonly reason: string };

export interface PublishOptions {
  readonly messageId: string;
  readonly contentType?: string | undefined;
  readonly headers?: Readonly<Record<string, unknown>>;
  /** Who publishes, as AMQP `app-id`. */
  readonly appId?: string;
  /** Per-message TTL in ms (AMQP `expiration`): the retry wait queues use it. */
  readonly expiration?: number;
  /** The outcome is `failed` when no confirm came within this time. */
  readonly timeoutMs: number;
}

/**
 * Publishes one message through a confirmed Rascal publication and resolves once its fate
 * is known: the first of the broker's confirm, a return (unroutable), a nack, a channel or
 * connection error, or the timeout. It settles exactly once, whatever Rascal emits
 * afterwards, and never rejects.
 */
export function publishConfirmed(
  broker: Broker,
  publication: string,
  content: Buffer,
  options: PublishOptions,
): Promise<PublishOutcome> {
  const { messageId, timeoutMs } = options;

  return new Promise((resolve) => {
    let settled = false;
    let abort: (() => void) | undefined;
    const settle = (outcome: PublishOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      // A publication still waiting for a channel (the connection is down) is dropped
      // rather than sent later: the caller decides whether to publish it again.
      abort?.();
      settle({ status: 'failed', messageId, reason: `no confirm from the broker within ${timeoutMs} ms` });
    }, timeoutMs);

    broker
      .publish(publication, content, {
        options: {
          messageId,
          ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
          ...(options.headers === undefined ? {} : { headers: { ...options.headers } }),
          ...(options.appId === undefined ? {} : { appId: options.appId }),
          ...(options.expiration === undefined ? {} : { expiration: String(options.expiration) }),
          // AMQP timestamps are in seconds.
          timestamp: Math.floor(Date.now() / 1000),
        },
      })
      .then(
        (rascalSession) => {
          // Listened to as a plain emitter: @types/rascal lists neither 'close' (emitted
          // when the channel closes cleanly mid-publish) nor the return's fields we read.
          const session = rascalSession as EventEmitter;
          abort = () => {
            rascalSession.abort();
          };
          // The broker sends basic.return before the basic.ack of an unroutable message,
          // so 'return' wins over the 'success' that follows it.
          session.on('return', (message: ReturnedMessage) => {
            settle({
              status: 'returned',
              messageId,
              reason: `returned by the broker: ${message.fields.replyText} (no queue for routing key '${message.fields.routingKey}')`,
            });
          });
          session.on('success', () => {
            settle({ status: 'confirmed', messageId });
          });
          session.on('error', (err: Error) => {
            settle(
              /nack/i.test(err.message)
                ? { status: 'nacked', messageId, reason: 'rejected by the broker (basic.nack)' }
                : { status: 'failed', messageId, reason: err.message },
            );
          });
          session.on('close', () => {
            settle({ status: 'failed', messageId, reason: 'the channel closed before the broker confirmed' });
          });
        },
        (err: unknown) => {
          settle({ status: 'failed', messageId, reason: err instanceof Error ? err.message : String(err) });
        },
      );
  });
}
