import { randomUUID } from 'node:crypto';
import {
  decodeMessage,
  encodeMessage,
  rpcCalls,
  type RpcName,
  type RpcReply,
  type RpcRequest,
} from '@hello-rabbit/broker-config';
import { channelError } from './broker-errors.js';
import type { Logger } from '@hello-rabbit/runtime';
import { call, closeChannel, openChannel, type AmqpChannel, type AmqpMessage, type Broker } from './rascal-adapter.js';

/**
 * RabbitMQ's direct reply-to pseudo-queue: consumed in no-ack mode on the channel that
 * publishes the requests, it takes the replies straight to this client, with no queue to
 * declare or delete.
 */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** How one call ended. Only `replied` carries an answer. */
export type RpcOutcome<R extends RpcName> =
  | { readonly status: 'replied'; readonly reply: RpcReply<R> }
  /**
   * No reply within the timeout: no server running, a slow one, or a connection lost
   * during the call and not back (or the request resent and not answered) in time.
   */
  | {
      readonly status: 'timeout';
      readonly reason: string;
      /** The connection (or the client's channel) was lost while the call waited. */
      readonly connectionLost: boolean;
      /** Times the request was published again on a new connection. */
      readonly resent: number;
    }
  /** The request came back unroutable: the procedure's queue does not exist (no server has declared it). */
  | { readonly status: 'returned'; readonly reason: string }
  /** The request was nacked or refused by the broker, the reply was invalid, or the client was closed. */
  | { readonly status: 'failed'; readonly reason: string };

/** One call's limits. */
export interface RpcCallOptions {
  /**
   * Time for the whole call: the confirm of the request and the reply, and the resends
   * after a lost connection.
   */
  readonly timeoutMs: number;
}

/** How `createRpcClient` calls. */
export interface RpcClientOptions {
  readonly logger: Logger;
  /** The AMQP `user-id` of the requests (the broker checks it). @default not set */
  readonly userId?: string | undefined;
}

/** Calls the contract's remote procedures (tutorial 6) over direct reply-to. */
export interface RpcClient {
  /**
   * Publishes a request (mandatory, confirmed) to the procedure's queue with a fresh
   * `correlation_id` and `reply_to` set to direct reply-to, and resolves with the reply
   * whose `correlation_id` matches, or a timeout. When the connection (or the channel) is
   * lost before the reply, the request is published again on the new connection, with the
   * same `correlation_id` and messageId, until the timeout. Never rejects.
   * @throws InvalidMessageError (synchronously checked first) when the request breaks its schema
   */
  call<R extends RpcName>(name: R, request: RpcRequest<R>, options: RpcCallOptions): Promise<RpcOutcome<R>>;
  /** Closes the channel; calls still waiting end as `failed`. */
  close(): Promise<void>;
}

interface Waiting {
  readonly name: RpcName;
  readonly correlationId: string;
  readonly messageId: string;
  readonly content: Buffer;
  readonly contentType: string;
  /** When (epoch ms) the call times out. */
  readonly deadline: number;
  /** The channel the request was last published on; undefined while it waits to be published again. */
  sentOn: AmqpChannel | undefined;
  /** The connection or the channel was lost while the call waited. */
  lost: boolean;
  /** Times the request was published again after a loss. */
  resent: number;
  readonly resolve: (outcome: RpcOutcome<RpcName>) => void;
}

/** Waits before opening a channel again after a loss: 100 ms, doubling, at most 2 s. */
const reopenDelay = (attempt: number) => Math.min(2000, 100 * 2 ** attempt);

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * The client of tutorial 6 (its `FibonacciRpcClient`), with direct reply-to instead of a
 * callback queue of its own. A reply whose `correlation_id` is unknown (late, after its
 * call timed out, or a second one for a call already answered) is ignored, as the tutorial
 * does. Each request carries its timeout as its `expiration` (a resent one, the time its
 * call has left), so that a server that was away does not work on requests whose client
 * has given up. Rascal owns the connection; the channel is opened on it, again after a
 * lost connection.
 *
 * A lost connection (or channel) does not end a call: once Rascal has reconnected, the
 * client opens a new channel and publishes each request still waiting again, with the same
 * `correlation_id` and messageId, its `expiration` the time left, until the call's timeout.
 * A reply sent to the lost channel is gone with it; the server answers the new copy. A
 * request the broker returned (no queue) or refused (it closed the channel: 403 and the
 * like) is a final answer and is not published again.
 */
