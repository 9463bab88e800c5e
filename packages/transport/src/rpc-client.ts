import { randomUUID } from 'node:crypto';
import { decodeMessage, encodeMessage, rpcCalls, type RpcName, type RpcReply, type RpcRequest } from '@hello-rabbit/broker-config';
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
  /** No reply within the timeout (no server running, or a slow one). */
  | { readonly status: 'timeout'; readonly reason: string }
  /** The request came back unroutable: the procedure's queue does not exist (no server has declared it). */
  | { readonly status: 'returned'; readonly reason: string }
  /** The request was nacked or not confirmed, or the reply was invalid. */
  | { readonly status: 'failed'; readonly reason: string };

/** One call's limits. */
export interface RpcCallOptions {
  /** Time for the whole call: the confirm of the request and the reply. */
  readonly timeoutMs: number;
}

/** How `createRpcClient` calls. */
export interface RpcClientOptions {
  readonly logger: Logger;
  /** The AMQP `user-id` of the requests (the broker checks it). @default not set */
  readonly userId?: string;
}

/** Calls the contract's remote procedures (tutorial 6) over direct reply-to. */
export interface RpcClient {
  /**
   * Publishes a request (mandatory, confirmed) to the procedure's queue with a fresh
   * `correlation_id` and `reply_to` set to direct reply-to, and resolves with the reply
   * whose `correlation_id` matches, or a timeout. Never rejects.
   * @throws InvalidMessageError (synchronously checked first) when the request breaks its schema
   */
  call<R extends RpcName>(name: R, request: RpcRequest<R>, options: RpcCallOptions): Promise<RpcOutcome<R>>;
  /** Closes the channel; calls still waiting end as `failed`. */
  close(): Promise<void>;
}

interface Waiting {
  readonly name: RpcName;
  readonly messageId: string;
  readonly resolve: (outcome: RpcOutcome<RpcName>) => void;
}

/**
 * The client of tutorial 6 (its `FibonacciRpcClient`), with direct reply-to instead of a
 * callback queue of its own. A reply whose `correlation_id` is unknown (late, after its
 * call timed out) is ignored, as the tutorial does. Each request carries its timeout as
 * its `expiration`, so that a server that was away does not work on requests whose client
 * has given up. Rascal owns the connection; the channel is opened on it, again after a
 * lost connection.
 */
export function createRpcClient(broker: Broker, options: RpcClientOptions): RpcClient {
  const { logger } = options;
  const waiting = new Map<string, Waiting>();
  let channel: Promise<AmqpChannel> | undefined;

  const failAll = (reason: string) => {
    for (const [correlationId, entry] of waiting) {
      waiting.delete(correlationId);
      entry.resolve({ status: 'failed', reason });
    }
  };

  /**
   * Why the broker closed the channel, when it said: a request it refused (say, no write
   * permission on the default exchange) fails with the broker's reason, not only "closed".
   */
  let closedBy: Error | undefined;
  const brokerReason = (): string | undefined =>
    closedBy === undefined ? undefined : (channelError(closedBy)?.message ?? `the broker closed the channel: ${closedBy.message.split('\n')[0] ?? ''}`);

  const onReply = (message: AmqpMessage | null) => {
    if (message === null) return;
    const { correlationId } = message.properties;
    const entry = correlationId === undefined ? undefined : waiting.get(correlationId);
    if (entry === undefined || correlationId === undefined) {
      logger.debug({ correlationId }, 'reply to no call waiting for it (late or unknown): ignored');
      return;
    }
    waiting.delete(correlationId);
    const decoded = decodeMessage(rpcCalls[entry.name].reply, message.content, message.properties.contentType);
    entry.resolve(decoded.ok ? { status: 'replied', reply: decoded.payload } : { status: 'failed', reason: `invalid reply: ${decoded.reason}` });
  };

  const open = (): Promise<AmqpChannel> =>
    (channel ??= (async () => {
      const ch = await openChannel(broker, 'confirm');
      closedBy = undefined;
      ch.on('error', (err: Error) => {
        closedBy = err;
        logger.warn({ err }, 'RPC channel error');
      });
      ch.once('close', () => {
        channel = undefined;
        failAll(brokerReason() ?? 'the channel closed before the reply came');
      });
      ch.on('return', (message: AmqpMessage & { fields: { replyText?: string } }) => {
        const { correlationId } = message.properties;
        const entry = correlationId === undefined ? undefined : waiting.get(correlationId);
        if (entry === undefined || correlationId === undefined) return;
        waiting.delete(correlationId);
        entry.resolve({
          status: 'returned',
          reason: `returned by the broker: ${message.fields.replyText ?? 'unroutable'} (no queue '${message.fields.routingKey}')`,
        });
      });
      // Direct reply-to: consume the pseudo-queue, no-ack, before publishing any request.
      await call((done) => {
        ch.consume(DIRECT_REPLY_TO, onReply, { noAck: true }, done);
      });
      return ch;
    })().catch((err: unknown) => {
      channel = undefined;
      throw err;
    }));

  const rpcCall = async <R extends RpcName>(name: R, request: RpcRequest<R>, callOptions: RpcCallOptions): Promise<RpcOutcome<R>> => {
    const declaration = rpcCalls[name];
    const { content, contentType } = encodeMessage(declaration.request, request);
    const correlationId = randomUUID();
    const messageId = randomUUID();
    const { timeoutMs } = callOptions;

    return new Promise<RpcOutcome<R>>((resolve) => {
      const timer = setTimeout(() => {
        if (waiting.delete(correlationId)) {
          resolve({ status: 'timeout', reason: `no reply from '${declaration.queue}' within ${timeoutMs} ms` });
        }
      }, timeoutMs);
      const settle = (outcome: RpcOutcome<RpcName>) => {
        clearTimeout(timer);
        resolve(outcome as RpcOutcome<R>);
      };
      waiting.set(correlationId, { name, messageId, resolve: settle });
      open().then(
        (ch) => {
          if (!waiting.has(correlationId)) return;
          try {
            ch.publish(
              '',
              declaration.queue,
              content,
              {
                correlationId,
                replyTo: DIRECT_REPLY_TO,
                messageId,
                contentType,
                mandatory: true,
                expiration: String(timeoutMs),
                timestamp: Math.floor(Date.now() / 1000),
                appId: 'producer',
                userId: options.userId,
              },
              (err: unknown) => {
                // basic.return comes before the ack: a returned request has settled already.
                if (err === null || err === undefined || !waiting.delete(correlationId)) return;
                settle({
                  status: 'failed',
                  reason: brokerReason() ?? `the broker did not take the request: ${err instanceof Error ? err.message : 'nacked'}`,
                });
              },
            );
          } catch (err) {
            if (waiting.delete(correlationId)) settle({ status: 'failed', reason: err instanceof Error ? err.message : String(err) });
          }
        },
        (err: unknown) => {
          if (waiting.delete(correlationId)) settle({ status: 'failed', reason: `not connected: ${err instanceof Error ? err.message : String(err)}` });
        },
      );
    });
  };

  return {
    call: rpcCall,
    close: async () => {
      failAll('the client is closed');
      const opening = channel;
      channel = undefined;
      const ch = await opening?.catch(() => undefined);
      if (ch !== undefined) await closeChannel(ch);
    },
  };
}
