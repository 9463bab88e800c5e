import { channelError } from './broker-errors.js';
import type { Logger } from '@hello-rabbit/runtime';
import {
  closeChannel,
  openChannel,
  type AmqpChannel,
  type Broker,
  type PublishProperties,
  type ReturnedMessage,
} from './rascal-adapter.js';
import { publishSpanIfTracing, type PublishSpan } from '@hello-rabbit/runtime';

/** How one publish ended. Only `confirmed` means the broker has the message. */
export type PublishOutcome =
  | { readonly status: 'confirmed'; readonly messageId: string }
  | { readonly status: 'returned'; readonly messageId: string; readonly reason: string }
  | { readonly status: 'nacked'; readonly messageId: string; readonly reason: string }
  | { readonly status: 'failed'; readonly messageId: string; readonly reason: string };

/** One message's properties and how long its confirm may take. */
export interface PublishOptions {
  readonly messageId: string;
  /** AMQP `content-type`, as the contract's codec says. @default none */
  readonly contentType?: string | undefined;
  /** AMQP headers (a trace's `traceparent` is added when tracing). @default none */
  readonly headers?: Readonly<Record<string, unknown>>;
  /** Who publishes, as AMQP `app-id`. @default none */
  readonly appId?: string;
  /** Per-message TTL in ms (AMQP `expiration`): the retry wait queues use it. @default none: no TTL */
  readonly expiration?: number | undefined;
  /** AMQP `correlation-id`: an RPC reply carries its request's. @default none */
  readonly correlationId?: string | undefined;
  /**
   * The `mandatory` flag: an unroutable message comes back (`returned`). Off only for a
   * reply to direct reply-to (`amq.rabbitmq.reply-to.*`), which RabbitMQ 3.10 returns as
   * unroutable even when it delivered it. @default true
   */
  readonly mandatory?: boolean;
  /** The outcome is `failed` when no confirm came within this time. */
  readonly timeoutMs: number;
}

/** How `createPublisher` publishes. */
export interface PublisherOptions {
  readonly logger: Logger;
  /** Messages published and not yet confirmed, at most: the memory cap and the back-pressure. @default 1000 */
  readonly maxInFlight?: number;
  /**
   * The AMQP `user-id` of every message: the user the connection logged in as. The broker
   * checks it (a message claiming another user is refused), so a consumer can trust it to
   * tell who published. @default not set
   */
  readonly userId?: string | undefined;
}

/** Publishes to queues and exchanges, many messages in flight on one confirm channel. */
export interface Publisher {
  /**
   * Publishes one message (persistent, mandatory) and resolves once its fate is known:
   * confirmed, returned (unroutable), nacked, or failed (channel or connection lost, not
   * connected, no confirm within `timeoutMs`). Waits first while `maxInFlight` messages
   * await their confirm. Never rejects.
   */
  publish(queue: string, content: Buffer, options: PublishOptions): Promise<PublishOutcome>;
  /**
   * The same, to `exchange` with `routingKey` (which must exist: see `declareExchange`). A
   * message that no queue is bound for comes back: its outcome is `returned`.
   */
  publishTo(exchange: string, routingKey: string, content: Buffer, options: PublishOptions): Promise<PublishOutcome>;
  /** Messages published and awaiting their confirm. */
  readonly inFlight: number;
  /** Waits for the messages in flight to settle, then closes the channel. */
  close(): Promise<void>;
}

/**
 * The part of a confirm channel the publisher uses: Rascal's (callback API) and a plain
 * amqplib connection's (promise API) both have it, `publish` taking the confirm callback.
 */
export type ConfirmChannel = Pick<AmqpChannel, 'publish' | 'on' | 'once'>;

/** Where a publisher gets its confirm channel, and how it closes one. */
export interface ConfirmChannelSource<C extends ConfirmChannel = ConfirmChannel> {
  /** A new confirm channel; rejects while there is no connection. */
  open(): Promise<C>;
  /** Closes a channel, whatever state it is in; never rejects. */
  close(channel: C): Promise<void>;
}

/** A publisher that can also publish a message with the properties given, as they are. */
export interface ConfirmedPublisher extends Publisher {
  /**
   * Publishes to `queue` through the default exchange with exactly `properties` (a copy of
   * another message: its messageId, timestamp and headers, none when it had none), only made
   * persistent and mandatory; the outcome as `publish`'s (its `messageId` is '' when the
   * message has none). Never rejects.
   */
  publishAsGiven(
    queue: string,
    content: Buffer,
    properties: PublishProperties,
    timeoutMs: number,
  ): Promise<PublishOutcome>;
}

