import type { EventEmitter } from 'node:events';
import type { Options } from 'amqplib';
import type { Broker } from './open-broker.js';

/** A delivery as amqplib's callback API hands it over. */
export interface AmqpMessage {
  readonly content: Buffer;
  readonly fields: { readonly exchange: string; readonly routingKey: string; readonly redelivered: boolean };
  readonly properties: {
    readonly messageId?: string;
    readonly contentType?: string;
    readonly correlationId?: string;
    readonly replyTo?: string;
    readonly headers?: Record<string, unknown>;
    readonly timestamp?: number;
  };
}

type Callback<T> = (err: unknown, ok: T) => void;

/**
 * The part of an amqplib callback-API channel (what Rascal hands out) that the exchange
 * subscriber, the exchange declaration and the RPC client use.
 */
export interface AmqpChannel extends EventEmitter {
  assertExchange(exchange: string, type: string, options: Options.AssertExchange, callback: Callback<unknown>): void;
  checkExchange(exchange: string, callback: Callback<unknown>): void;
  assertQueue(queue: string, options: Options.AssertQueue, callback: Callback<{ readonly queue: string }>): void;
  bindQueue(queue: string, source: string, pattern: string, args: Record<string, unknown>, callback: Callback<unknown>): void;
  prefetch(count: number, global: boolean, callback: Callback<unknown>): void;
  consume(
    queue: string,
    onMessage: (message: AmqpMessage | null) => void,
    options: Options.Consume,
    callback: Callback<{ readonly consumerTag: string }>,
  ): void;
  cancel(consumerTag: string, callback: Callback<unknown>): void;
  ack(message: AmqpMessage): void;
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, callback?: (err: unknown) => void): boolean;
  close(callback: (err?: unknown) => void): void;
}

/** The part of Rascal's Vhost used here (exposed by patches/rascal@21.0.1.patch). */
interface RascalVhost {
  getChannel(next: (err: Error | null | undefined, channel?: AmqpChannel) => void): void;
  getConfirmChannel(next: (err: Error | null | undefined, channel?: AmqpChannel) => void): void;
}

/**
 * Opens a channel of our own on Rascal's connection: Rascal still owns the connection and
 * its recovery. While the connection is down, this waits for Rascal to have reconnected.
 */
export function openChannel(broker: Broker, kind: 'regular' | 'confirm'): Promise<AmqpChannel> {
  const vhostName = broker.getConnections()[0]?.vhost ?? '/';
  const vhost = (broker as unknown as { getVhost(name: string): RascalVhost | undefined }).getVhost(vhostName);
  if (vhost === undefined) return Promise.reject(new Error('the broker has no vhost'));
  return new Promise<AmqpChannel>((resolve, reject) => {
    const done = (err: Error | null | undefined, channel?: AmqpChannel) => {
      if (err || channel === undefined) reject(err ?? new Error('the connection is shutting down'));
      else resolve(channel);
    };
    if (kind === 'confirm') vhost.getConfirmChannel(done);
    else vhost.getChannel(done);
  });
}

/** Runs one callback-API channel operation as a promise. */
export function call<T>(operation: (callback: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    operation((err, ok) => {
      if (err === null || err === undefined) resolve(ok);
      else reject(err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'the channel operation failed'));
    });
  });
}

/** Closes a channel, whatever state it is in. */
export function closeChannel(channel: AmqpChannel): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      channel.close(() => {
        resolve();
      });
    } catch {
      // Already closed (amqplib throws on a closed channel).
      resolve();
    }
  });
}
