/**
 * One ack frame per turn of the event loop, instead of one per message, on a channel that
 * consumes with manual acks.
 *
 * An ack made during a turn is held until the end of it (`process.nextTick`). Then every
 * held ack whose delivery tag is below the lowest delivery still in progress on the channel
 * goes out as ONE basic.ack with multiple=true (the highest of them), and the others, above
 * a delivery still in hand, one by one. The broker handles one frame (on a quorum queue, one
 * settle command through Raft) where it handled hundreds; what it is told is the same.
 *
 * A multiple ack settles every unsettled delivery up to its tag, so it is only safe while
 * this knows every delivery of the channel: the consume callback (and `get`) is wrapped to
 * see each one arrive, and every way a delivery is settled (ack, ackAll, nack, nackAll,
 * reject) passes through here. Held acks go out before any nack, ackAll, nackAll or reject,
 * before cancel and before close, so the broker sees them in the order they were made.
 * When the channel closed meanwhile they are dropped: the broker requeues every delivery it
 * was not told about, as it would have for an ack sent a moment later.
 *
 * It is installed when the channel first consumes (or gets) with manual acks, wrapping the
 * channel's methods as they are then. Until then only `consume` and `get` are wrapped, and
 * pass straight through: a publisher's channel (which never consumes) and one that only
 * consumes with noAck (direct reply-to) keep amqplib's ack, publish and confirm paths as
 * they are. Whether the channel is a confirm channel does not matter: Rascal 21.0.1 hands
 * out confirm channels only (its channel queue passes `{ confirm: false }`, an object, as
 * the `confirm` flag), its subscriptions' included.
 *
 * This reaches nothing private: only the callback-API channel methods of amqplib, pinned in
 * the catalog. Rascal calls `channel.ack(message)` on its subscription's channel, so this
 * took the place of the ack coalescing once patched into Rascal (see docs/upstream.md).
 */

interface Delivery {
  readonly fields: { readonly deliveryTag: number };
}

type Method = (this: AckChannel, ...args: never[]) => unknown;

/** The parts of amqplib's callback-API `Channel` (lib/callback_model.js) this relies on. */
interface AckChannel {
  consume: Method;
  get?: Method;
  ack: Method;
  ackAll: Method;
  nack: Method;
  nackAll: Method;
  reject: Method;
  cancel: Method;
  close: Method;
  once(event: 'close', listener: () => void): unknown;
  [watched]?: true;
}

type Options = { readonly noAck?: boolean } | undefined;
type OnMessage = (message: Delivery | null) => void;
type OnGet = (err: unknown, message: Delivery | false) => void;

const watched = Symbol('hello-rabbit.ackWatched');

const SETTLING = ['ack', 'ackAll', 'nack', 'nackAll', 'reject', 'cancel', 'close'] as const;

function isAckChannel(value: unknown): value is AckChannel {
  if (typeof value !== 'object' || value === null) return false;
  const channel = value as Record<string, unknown>;
  return (
    typeof channel.consume === 'function' &&
    typeof channel.once === 'function' &&
    SETTLING.every((name) => typeof channel[name] === 'function')
  );
}

const manualAck = (options: Options) => options?.noAck !== true;

/**
 * Makes a channel coalesce its acks from the moment it consumes with manual acks (see the
 * module's comment). Idempotent. Returns false, changing nothing, for a value that is not
 * an amqplib callback-API channel.
 */
export function coalesceAcks(channel: unknown): boolean {
  if (!isAckChannel(channel)) return false;
  if (channel[watched]) return true;
  channel[watched] = true;

  const consume = channel.consume as (
    queue: unknown,
    onMessage: OnMessage,
    options?: Options,
    ...rest: unknown[]
  ) => unknown;
  channel.consume = function (
    this: AckChannel,
    queue: unknown,
    onMessage: OnMessage,
    options?: Options,
    ...rest: unknown[]
  ) {
    if (!manualAck(options) || typeof onMessage !== 'function')
      return consume.call(this, queue, onMessage, options, ...rest);
    const deliveries = startCoalescing(channel);
    return consume.call(
      this,
      queue,
      (message) => {
        // null: the broker cancelled the consumer; there is nothing to settle.
        if (message !== null) deliveries.delivered(message.fields.deliveryTag);
        onMessage(message);
      },
      options,
      ...rest,
    );
  };

  const get = channel.get as ((queue: unknown, options: Options, callback: OnGet) => unknown) | undefined;
  if (get !== undefined) {
    channel.get = function (this: AckChannel, queue: unknown, options: Options, callback: OnGet) {
      if (!manualAck(options) || typeof callback !== 'function') return get.call(this, queue, options, callback);
      const deliveries = startCoalescing(channel);
      return get.call(this, queue, options, (err, message) => {
        if (message) deliveries.delivered(message.fields.deliveryTag);
        callback(err, message);
      });
    };
  }
  return true;
}

