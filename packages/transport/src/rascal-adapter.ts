/**
 * The one module that knows Rascal: it creates Rascal's broker, subscribes through it, and
 * reaches its one extension point. Everything else in the transport (and nothing outside
 * it) sees the `Broker` below, channels as `AmqpChannel`, and subscriptions as
 * `QueueSession`. An upgrade of Rascal is checked here and in `patches/` only.
 *
 * The extension point is `getVhost`, added by `patches/rascal@21.0.1.patch` (see
 * docs/upstream.md, where it is drafted as a feature request): the vhost that owns the
 * connection hands out channels on it. The transport's own channels (the pipelined
 * confirmed publisher, exchange subscribers, the RPC client, exchange declarations) live on
 * Rascal's connection that way, so Rascal stays the owner of the connection, its recovery
 * and the topology.
 */
import { EventEmitter } from 'node:events';
import type { Options } from 'amqplib';
import rascal from 'rascal';
import { coalesceAcks } from './coalesce-acks.js';
import { coalesceWrites } from './coalesce-writes.js';

type Callback<T> = (err: unknown, ok: T) => void;

/** A delivery as amqplib's callback API hands it over. */
export interface AmqpMessage {
  readonly content: Buffer;
  readonly fields: {
    readonly exchange: string;
    readonly routingKey: string;
    readonly redelivered: boolean;
    readonly deliveryTag: number;
  };
  readonly properties: {
    readonly messageId?: string | undefined;
    readonly contentType?: string | undefined;
    readonly correlationId?: string | undefined;
    readonly replyTo?: string | undefined;
    readonly headers?: Record<string, unknown> | undefined;
    readonly timestamp?: number | undefined;
    readonly userId?: string | undefined;
  };
}

/** What the broker sends back with basic.return. */
export interface ReturnedMessage {
  readonly fields: { readonly replyText: string; readonly exchange: string; readonly routingKey: string };
  readonly properties: { readonly messageId?: unknown };
}

/** amqplib's publish options; amqplib takes one that is undefined as one not given. */
export type PublishProperties = { readonly [K in keyof Options.Publish]?: Options.Publish[K] | undefined };

/**
 * The part of an amqplib callback-API channel (what Rascal hands out) the transport uses:
 * a confirm channel's `publish` takes the confirm callback.
 */
export interface AmqpChannel extends EventEmitter {
  readonly connection?: unknown;
  assertExchange(exchange: string, type: string, options: Options.AssertExchange, callback: Callback<unknown>): void;
  checkExchange(exchange: string, callback: Callback<unknown>): void;
  assertQueue(queue: string, options: Options.AssertQueue, callback: Callback<{ readonly queue: string }>): void;
  bindQueue(
    queue: string,
    source: string,
    pattern: string,
    args: Record<string, unknown>,
    callback: Callback<unknown>,
  ): void;
  prefetch(count: number, global: boolean, callback: Callback<unknown>): void;
  consume(
    queue: string,
    onMessage: (message: AmqpMessage | null) => void,
    options: Options.Consume,
    callback: Callback<{ readonly consumerTag: string }>,
  ): void;
  cancel(consumerTag: string, callback: Callback<unknown>): void;
  ack(message: AmqpMessage, allUpTo?: boolean): void;
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: PublishProperties,
    callback?: (err: unknown) => void,
  ): boolean;
  close(callback: (err?: unknown) => void): void;
}

type ChannelCallback = (err: Error | null | undefined, channel?: AmqpChannel) => void;

/** The part of Rascal's Vhost the transport uses (see the module's comment). */
interface RascalVhost {
  getChannel(next: ChannelCallback): void;
  getConfirmChannel(next: ChannelCallback): void;
  /** The node Rascal tries first when it reconnects (an index into its connections). */
  connectionIndex: number;
  on(event: 'disconnect', listener: () => void): unknown;
}

declare module 'rascal' {
  interface BrokerAsPromised {
    /** Added by patches/rascal@21.0.1.patch: the vhost that owns the connection. */
    getVhost?(name: string): RascalVhost | undefined;
  }
}

