/**
 * What an operator's tool needs from a queue, on a plain connection (nothing declared: a
 * tool must not create the queues it looks at): browse its messages without taking them,
 * take some for good once a confirmed copy is elsewhere, publish those copies, close.
 * Messages come out as plain data (`QueueMessage`), never as amqplib's.
 */
import type amqplib from 'amqplib';
import type { GetMessage } from 'amqplib';
import { CLOSE_DEADLINE_MS, closeWithin, type AmqpEndpoint, type Logger } from '@hello-rabbit/runtime';
import { connectFirstNode, type PlainConnectionOptions } from './connect.js';
import { createConfirmedPublisher, type ConfirmedPublisher } from './publisher.js';

/**
 * The AMQP basic properties of a message, by amqplib's names, in AMQP's order (the order
 * they are shown in); a property the message does not have is undefined.
 */
export interface MessageProperties {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  /**
   * Header values as the AMQP decoder reads them: byte arrays as Buffer, AMQP timestamps as
   * `{ '!': 'timestamp', value }` (seconds), nested tables as objects.
   */
  readonly headers: Readonly<Record<string, unknown>> | undefined;
  readonly deliveryMode: number | undefined;
  readonly priority: number | undefined;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly expiration: string | undefined;
  readonly messageId: string | undefined;
  /** Seconds since the epoch. */
  readonly timestamp: number | undefined;
  readonly type: string | undefined;
  readonly userId: string | undefined;
  readonly appId: string | undefined;
  readonly clusterId: string | undefined;
}

/** A message read from a queue. */
export interface QueueMessage {
  readonly content: Buffer;
  readonly properties: MessageProperties;
  /** Delivered before (a classic queue marks a message given back by a browse so). */
  readonly redelivered: boolean;
  /** The exchange it was published to ('' for the default exchange). */
  readonly exchange: string;
  readonly routingKey: string;
}

/** What to do with one message of a scan. */
export type Verdict =
  /** Leave it in the queue, where it was. */
  | 'keep'
  /** Take it out of the queue (ack). */
  | 'remove'
  /** Leave it, and every message after it, where they are: nothing more to decide. */
  | 'stop';

/** How `QueueBrowser.scan` goes through a queue. */
export interface ScanOptions {
  /**
   * Read to the end of the queue even after `stop`, holding the rest, so that everything
   * is given back in order. Needed for quorum queues, which put a returned message after
   * the messages returned before it rather than back in its place: giving back only the
   * first few would move them behind the rest. Classic queues put a returned message back
   * in its place. @default true
   */
  readonly readThrough?: boolean;
  /** Ends the scan early, as `stop` does, when aborted. @default never */
  readonly signal?: AbortSignal | undefined;
  /** Called when a batch given back did not show up in the queue in time (order may suffer). @default none */
  readonly onSlowReturn?: () => void;
}

/** What a scan saw and did. */
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

/** How publishing a copy ended. Only `confirmed` means the broker has it. */
export type CopyOutcome =
  { readonly status: 'confirmed' } | { readonly status: 'returned' | 'nacked' | 'failed'; readonly reason: string };

/**
 * The properties of a copy: those given are set as they are (a timestamp, a messageId only
 * when given); the copy is always persistent and mandatory.
 */
export type CopyProperties = Partial<Omit<MessageProperties, 'deliveryMode' | 'clusterId'>>;

/** Why a queue operation failed, when it is one of those a tool can explain. */
export type QueueBrowseFailure =
  /** The queue does not exist (404), or was deleted meanwhile. */
  | 'queue-not-found'
  /** The broker closed the channel: messages were held unacknowledged past its consumer_timeout. */
  | 'ack-timeout'
  /** The channel or the connection was lost; the broker put back what was held. */
  | 'connection-lost';

/** A queue operation failed; `message` is the client's own words, `cause` the original error. */
export class QueueBrowseError extends Error {
  override readonly name = 'QueueBrowseError';