interface Pending {
  readonly seq: number;
  readonly messageId: string;
  /** The messageId on the wire, which a basic.return carries back (none for some copies). */
  readonly returnKey: unknown;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly channel: ConfirmChannel;
  readonly resolve: (outcome: PublishOutcome) => void;
  /** Undefined without a tracing SDK. */
  readonly span: PublishSpan | undefined;
  returned?: string;
}

/**
 * A pipelined confirmed publisher. Rascal still owns the connection, its recovery and the
 * topology; the publisher keeps one confirm channel of its own on Rascal's connection and
 * writes every message straight to it, the broker confirming them as they come: no
 * channel borrowed per message, no per-message configuration merge, no listener per
 * message. When the connection is lost, every message in flight fails (the caller
 * publishes it again) and the next publish opens a channel on the new connection.
 */
export function createPublisher(broker: Broker, options: PublisherOptions): Publisher {
  return createConfirmedPublisher({ open: () => openChannel(broker, 'confirm'), close: closeChannel }, options);
}

/**
 * The publisher of `createPublisher`, on confirm channels from `source`: Rascal's
 * connection, or a plain connection (see `openQueueBrowser`). Same pipeline, same
 * confirm, return, nack and timeout handling.
 */
export function createConfirmedPublisher<C extends ConfirmChannel>(
  source: ConfirmChannelSource<C>,
  options: PublisherOptions,
): ConfirmedPublisher {
  const { logger } = options;
  const maxInFlight = options.maxInFlight ?? 1000;

  // Insertion order is publish order: the oldest entries come first when checking timeouts.
  const pending = new Map<number, Pending>();
  let nextSeq = 0;
  const slotWaiters: (() => void)[] = [];
  let channel: C | undefined;
  let opening: Promise<C> | undefined;
  let drained: Promise<void> | undefined;
  let closed = false;

  /** Why the broker closed a channel, when it refused something on it. */
  const refusals = new WeakMap<ConfirmChannel, string>();

  const settle = (entry: Pending, outcome: PublishOutcome) => {
    if (!pending.delete(entry.seq)) return;
    slotWaiters.shift()?.();
    entry.span?.end(outcome.status === 'confirmed', outcome.status === 'confirmed' ? undefined : outcome.reason);
    entry.resolve(outcome);
  };

  const failAll = (on: ConfirmChannel, reason: string) => {
    for (const entry of [...pending.values()]) {
      if (entry.channel === on) settle(entry, { status: 'failed', messageId: entry.messageId, reason });
    }
  };

  const openConfirmChannel = (): Promise<C> => {
    opening ??= source.open().then(
      (ch) => {
        opening = undefined;
        const lost = (why: string) => () => {
          if (channel === ch) channel = undefined;
          failAll(ch, refusals.get(ch) ?? why);
        };
        ch.on('error', (e: Error) => {
          // A refusal (403: no write permission on the exchange; 404: no such exchange)
          // is what the messages in flight failed of: say so, not just "channel closed".
          const refusal = channelError(e);
          if (refusal !== undefined) refusals.set(ch, refusal.message);
          logger.warn({ err: e }, 'publisher channel error');
        });
        ch.on('close', lost('the channel closed before the broker confirmed'));
        ch.on('return', (message: ReturnedMessage) => {
          // Returns are rare: finding the message by its id (the oldest one not yet
          // returned, should two share it) costs nothing on the confirmed path.
          const { messageId } = message.properties;
          let entry: Pending | undefined;
          for (const candidate of pending.values()) {
            if (candidate.channel === ch && candidate.returnKey === messageId && candidate.returned === undefined) {
              entry = candidate;
              break;
            }
          }
          // basic.return comes before the basic.ack of the same message: remember it.
          if (entry !== undefined) {
            const { replyText, exchange, routingKey } = message.fields;
            entry.returned =
              exchange === ''
                ? `returned by the broker: ${replyText} (no queue for routing key '${routingKey}')`
                : `returned by the broker: ${replyText} ` +
                  `(no queue bound to exchange '${exchange}' for routing key '${routingKey}')`;
          }
        });
        channel = ch;
        return ch;
      },
      (err: unknown) => {
        opening = undefined;
        throw err;
      },
    );
    return opening;
  };

  // One timer for every timeout: the oldest pending message is checked first.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const entry of pending.values()) {
      if (entry.deadline > now) break;
      settle(entry, {
        status: 'failed',
        messageId: entry.messageId,
        reason: `no confirm from the broker within ${entry.timeoutMs} ms`,
      });
    }
  }, 100);
  sweep.unref();

  /** Writes one message on `ch` and resolves once its fate is known. */
  const send = (
    ch: ConfirmChannel,
    exchange: string,
    routingKey: string,
    content: Buffer,
    publishOptions: PublishOptions,
    span: PublishSpan | undefined,
    asGiven: PublishProperties | undefined,
  ) =>
    new Promise<PublishOutcome>((resolve) => {
      const { messageId, timeoutMs } = publishOptions;
      const now = Date.now();
      const properties: PublishProperties = asGiven ?? {
        messageId,
        persistent: true,
        mandatory: publishOptions.mandatory ?? true,
        timestamp: Math.floor(now / 1000),
        contentType: publishOptions.contentType,
        appId: publishOptions.appId,
        userId: options.userId,
        headers: span === undefined ? publishOptions.headers : span.headers,
        expiration: publishOptions.expiration,
        correlationId: publishOptions.correlationId,
      };
      const entry: Pending = {
        seq: nextSeq++,
        messageId,
        returnKey: properties.messageId,
        deadline: now + timeoutMs,
        timeoutMs,
        channel: ch,
        resolve,
        span,
      };
      pending.set(entry.seq, entry);
      try {
        const ok = ch.publish(exchange, routingKey, content, properties, (err: unknown) => {
          if (err === null || err === undefined) {
            settle(
              entry,
              entry.returned === undefined
                ? { status: 'confirmed', messageId }
                : { status: 'returned', messageId, reason: entry.returned },
            );
          } else {
            const message = refusals.get(ch) ?? (err instanceof Error ? err.message : 'the broker did not confirm');
            settle(
              entry,
              /nack/i.test(message)
                ? { status: 'nacked', messageId, reason: 'rejected by the broker (basic.nack)' }
                : { status: 'failed', messageId, reason: message },
            );
          }
        });
        if (!ok && drained === undefined) {
          // The socket's buffer is full: later publishes wait until it drains.
          drained = new Promise<void>((resolveDrain) => {
            ch.once('drain', () => {
              drained = undefined;
              resolveDrain();
            });
            ch.once('close', () => {
              drained = undefined;
              resolveDrain();
            });
          });
        }
      } catch (err) {
        // amqplib throws when the channel is already closing.
        if (channel === ch) channel = undefined;
        settle(entry, { status: 'failed', messageId, reason: err instanceof Error ? err.message : String(err) });
      }
    });

  /** The slow path: waits for a slot, for the socket to drain, or for a channel. */
  const publishWhenReady = async (
    exchange: string,
    routingKey: string,
    content: Buffer,
    publishOptions: PublishOptions,
    span: PublishSpan | undefined,
    asGiven: PublishProperties | undefined,
  ): Promise<PublishOutcome> => {
    const { messageId, timeoutMs } = publishOptions;
    while (pending.size >= maxInFlight) await new Promise<void>((resolve) => slotWaiters.push(resolve));
    if (drained !== undefined) await drained;
    let ch: ConfirmChannel;
    try {
      ch = channel ?? (await withTimeout(openConfirmChannel(), timeoutMs));
    } catch (err) {
      // Let I/O and timers run: a caller that publishes again at once must not spin.
      await new Promise((resolve) => setImmediate(resolve));
      const reason = `not connected: ${err instanceof Error ? err.message : String(err)}`;
      span?.end(false, reason);
      return { status: 'failed', messageId, reason };
    }
    return send(ch, exchange, routingKey, content, publishOptions, span, asGiven);
  };

  const publishTo = (
    exchange: string,
    routingKey: string,
    content: Buffer,
    publishOptions: PublishOptions,
    asGiven?: PublishProperties,
  ): Promise<PublishOutcome> => {
    if (closed)
      return Promise.resolve({
        status: 'failed',
        messageId: publishOptions.messageId,
        reason: 'the publisher is closed',
      });
    // The span covers the wait for a slot too: it is part of what the caller waits for.
    const span = publishSpanIfTracing(
      exchange === '' ? routingKey : exchange,
      publishOptions.messageId,
      publishOptions.headers,
    );
    // The fast path (a channel, a free slot, a socket taking bytes) allocates no async frame.
    if (channel !== undefined && pending.size < maxInFlight && slotWaiters.length === 0 && drained === undefined) {
      return send(channel, exchange, routingKey, content, publishOptions, span, asGiven);
    }
    return publishWhenReady(exchange, routingKey, content, publishOptions, span, asGiven);
  };

  return {
    // Through the default exchange: the routing key is the queue's name.
    publish: (queue, content, publishOptions) => publishTo('', queue, content, publishOptions),
    publishTo: (exchange, routingKey, content, publishOptions) =>
      publishTo(exchange, routingKey, content, publishOptions),
    publishAsGiven: (queue, content, properties, timeoutMs) =>
      publishTo(
        '',
        queue,
        content,
        { messageId: properties.messageId ?? '', timeoutMs },
        { ...properties, persistent: true, mandatory: true },
      ),
    get inFlight() {
      return pending.size;
    },
    close: async () => {
      closed = true;
      while (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(sweep);
      const ch = channel;
      channel = undefined;
      if (ch !== undefined) await source.close(ch);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no channel within ${ms} ms`));
    }, ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