/** What the broker emits about the connection (see `Broker`). */
export type BrokerEvent = 'connect' | 'disconnect' | 'blocked' | 'unblocked' | 'error';

/**
 * An open connection to the broker, the contract's topology in place (see `openBroker`).
 * Rascal owns it: on a lost connection it reconnects (the next node first, on a cluster),
 * asserts the topology again and resubscribes.
 *
 * Events: `disconnect` (lost, and again at each failed attempt), `connect` (back, the
 * topology asserted), `blocked(reason)` / `unblocked` (a resource alarm), `error(err)`.
 */
export interface Broker {
  /** The vhost it is connected to. */
  readonly vhost: string;
  on(event: 'connect' | 'disconnect' | 'unblocked', listener: () => void): this;
  on(event: 'blocked', listener: (reason: unknown) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  once(event: 'connect' | 'disconnect' | 'unblocked', listener: () => void): this;
  once(event: 'blocked', listener: (reason: unknown) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  off(event: 'connect' | 'disconnect' | 'unblocked', listener: () => void): this;
  off(event: 'blocked', listener: (reason: unknown) => void): this;
  off(event: 'error', listener: (err: Error) => void): this;
  /**
   * Cancels every queue subscription (waiting up to their close timeout for the deliveries
   * in hand), then closes every channel and the connection.
   */
  shutdown(): Promise<void>;
}

interface Internals {
  readonly rascal: rascal.BrokerAsPromised;
  readonly vhost: RascalVhost;
  /** Called with every channel Rascal's vhost hands out (see `watchChannels`). */
  readonly channelWatchers: ((channel: AmqpChannel) => void)[];
}

const internals = new WeakMap<Broker, Internals>();

class RascalBackedBroker extends EventEmitter implements Broker {
  constructor(
    readonly vhost: string,
    private readonly rascalBroker: rascal.BrokerAsPromised,
  ) {
    super();
    for (const event of ['connect', 'disconnect', 'blocked', 'unblocked'] as const) {
      rascalBroker.on(event, (...args: unknown[]) => this.emit(event, ...args));
    }
    // Rascal's broker always has an error listener (openBroker logs there); this one only
    // passes errors on to whoever listens here, never throwing for want of a listener.
    rascalBroker.on('error', (err: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  shutdown(): Promise<void> {
    return this.rascalBroker.shutdown();
  }
}

/** Rascal's configuration type, as the contract builds its part of it. */
export type RascalConfig = rascal.BrokerConfig;

/**
 * Creates Rascal's broker: it connects (going round the nodes given), asserts the topology
 * and hands the connection over as a `Broker`. Every connection it opens from then on
 * writes each turn's frames in one system call (see coalesce-writes.ts), every channel that
 * consumes with manual acks sends each turn's acks in as few frames as it can (see
 * coalesce-acks.ts); on a cluster, a lost connection is retried on the next node first.
 */
export async function createRascalBroker(config: RascalConfig, vhostName: string, nodes: number): Promise<Broker> {
  const created = await rascal.BrokerAsPromised.create(rascal.withDefaultConfig(config));
  const vhost = created.getVhost?.(vhostName);
  if (vhost === undefined) {
    await created.shutdown().catch(() => undefined);
    throw new Error('this Rascal has no getVhost: is patches/rascal@21.0.1.patch applied?');
  }
  const channelWatchers: ((channel: AmqpChannel) => void)[] = [
    (channel) => coalesceWrites(channel.connection),
    (channel) => coalesceAcks(channel),
  ];
  watchVhostChannels(vhost, channelWatchers);
  if (nodes > 1) moveOnAfterLoss(vhost, nodes);
  const broker = new RascalBackedBroker(vhostName, created);
  internals.set(broker, { rascal: created, vhost, channelWatchers });
  return broker;
}

function internalsOf(broker: Broker): Internals {
  const found = internals.get(broker);
  if (found === undefined) throw new Error('not a broker opened by the transport (openBroker)');
  return found;
}

/**
 * Listens to Rascal's broker itself: the events it emits that `Broker` does not pass on,
 * and before anyone else (openBroker's log lines).
 */
export function onRascalEvent(broker: Broker, event: BrokerEvent, listener: (arg: never) => void): void {
  internalsOf(broker).rascal.on(event, listener as (arg: unknown) => void);
}

/** `host:port` of the node Rascal is connected to now (from its password-free URL). */
export function connectedNode(broker: Broker): string | undefined {
  const [details] = internalsOf(broker).rascal.getConnections() as { connectionUrl?: string }[];
  if (details?.connectionUrl === undefined) return undefined;
  try {
    const url = new URL(details.connectionUrl);
    return `${url.hostname}:${url.port === '' ? (url.protocol === 'amqps:' ? '5671' : '5672') : url.port}`;
  } catch {
    return undefined;
  }
}

/**
 * Opens a channel of the transport's own on Rascal's connection: Rascal still owns the
 * connection and its recovery. While the connection is down, this waits for Rascal to have
 * reconnected.
 */
export function openChannel(broker: Broker, kind: 'regular' | 'confirm'): Promise<AmqpChannel> {
  const { vhost } = internalsOf(broker);
  return new Promise<AmqpChannel>((resolve, reject) => {
    const done: ChannelCallback = (err, channel) => {
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
      else
        reject(err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'the channel operation failed'));
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

/**
 * How a queue subscription's delivery ends, as Rascal's `ackOrNack`: no arguments acks; an
 * error nacks, with the recovery strategy given (`nack` with `requeue`, and a `defer` in ms
 * before it goes back).
 */
export type Settle = (
  err?: Error,
  recovery?: { readonly strategy: 'nack'; readonly requeue?: boolean; readonly defer?: number },
) => void;

/** A subscription to one of the contract's queues (Rascal's SubscriberSessionAsPromised). */
export interface QueueSession {
  on(event: 'message', listener: (message: AmqpMessage, content: unknown, settle: Settle) => void): this;
  on(event: 'invalid_content', listener: (err: Error, message: AmqpMessage, settle: Settle) => void): this;
  on(event: 'error' | 'cancelled', listener: (err: Error) => void): this;
  once(event: 'subscribed', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  /** Cancels the consumer, waiting (up to the subscription's close timeout) for deliveries in hand. */
  cancel(): Promise<void>;
}

/** Subscribes (through Rascal) to a subscription of the contract, by name. */
export async function subscribeQueue(broker: Broker, subscription: string): Promise<QueueSession> {
  const session = await internalsOf(broker).rascal.subscribe(subscription);
  return session;
}

/**
 * Calls `watcher` with every channel Rascal hands out from now on (its subscriptions', the
 * transport's own), before whoever asked for it gets it. Tests count frames this way.
 */
export function watchChannels(broker: Broker, watcher: (channel: AmqpChannel) => void): void {
  internalsOf(broker).channelWatchers.push(watcher);
}

/**
 * Every channel Rascal's vhost hands out from now on (subscriptions, the transport's own)
 * is shown to each watcher first: the first one makes its connection coalesce its writes
 * (the connection after a reconnect too, since each new channel is checked), the second
 * makes the channel coalesce its acks once it consumes with manual acks.
 */
function watchVhostChannels(vhost: RascalVhost, watchers: readonly ((channel: AmqpChannel) => void)[]): void {
  for (const method of ['getChannel', 'getConfirmChannel'] as const) {
    const original = vhost[method].bind(vhost);
    vhost[method] = (next) => {
      original((err, channel) => {
        if (channel !== undefined) for (const watch of watchers) watch(channel);
        next(err, channel);
      });
    };
  }
}

/**
 * On a cluster, a lost connection is retried on the NEXT node first: the one that just
 * dropped it is likely down or cut off, and trying it first would cost a connect timeout
 * when it is a black hole. Rascal reconnects from `connectionIndex`, read right after it
 * emits 'disconnect' (synchronously), and goes round every node from there.
 */
function moveOnAfterLoss(vhost: RascalVhost, nodes: number): void {
  if (typeof vhost.connectionIndex !== 'number') return;
  vhost.on('disconnect', () => {
    vhost.connectionIndex = (vhost.connectionIndex + 1) % nodes;
  });
}
