/**
 * Tutorial 6's server: a queue subscription like any other (the engine, with retries and
 * dead letters as the contract's subscription says), whose handler computes the answer and
 * publishes it to the request's `reply_to` before the request is acked.
 */
import { randomUUID } from 'node:crypto';
import {
  encodeMessage,
  rpcCalls,
  type RpcName,
  type RpcReply,
  type RpcRequest,
  type SubscriptionName,
  type subscriptions,
} from '@hello-rabbit/broker-config';
import { createPublisher } from '../publisher.js';
import type { Broker } from '../rascal-adapter.js';
import { DIRECT_REPLY_TO } from '../rpc-client.js';
import { startConsumer, type ConsumerOptions, type DeliveryContext, type Handler } from '../start-consumer.js';
import type { RunningConsumer } from './engine.js';

/**
 * The contract's remote procedures, checked at compile time to be served by a subscription
 * of the contract: each one's request queue is a subscription whose message is its request.
 */
const procedures: {
  readonly [R in RpcName]: {
    readonly queue: R & SubscriptionName;
    readonly request: (typeof subscriptions)[R]['message'];
    readonly reply: (typeof rpcCalls)[R]['reply'];
  };
} = rpcCalls;

/** Computes the answer to one request: resolve with it, or throw (the request then fails). */
export type RpcCompute<R extends RpcName> = (
  request: RpcRequest<R>,
  context: DeliveryContext,
) => RpcReply<R> | Promise<RpcReply<R>>;

/**
 * Serves the remote procedure `name` (its request queue, a subscription of the contract):
 * for every request, checks it has a `reply_to`, runs `compute`, and publishes the answer
 * through the default exchange to the request's `reply_to` (a callback queue, or direct
 * reply-to) with its `correlation_id`, confirmed. The request is acked only then.
 *
 * - A request without `reply_to` has nowhere to be answered: it fails without running
 *   `compute` (as does a request that breaks the contract, before), and is dead-lettered.
 * - The reply is mandatory, except to direct reply-to (`amq.rabbitmq.reply-to.*`), which
 *   RabbitMQ 3.10 returns as unroutable even when it delivered it. A reply that is returned
 *   has no one to go to (the client gave up and its queue is gone): it is logged and the
 *   request is done.
 * - A reply that is not confirmed fails the request, which is then retried or
 *   dead-lettered as the subscription says (`rpc_queue` has no retries).
 * - A repeat of a request answered before (same message-id: a client that lost its
 *   connection sends its call again) is not computed again: the reply kept with its mark
 *   of done goes to the repeat's `reply_to` (with a dedup store shared by every server,
 *   whichever server gets the repeat).
 *
 * @throws BrokerError when the subscription cannot be made.
 */
export async function startRpcServer<R extends RpcName>(
  broker: Broker,
  name: R,
  compute: RpcCompute<R>,
  options: ConsumerOptions,
): Promise<RunningConsumer> {
  const { logger } = options;
  const { queue: subscription, reply: replyMessage } = procedures[name];
  const appId = options.appId ?? 'consumer';
  // Replies go out on a confirm channel of their own.
  const replies = createPublisher(broker, { logger, maxInFlight: 100, userId: options.userId });

  /** Publishes a reply to the request's `reply_to`, confirmed; a client gone is logged. */
  const reply = async (content: Buffer, contentType: string | undefined, context: DeliveryContext): Promise<void> => {
    const { replyTo, correlationId } = context;
    if (replyTo === undefined || replyTo === '') {
      throw new Error('the request has no reply_to: there is nowhere to send the answer');
    }
    const outcome = await replies.publish(replyTo, content, {
      messageId: randomUUID(),
      contentType,
      correlationId,
      appId,
      timeoutMs: options.confirmTimeoutMs,
      // RabbitMQ 3.10 returns every mandatory reply to direct reply-to, delivered or not.
      mandatory: !replyTo.startsWith(`${DIRECT_REPLY_TO}.`),
    });
    if (outcome.status === 'returned') {
      logger.warn({ replyTo, correlationId, reason: outcome.reason }, 'the client is gone: reply dropped');
    } else if (outcome.status !== 'confirmed') {
      throw new Error(`the reply was not confirmed: ${outcome.reason}`);
    }
  };

  const answer = async (request: RpcRequest<R>, context: DeliveryContext): Promise<void> => {
    if (context.replyTo === undefined || context.replyTo === '') {
      throw new Error('the request has no reply_to: there is nowhere to send the answer');
    }
    const value = await compute(request, context);
    const { content, contentType } = encodeMessage(replyMessage, value);
    await reply(content, contentType, context);
    // A repeat of this request (a client that lost its connection sends it again, with the
    // same message-id) gets this reply again instead of a second computation.
    context.keep(JSON.stringify({ content: content.toString('base64'), contentType }));
  };

  /** A repeat of a request answered before: its kept reply, to the repeat's `reply_to`. */
  const onRepeat = async (kept: string, context: DeliveryContext): Promise<void> => {
    const { content, contentType } = JSON.parse(kept) as { content: string; contentType?: string };
    await reply(Buffer.from(content, 'base64'), contentType, context);
  };

  // The payload type: the subscription's message is the request's (checked above).
  const server = await startConsumer(broker, subscription, answer as Handler<SubscriptionName>, {
    ...options,
    onRepeat,
  }).catch(async (err: unknown) => {
    await replies.close();
    throw err;
  });
  return {
    stop: async () => {
      await server.stop();
      await replies.close();
    },
  };
}
