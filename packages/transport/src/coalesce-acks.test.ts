import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { coalesceAcks } from './coalesce-acks.js';

interface Message {
  readonly fields: { readonly deliveryTag: number };
}

/**
 * A callback-API channel as amqplib's, that writes down the frames it would send. Like
 * amqplib's, it throws once it is closed.
 */
class FakeChannel extends EventEmitter {
  readonly frames: string[] = [];
  private onMessage: ((message: Message | null) => void) | undefined;
  private nextTag = 1;
  private closed = false;

  private send(frame: string) {
    if (this.closed) throw new Error('Channel closed');
    this.frames.push(frame);
  }

  consume(
    _queue: string,
    onMessage: (message: Message | null) => void,
    _options?: { noAck?: boolean },
    callback?: (err: unknown, ok: unknown) => void,
  ) {
    this.onMessage = onMessage;
    callback?.(null, { consumerTag: 'ctag' });
  }
  get(_queue: string, _options: { noAck?: boolean }, callback: (err: unknown, message: Message | false) => void) {
    callback(null, { fields: { deliveryTag: this.nextTag++ } });
  }
  ack(message: Message, allUpTo?: boolean) {
    this.send(allUpTo === true ? `ack ${message.fields.deliveryTag} multiple` : `ack ${message.fields.deliveryTag}`);
  }
  ackAll() {
    this.send('ack all');
  }
  nack(message: Message, allUpTo?: boolean, requeue?: boolean) {
    this.send(
      `nack ${message.fields.deliveryTag}${allUpTo === true ? ' multiple' : ''}${requeue === true ? ' requeue' : ''}`,
    );
  }
  nackAll(requeue?: boolean) {
    this.send(`nack all${requeue === true ? ' requeue' : ''}`);
  }
  reject(message: Message) {
    this.send(`reject ${message.fields.deliveryTag}`);
  }
  cancel(consumerTag: string, callback?: () => void) {
    this.send(`cancel ${consumerTag}`);
    callback?.();
  }
  close(callback?: () => void) {
    this.send('close');
    this.closed = true;
    this.emit('close');
    callback?.();
  }
  /** The broker goes away: the channel closes without a word from the client. */
  lose() {
    this.closed = true;
    this.emit('close');
  }

  /** Delivers `count` messages to the consumer; returns them, as the consumer got them. */
  deliver(count: number): Message[] {
    const delivered: Message[] = [];
    for (let i = 0; i < count; i++) {
      const message = { fields: { deliveryTag: this.nextTag++ } };
      delivered.push(message);
      this.onMessage?.(message);
    }
    return delivered;
  }
}

/** A channel consuming with manual acks, acks coalesced; `got` holds what it delivered. */
function consuming(options: { noAck?: boolean } = {}) {
  const channel = new FakeChannel();
  expect(coalesceAcks(channel)).toBe(true);
  const got: Message[] = [];
  channel.consume('q', (message) => message !== null && got.push(message), options);
  return { channel, got };
}

const endOfTurn = () =>
  new Promise<void>((resolve) => {
    process.nextTick(resolve);
  });

/** Whether coalesceAcks replaced the method (its wrappers are the channel's own properties). */
const wrapped = (channel: object, method: string) => Object.hasOwn(channel, method);

