import type { Channel, GetMessage, Message } from 'amqplib';

/** What to do with one message of a scan. */
export type Verdict =
  /** Leave it in the queue, where it was. */
  | 'keep'
  /** Take it out of the queue (ack). */
  | 'remove'
  /** Leave it, and every message after it, where they are: nothing more to decide. */
  | 'stop';

export interface ScanOptions {
  /**
   * Read to the end of the queue even after `stop`, holding the rest, so that everything
   * is given back in order. Needed for quorum queues, which put a returned message after
   * the messages returned before it rather than back in its place: giving back only the
   * first few would move them behind the rest. Classic queues put a returned message back
   * in its place. @default true
   */
  readonly readThrough?: boolean;
  /** Ends the scan early, as `stop` does, when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Called when a batch given back did not show up in the queue in time (order may suffer). */
  readonly onSlowReturn?: () => void;
}

export interface ScanResult {
  /** Messages shown to the visitor. */
  readonly seen: number;
  readonly removed: number;
  /** Messages given back, in their order. */
  readonly kept: number;
  /** Messages in the queue when the scan began (ready, not held by a consumer). */
  readonly total: number;
  /** The visitor stopped, or the scan was interrupted, before it saw `total` messages. */
  readonly stopped: boolean;
}

/**
 * Messages are given back at most this many at a time. RabbitMQ 3.10's quorum queues put a
 * batch of more than 32 returned messages back in no particular order (it goes through an
 * Erlang map, which keeps its keys in order only up to 32).
 */
const RETURN_BATCH = 32;
/** How long a batch given back may take to show up in the queue before the scan goes on. */
const RETURN_WAIT_MS = 5000;

/**
 * Takes the messages that are in `queue` when it starts, one at a time (`basic.get`, manual
 * acknowledgement), and lets `visit` decide about each. Removed messages are acked at once
 * (after whatever `visit` did with them, such as publishing a confirmed copy). Kept messages
 * are held unacknowledged until the end, so that the scan never sees one twice, then given
 * back oldest first, 32 at a time, each batch waited for until the queue shows it: a quorum
 * queue applies a return asynchronously, and a channel that closes while a return is still
 * pending gets its messages put back by the broker in no particular order.
 *
 * Holding messages is what a browse costs: a quorum queue counts each return in
 * `x-delivery-count` (harmless unless the queue has a delivery limit, which the callers
 * check first), a classic queue marks them redelivered. If the connection is lost midway,
 * the broker puts back what was held: nothing is lost, but the order may not be kept.
 */
export async function scanQueue(
  channel: Channel,
  queue: string,
  visit: (message: GetMessage, position: number) => Verdict | Promise<Verdict>,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const readThrough = options.readThrough ?? true;
  const { messageCount: total } = await channel.checkQueue(queue);
  const held: number[] = [];
  let seen = 0;
  let removed = 0;
  let deciding = true;
  let failure: Error | undefined;
  try {
    for (let taken = 0; taken < total; taken++) {
      if (deciding && options.signal?.aborted === true) deciding = false;
      if (!deciding && !readThrough) break;
      const message = await channel.get(queue, { noAck: false });
      // Fewer than counted: another consumer took some meanwhile.
      if (message === false) break;
      if (!deciding) {
        held.push(message.fields.deliveryTag);
        continue;
      }
      seen++;
      const verdict = await visit(message, seen);
      if (verdict === 'remove') {
        channel.ack(message);
        removed++;
        continue;
      }
      held.push(message.fields.deliveryTag);
      if (verdict === 'stop') deciding = false;
    }
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
  }
  try {
    await giveBack(channel, queue, held, options.onSlowReturn);
  } catch (err) {
    // The channel is gone (so the broker has put back what it held): the first error tells why.
    failure ??= err instanceof Error ? err : new Error(String(err));
  }
  if (failure !== undefined) throw failure;
  return { seen, removed, kept: held.length, total, stopped: seen < total && !deciding };
}

/** Returns held messages to the queue, oldest first, in batches the broker keeps in order. */
async function giveBack(channel: Channel, queue: string, deliveryTags: readonly number[], onSlowReturn?: () => void): Promise<void> {
  if (deliveryTags.length === 0) return;
  const { messageCount: before } = await channel.checkQueue(queue);
  let waiting = true;
  for (let start = 0; start < deliveryTags.length; start += RETURN_BATCH) {
    const end = Math.min(start + RETURN_BATCH, deliveryTags.length);
    const last = deliveryTags[end - 1];
    if (last === undefined) break;
    // `allUpTo`: every message still held up to this one, i.e. this batch (the earlier
    // batches are back already, the removed messages acked).
    channel.nack({ fields: { deliveryTag: last } } as Message, true, true);
    // Until the queue shows the batch, the next one (or closing the channel) could overtake
    // it. Someone else consuming the queue meanwhile keeps the count from getting there:
    // then the scan stops waiting, and says so.
    if (waiting && !(await countReaches(channel, queue, before + end))) {
      waiting = false;
      onSlowReturn?.();
    }
  }
}

async function countReaches(channel: Channel, queue: string, expected: number): Promise<boolean> {
  const until = Date.now() + RETURN_WAIT_MS;
  for (;;) {
    const { messageCount } = await channel.checkQueue(queue);
    if (messageCount >= expected) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