export function createRpcClient(broker: Broker, options: RpcClientOptions): RpcClient {
  const { logger } = options;
  const waiting = new Map<string, Waiting>();
  let channel: Promise<AmqpChannel> | undefined;
  /** The channel, once open (close() closes it without waiting for one being opened). */
  let current: AmqpChannel | undefined;
  let closed = false;

  /**
   * Why the broker closed a channel, when it said: a request it refused (say, no write
   * permission on the default exchange) fails with the broker's reason, not only "closed".
   */
  const closedBy = new WeakMap<AmqpChannel, Error>();
  /** Channels that have closed (marked before amqplib fails their unconfirmed publishes). */
  const gone = new WeakSet<AmqpChannel>();
  const brokerReason = (ch: AmqpChannel): string | undefined => {
    const err = closedBy.get(ch);
    return err === undefined
      ? undefined
      : (channelError(err)?.message ?? `the broker closed the channel: ${err.message.split('\n')[0] ?? ''}`);
  };

  const finish = (entry: Waiting, outcome: RpcOutcome<RpcName>) => {
    if (waiting.get(entry.correlationId) !== entry) return;
    waiting.delete(entry.correlationId);
    entry.resolve(outcome);
  };

  const failAll = (reason: string) => {
    for (const entry of [...waiting.values()]) finish(entry, { status: 'failed', reason });
  };

  const onReply = (message: AmqpMessage | null) => {
    if (message === null) return;
    const { correlationId } = message.properties;
    const entry = correlationId === undefined ? undefined : waiting.get(correlationId);
    if (entry === undefined) {
      logger.debug({ correlationId }, 'reply to no call waiting for it (late, unknown or a second one): ignored');
      return;
    }
    const decoded = decodeMessage(rpcCalls[entry.name].reply, message.content, message.properties.contentType);
    finish(
      entry,
      decoded.ok
        ? { status: 'replied', reply: decoded.payload }
        : { status: 'failed', reason: `invalid reply: ${decoded.reason}` },
    );
  };

  /** The channel closed: the broker refused something (final), or it was lost (publish again). */
  const onChannelClosed = (ch: AmqpChannel) => {
    if (current === ch) {
      current = undefined;
      channel = undefined;
    }
    const refusal = brokerReason(ch);
    if (refusal !== undefined) {
      failAll(refusal);
      return;
    }
    const lost = [...waiting.values()].filter((entry) => entry.sentOn === ch);
    for (const entry of lost) {
      entry.sentOn = undefined;
      entry.lost = true;
    }
    if (lost.length > 0) {
      logger.warn(
        { calls: lost.length },
        'RPC channel lost before the reply came: the requests are published again once reconnected',
      );
      resendLost();
    }
  };

  /** Opens the client's channel and consumes direct reply-to on it. */
  const openReplyChannel = async (): Promise<AmqpChannel> => {
    const ch = await openChannel(broker, 'confirm');
    // Before amqplib's own listener fails the unconfirmed publishes of a closed channel.
    ch.prependListener('close', () => gone.add(ch));
    ch.on('error', (err: Error) => {
      closedBy.set(ch, err);
      logger.warn({ err }, 'RPC channel error');
    });
    ch.once('close', () => {
      onChannelClosed(ch);
    });
    ch.on('return', (message: AmqpMessage & { fields: { replyText?: string } }) => {
      const { correlationId } = message.properties;
      const entry = correlationId === undefined ? undefined : waiting.get(correlationId);
      if (entry === undefined) return;
      finish(entry, {
        status: 'returned',
        reason:
          `returned by the broker: ${message.fields.replyText ?? 'unroutable'} ` +
          `(no queue '${message.fields.routingKey}')`,
      });
    });
    // Direct reply-to: consume the pseudo-queue, no-ack, before publishing any request.
    await call((done) => {
      ch.consume(DIRECT_REPLY_TO, onReply, { noAck: true }, done);
    });
    return ch;
  };

  /** The channel, opened once and again after it closed. */
  const open = (): Promise<AmqpChannel> => {
    if (channel !== undefined) return channel;
    const opening = openReplyChannel();
    channel = opening;
    opening.then(
      (ch) => {
        if (channel !== opening) return;
        if (gone.has(ch)) channel = undefined;
        else current = ch;
      },
      () => {
        if (channel === opening) channel = undefined;
      },
    );
    return opening;
  };

  /** Publishes the request on `ch`; a resend carries the time left as its expiration. */
  const publish = (entry: Waiting, ch: AmqpChannel, expirationMs: number) => {
    const declaration = rpcCalls[entry.name];
    entry.sentOn = ch;
    try {
      ch.publish(
        '',
        declaration.queue,
        entry.content,
        {
          correlationId: entry.correlationId,
          replyTo: DIRECT_REPLY_TO,
          messageId: entry.messageId,
          contentType: entry.contentType,
          mandatory: true,
          expiration: String(expirationMs),
          timestamp: Math.floor(Date.now() / 1000),
          appId: 'producer',
          userId: options.userId,
        },
        (err: unknown) => {
          // basic.return comes before the ack: a returned request has settled already. A
          // channel that closed settles its requests itself (refused, or lost: sent again).
          if (err === null || err === undefined || gone.has(ch)) return;
          finish(entry, {
            status: 'failed',
            reason:
              brokerReason(ch) ??
              `the broker did not take the request: ${err instanceof Error ? err.message : 'nacked'}`,
          });
        },
      );
    } catch (err) {
      if (gone.has(ch) || (err instanceof Error && err.name === 'IllegalOperationError')) {
        // The channel is closing with its connection: published again on the next one.
        entry.sentOn = undefined;
        entry.lost = true;
        resendLost();
        return;
      }
      finish(entry, { status: 'failed', reason: err instanceof Error ? err.message : String(err) });
    }
  };

  /**
   * Publishes the requests of lost calls again, on a channel of the new connection, once
   * Rascal has reconnected (opening a channel waits for it); gives up on each call at its
   * timeout, which its timer reports.
   */
  let resending = false;
  const needsResend = () =>
    closed ? [] : [...waiting.values()].filter((entry) => entry.lost && entry.sentOn === undefined);
  const resendLost = () => {
    if (resending) return;
    resending = true;
    void (async () => {
      try {
        for (let attempt = 0; needsResend().length > 0; attempt++) {
          // Rascal notices the lost connection a turn later: a channel asked for at once
          // would be asked of the dead connection.
          await sleep(reopenDelay(attempt));
          if (needsResend().length === 0) return;
          let ch: AmqpChannel;
          try {
            ch = await open();
          } catch (err) {
            logger.debug({ err }, 'RPC channel not opened again yet; retrying');
            continue;
          }
          for (const entry of needsResend()) {
            const left = entry.deadline - Date.now();
            if (left < 1) continue;
            entry.resent++;
            logger.warn(
              {
                correlationId: entry.correlationId,
                messageId: entry.messageId,
                resent: entry.resent,
                expirationMs: left,
              },
              'RPC request published again on the new connection',
            );
            publish(entry, ch, left);
          }
        }
      } finally {
        resending = false;
      }
    })();
  };

  const rpcCall = async <R extends RpcName>(
    name: R,
    request: RpcRequest<R>,
    callOptions: RpcCallOptions,
  ): Promise<RpcOutcome<R>> => {
    const declaration = rpcCalls[name];
    const { content, contentType } = encodeMessage(declaration.request, request);
    const correlationId = randomUUID();
    const messageId = randomUUID();
    const { timeoutMs } = callOptions;

    return new Promise<RpcOutcome<R>>((resolve) => {
      const timer = setTimeout(() => {
        const lost = entry.lost;
        const resent = entry.resent;
        const why = lost
          ? `: the connection was lost during the call, and the request was resent ${resent} ` +
            `time${resent === 1 ? '' : 's'}${resent === 0 ? ' (no connection in time)' : ''}`
          : '';
        finish(entry, {
          status: 'timeout',
          reason: `no reply from '${declaration.queue}' within ${timeoutMs} ms${why}`,
          connectionLost: lost,
          resent,
        });
      }, timeoutMs);
      const entry: Waiting = {
        name,
        correlationId,
        messageId,
        content,
        contentType,
        deadline: Date.now() + timeoutMs,
        sentOn: undefined,
        lost: false,
        resent: 0,
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome as RpcOutcome<R>);
        },
      };
      waiting.set(correlationId, entry);
      open().then(
        (ch) => {
          if (waiting.get(correlationId) !== entry || entry.lost) return;
          publish(entry, ch, timeoutMs);
        },
        (err: unknown) => {
          finish(entry, {
            status: 'failed',
            reason: `not connected: ${err instanceof Error ? err.message : String(err)}`,
          });
        },
      );
    });
  };

  return {
    call: rpcCall,
    close: async () => {
      closed = true;
      failAll('the client is closed');
      const opening = channel;
      const ch = current;
      channel = undefined;
      current = undefined;
      if (ch !== undefined) {
        await closeChannel(ch);
        return;
      }
      // A channel still being opened (Rascal waiting to reconnect, say) is not waited for:
      // it is closed if it ever opens (Rascal's shutdown ends the wait).
      void opening?.then(closeChannel, () => undefined);
    },
  };
}