  constructor(
    readonly failure: QueueBrowseFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** How to open a queue browser: `connectFirstNode`'s options, and a close deadline. */
export interface QueueBrowserOptions extends PlainConnectionOptions {
  /** Time `close` allows for the channels and the connection. @default 5000 */
  readonly closeTimeoutMs?: number;
}

/** A plain connection to the broker, for looking into queues (see `openQueueBrowser`). */
export interface QueueBrowser {
  /**
   * Takes the messages that are in `queue` when it starts, one at a time (`basic.get`,
   * manual acknowledgement), and lets `visit` decide about each. A message to `remove` is
   * acked once `visit` has resolved (after whatever it did, such as publishing a confirmed
   * copy with `publishCopy`): taken for good. Kept messages are held unacknowledged until
   * the end, so that the scan never sees one twice, then given back oldest first, 32 at a
   * time, each batch waited for until the queue shows it: a quorum queue applies a return
   * asynchronously, and a channel that closes while a return is still pending gets its
   * messages put back by the broker in no particular order.
   *
   * Holding messages is what a browse costs: a quorum queue counts each return in
   * `x-delivery-count` (a queue with a delivery limit would drop messages past it: callers
   * check first), a classic queue marks them redelivered. If the connection is lost midway,
   * the broker puts back what was held: nothing is lost, but the order may not be kept.
   * Each scan has a channel of its own, closed by `close`.
   * @throws QueueBrowseError for a missing queue, a consumer_timeout or a lost connection;
   * an error of `visit` as it is (after giving back what was held, the message in hand included)
   */
  scan(
    queue: string,
    visit: (message: QueueMessage, position: number) => Verdict | Promise<Verdict>,
    options?: ScanOptions,
  ): Promise<ScanResult>;
  /**
   * Publishes a copy of a message to `queue` (default exchange, persistent, mandatory) on a
   * confirm channel of this connection, through the transport's confirmed publisher, and
   * resolves once its fate is known: confirmed, returned (no such queue), nacked, or failed
   * (channel lost, no confirm within `timeoutMs`). Never rejects.
   */
  publishCopy(queue: string, content: Buffer, properties: CopyProperties, timeoutMs: number): Promise<CopyOutcome>;
  /**
   * Closes the publisher (waiting for copies in flight), the channels and the connection,
   * within `closeTimeoutMs`; a failure or a timeout is logged, never thrown.
   */
  close(): Promise<void>;
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
 * Opens a plain connection (nothing declared) on the first node of the endpoint that
 * answers (see `connectFirstNode`: the apps' settings, the certificate always verified,
 * the login never in a URL, a connect timeout), for looking into queues.
 * @throws BrokerError with a one-line, password-free message
 */
export async function openQueueBrowser(
  endpoint: AmqpEndpoint,
  options: QueueBrowserOptions,
  logger: Logger,
): Promise<QueueBrowser> {
  const { connection, node } = await connectFirstNode(endpoint, options, logger);
  const where = {
    broker: endpoint.redacted,
    node: `${node.host}:${node.port}`,
    vhost: endpoint.vhost,
    tls: endpoint.protocol === 'amqps',
  };
  // A lost connection rejects whatever is pending on its channels; this only logs it.
  connection.on('error', (err: Error) => {
    logger.error({ ...where, err }, 'connection error');
  });
  connection.on('blocked', (reason: string) => {
    logger.warn({ ...where, reason }, 'the broker blocked publishing (resource alarm)');
  });
  logger.info(where, 'connected to the broker');

  const channels = new Set<amqplib.Channel>();
  let publisher: ConfirmedPublisher | undefined;
  const closeChannel = async (channel: amqplib.Channel) => {
    channels.delete(channel);
    try {
      await channel.close();
    } catch {
      // Already closed.
    }
  };

  return {
    scan: async (queue, visit, scanOptions = {}) => {
      let channel: amqplib.Channel;
      try {
        channel = await connection.createChannel();
      } catch (err) {
        throw browseError(err);
      }
      channels.add(channel);
      channel.on('error', (err: Error) => {
        logger.error({ err, queue }, 'channel error');
      });
      // The channel is closed by `close`, within its deadline: closing it here could wait
      // forever on a connection that no longer answers.
      return scanQueue(channel, queue, visit, scanOptions);
    },
    publishCopy: async (queue, content, properties, timeoutMs) => {
      publisher ??= createConfirmedPublisher<amqplib.ConfirmChannel>(
        {
          open: async () => {
            const confirm = await connection.createConfirmChannel();
            channels.add(confirm);
            return confirm;
          },
          close: closeChannel,
        },
        { logger },
      );
      const outcome = await publisher.publishAsGiven(queue, content, properties, timeoutMs);
      return outcome.status === 'confirmed'
        ? { status: 'confirmed' }
        : { status: outcome.status, reason: outcome.reason };
    },
    close: async () => {
      const closing = (async () => {
        await publisher?.close();
        for (const channel of [...channels].reverse()) await closeChannel(channel);
        await connection.close().catch(() => undefined);
      })();
      await closeWithin('the connection', closing, logger, options.closeTimeoutMs ?? CLOSE_DEADLINE_MS);
    },
  };
}

/** The message as plain data: amqplib's properties in AMQP's order, the fields a reader needs. */
function queueMessage(message: GetMessage): QueueMessage {
  const p = message.properties as Partial<Record<keyof MessageProperties, unknown>>;
  return {
    content: message.content,
    properties: {
      contentType: p.contentType as string | undefined,
      contentEncoding: p.contentEncoding as string | undefined,
      headers: p.headers as Record<string, unknown> | undefined,
      deliveryMode: p.deliveryMode as number | undefined,
      priority: p.priority as number | undefined,
      correlationId: p.correlationId as string | undefined,
      replyTo: p.replyTo as string | undefined,
      expiration: p.expiration as string | undefined,
      messageId: p.messageId as string | undefined,
      timestamp: p.timestamp as number | undefined,
      type: p.type as string | undefined,
      userId: p.userId as string | undefined,
      appId: p.appId as string | undefined,
      clusterId: p.clusterId as string | undefined,
    },
    redelivered: message.fields.redelivered,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
  };
}

/** amqplib's words for the failures a tool can explain, as a QueueBrowseError; anything else as it is. */
export function browseError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const { message } = err;
  if (/\b404\b|NOT_FOUND/.test(message)) return new QueueBrowseError('queue-not-found', message, { cause: err });
  if (/acknowledgement timed out/i.test(message)) return new QueueBrowseError('ack-timeout', message, { cause: err });
  if (/closed|Connection|Channel ended/i.test(message))
    return new QueueBrowseError('connection-lost', message, { cause: err });
  return err;
}

/** See `QueueBrowser.scan`. */
async function scanQueue(
  channel: amqplib.Channel,
  queue: string,
  visit: (message: QueueMessage, position: number) => Verdict | Promise<Verdict>,
  options: ScanOptions,
): Promise<ScanResult> {
  const readThrough = options.readThrough ?? true;
  let total: number;
  try {
    ({ messageCount: total } = await channel.checkQueue(queue));
  } catch (err) {
    throw browseError(err);
  }
  const held: number[] = [];
  let seen = 0;
  let removed = 0;
  let deciding = true;
  let failure: Error | undefined;
  try {
    for (let taken = 0; taken < total; taken++) {
      if (deciding && options.signal?.aborted === true) deciding = false;
      if (!deciding && !readThrough) break;
      let message: GetMessage | false;
      try {
        message = await channel.get(queue, { noAck: false });
      } catch (err) {
        throw browseError(err);
      }
      // Fewer than counted: another consumer took some meanwhile.
      if (message === false) break;
      if (!deciding) {
        held.push(message.fields.deliveryTag);
        continue;
      }
      seen++;
      let verdict: Verdict;
      try {
        verdict = await visit(queueMessage(message), seen);
      } catch (err) {
        // The visitor's own error passes as it is; the message in hand goes back with the rest.
        held.push(message.fields.deliveryTag);
        throw err;
      }
      if (verdict === 'remove') {
        try {
          channel.ack(message);
        } catch (err) {
          throw browseError(err);
        }
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
    failure ??= browseError(err);
  }
  if (failure !== undefined) throw failure;
  return { seen, removed, kept: held.length, total, stopped: seen < total && !deciding };
}

/** Returns held messages to the queue, oldest first, in batches the broker keeps in order. */
async function giveBack(
  channel: amqplib.Channel,
  queue: string,
  deliveryTags: readonly number[],
  onSlowReturn?: () => void,
): Promise<void> {
  if (deliveryTags.length === 0) return;
  const { messageCount: before } = await channel.checkQueue(queue);
  let waiting = true;
  for (let start = 0; start < deliveryTags.length; start += RETURN_BATCH) {
    const end = Math.min(start + RETURN_BATCH, deliveryTags.length);
    const last = deliveryTags[end - 1];
    if (last === undefined) break;
    // `allUpTo`: every message still held up to this one, i.e. this batch (the earlier
    // batches are back already, the removed messages acked).
    channel.nack({ fields: { deliveryTag: last } } as amqplib.Message, true, true);
    // Until the queue shows the batch, the next one (or closing the channel) could overtake
    // it. Someone else consuming the queue meanwhile keeps the count from getting there:
    // then the scan stops waiting, and says so.
    if (waiting && !(await countReaches(channel, queue, before + end))) {
      waiting = false;
      onSlowReturn?.();
    }
  }
}

async function countReaches(channel: amqplib.Channel, queue: string, expected: number): Promise<boolean> {
  const until = Date.now() + RETURN_WAIT_MS;
  for (;;) {
    const { messageCount } = await channel.checkQueue(queue);
    if (messageCount >= expected) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