describe('coalesceAcks', () => {
  it('when handlers finish in order within a turn, their acks go out as one multiple ack at its end', async () => {
    const { channel } = consuming();
    const [m1, m2, m3] = channel.deliver(3) as [Message, Message, Message];
    channel.ack(m1);
    channel.ack(m2);
    channel.ack(m3);
    expect(channel.frames).toEqual([]);
    await endOfTurn();
    expect(channel.frames).toEqual(['ack 3 multiple']);
  });

  it('acks above a delivery still in progress go out one by one; the multiple ack never covers it', async () => {
    const { channel } = consuming();
    const [m1, m2, m3, m4] = channel.deliver(4) as [Message, Message, Message, Message];
    channel.ack(m1);
    channel.ack(m3);
    channel.ack(m4);
    await endOfTurn();
    expect(channel.frames).toEqual(['ack 3', 'ack 4', 'ack 1 multiple']);
    channel.ack(m2);
    await endOfTurn();
    expect(channel.frames.slice(3)).toEqual(['ack 2 multiple']);
  });

  it('held acks go out before a nack, so the broker sees them in the order they were made', () => {
    const { channel } = consuming();
    const [m1, m2, m3] = channel.deliver(3) as [Message, Message, Message];
    channel.ack(m1);
    channel.ack(m2);
    channel.nack(m3, false, true);
    expect(channel.frames).toEqual(['ack 2 multiple', 'nack 3 requeue']);
  });

  it('a nacked delivery is no longer in progress: later acks pass over it', async () => {
    const { channel } = consuming();
    const [m1, m2, m3] = channel.deliver(3) as [Message, Message, Message];
    channel.nack(m1, false, false);
    channel.reject(m2);
    channel.ack(m3);
    await endOfTurn();
    expect(channel.frames).toEqual(['nack 1', 'reject 2', 'ack 3 multiple']);
  });

  it('a multiple nack settles the deliveries up to its tag only, not the ones after it still in progress', async () => {
    const { channel } = consuming();
    const [m1, , m3] = channel.deliver(3) as [Message, Message, Message];
    channel.nack(m1, true, true);
    channel.ack(m3);
    await endOfTurn();
    // A multiple ack of 3 would also have acked 2, which is still being handled.
    expect(channel.frames).toEqual(['nack 1 multiple requeue', 'ack 3']);
  });

  it('held acks go out before ackAll and nackAll, which settle everything delivered so far', async () => {
    const { channel } = consuming();
    const [, m2] = channel.deliver(4) as [Message, Message, Message, Message];
    channel.ack(m2);
    channel.ackAll();
    const [m5, m6] = channel.deliver(3) as [Message, Message, Message];
    channel.ack(m6);
    channel.nackAll(true);
    await endOfTurn();
    const [m8] = channel.deliver(1) as [Message];
    channel.ack(m8);
    await endOfTurn();
    expect(m5.fields.deliveryTag).toBe(5);
    // 6 waits for 5; after nackAll nothing before 8 is in progress.
    expect(channel.frames).toEqual(['ack 2', 'ack all', 'ack 6', 'nack all requeue', 'ack 8 multiple']);
  });

  it('held acks go out before cancel and before close', () => {
    const { channel } = consuming();
    const [m1, m2] = channel.deliver(2) as [Message, Message];
    channel.ack(m1);
    channel.cancel('ctag');
    channel.ack(m2);
    channel.close();
    expect(channel.frames).toEqual(['ack 1 multiple', 'cancel ctag', 'ack 2 multiple', 'close']);
  });

  it('acks held when the channel is lost are dropped, without a throw (the broker redelivers them)', async () => {
    const { channel } = consuming();
    const [m1, m2] = channel.deliver(2) as [Message, Message];
    channel.ack(m1);
    channel.ack(m2);
    channel.lose();
    await endOfTurn();
    expect(channel.frames).toEqual([]);
  });

  it('an ack made on a channel already closing is dropped at the end of the turn, without a throw', async () => {
    const { channel } = consuming();
    const [m1] = channel.deliver(1) as [Message];
    channel.lose();
    channel.ack(m1);
    await endOfTurn();
    expect(channel.frames).toEqual([]);
  });

  it('knows the deliveries taken with get, too', async () => {
    const { channel } = consuming();
    let taken: Message | false = false;
    channel.get('q', {}, (_err, message) => {
      taken = message;
    });
    const [m2] = channel.deliver(1) as [Message];
    channel.ack(m2);
    await endOfTurn();
    // 1 (from get) is still in hand: 2 alone.
    expect(channel.frames).toEqual(['ack 2']);
    expect(taken).toEqual({ fields: { deliveryTag: 1 } });
  });

  it('leaves a channel that consumes with noAck as it is', () => {
    const channel = new FakeChannel();
    coalesceAcks(channel);
    channel.consume('q', () => undefined, { noAck: true });
    expect(wrapped(channel, 'ack')).toBe(false);
  });

  it("leaves a publisher's channel (it never consumes) with amqplib's ack methods, and any non-channel alone", () => {
    const publisher = new FakeChannel();
    expect(coalesceAcks(publisher)).toBe(true);
    for (const method of ['ack', 'ackAll', 'nack', 'nackAll', 'reject', 'cancel', 'close'])
      expect(wrapped(publisher, method), method).toBe(false);
    expect(coalesceAcks({})).toBe(false);
    expect(coalesceAcks(null)).toBe(false);
  });

  // Rascal hands out only confirm channels.
  it('coalesces on a confirm channel too, when it consumes with manual acks', async () => {
    const confirm = Object.assign(new FakeChannel(), { waitForConfirms: () => undefined });
    expect(coalesceAcks(confirm)).toBe(true);
    confirm.consume('q', () => undefined, {});
    const [m1, m2] = confirm.deliver(2) as [Message, Message];
    confirm.ack(m1);
    confirm.ack(m2);
    await endOfTurn();
    expect(confirm.frames).toEqual(['ack 2 multiple']);
  });

  it('is idempotent: a channel shown twice wraps its methods once', async () => {
    const channel = new FakeChannel();
    coalesceAcks(channel);
    const consume: unknown = Reflect.get(channel, 'consume');
    expect(coalesceAcks(channel)).toBe(true);
    expect(Reflect.get(channel, 'consume')).toBe(consume);
    channel.consume('q', () => undefined, {});
    const [m1] = channel.deliver(1) as [Message];
    channel.ack(m1);
    await endOfTurn();
    expect(channel.frames).toEqual(['ack 1 multiple']);
  });
});