/** The deliveries of one channel in progress (not yet acked or nacked), and its held acks. */
interface Deliveries {
  delivered(tag: number): void;
}

const states = new WeakMap<AckChannel, Deliveries>();

function startCoalescing(channel: AckChannel): Deliveries {
  const existing = states.get(channel);
  if (existing !== undefined) return existing;

  // Delivery tags count up from 1 on a channel, so the lowest one in progress is found by
  // moving a mark forward: constant time per delivery.
  const inProgress = new Set<number>();
  let low = 1;
  let high = 0;
  const settledAll = () => {
    inProgress.clear();
    low = high + 1;
  };
  const settledUpTo = (tag: number) => {
    for (const t of inProgress) if (t <= tag) inProgress.delete(t);
  };
  const lowestInProgress = () => {
    while (low <= high && !inProgress.has(low)) low++;
    return low;
  };

  const original = {
    ack: channel.ack as (message: Delivery, allUpTo?: boolean) => unknown,
    ackAll: channel.ackAll,
    nack: channel.nack as (message: Delivery, allUpTo?: boolean, requeue?: boolean) => unknown,
    nackAll: channel.nackAll as (requeue?: boolean) => unknown,
    reject: channel.reject as (message: Delivery, requeue?: boolean) => unknown,
    cancel: channel.cancel as (...args: unknown[]) => unknown,
    close: channel.close as (...args: unknown[]) => unknown,
  };

  let held: Delivery[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (held.length === 0) return;
    const batch = held;
    held = [];
    for (const message of batch) inProgress.delete(message.fields.deliveryTag);
    const below = lowestInProgress();
    let last: Delivery | undefined;
    try {
      for (const message of batch) {
        if (message.fields.deliveryTag < below) {
          if (last === undefined || message.fields.deliveryTag > last.fields.deliveryTag) last = message;
        } else {
          original.ack.call(channel, message);
        }
      }
      if (last !== undefined) original.ack.call(channel, last, true);
    } catch {
      // amqplib throws on a channel that is closing or closed: the broker requeues what it
      // was not told.
    }
  };

  channel.ack = function (this: AckChannel, message: Delivery, allUpTo?: boolean) {
    if (allUpTo === true) {
      flush();
      settledUpTo(message.fields.deliveryTag);
      return original.ack.call(this, message, true);
    }
    held.push(message);
    if (scheduled) return undefined;
    scheduled = true;
    process.nextTick(flush);
    return undefined;
  };
  channel.ackAll = function (this: AckChannel) {
    flush();
    settledAll();
    return original.ackAll.call(this);
  };
  channel.nack = function (this: AckChannel, message: Delivery, allUpTo?: boolean, requeue?: boolean) {
    flush();
    if (allUpTo === true) settledUpTo(message.fields.deliveryTag);
    else inProgress.delete(message.fields.deliveryTag);
    return original.nack.call(this, message, allUpTo, requeue);
  };
  channel.nackAll = function (this: AckChannel, requeue?: boolean) {
    flush();
    settledAll();
    return original.nackAll.call(this, requeue);
  };
  channel.reject = function (this: AckChannel, message: Delivery, requeue?: boolean) {
    flush();
    inProgress.delete(message.fields.deliveryTag);
    return original.reject.call(this, message, requeue);
  };
  channel.cancel = function (this: AckChannel, ...args: unknown[]) {
    flush();
    return original.cancel.apply(this, args);
  };
  channel.close = function (this: AckChannel, ...args: unknown[]) {
    flush();
    return original.close.apply(this, args);
  };
  channel.once('close', () => {
    held = [];
  });

  const deliveries: Deliveries = {
    delivered(tag) {
      inProgress.add(tag);
      if (tag > high) high = tag;
    },
  };
  states.set(channel, deliveries);
  return deliveries;
}
