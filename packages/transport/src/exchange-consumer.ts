import { setTimeout as sleep } from 'node:timers/promises';
import {
  decodeMessage,
  exchanges,
  exchangeSubscriptions,
  routingKeyProblem,
  SUBSCRIBER_QUEUE_OPTIONS,
  type ExchangeName,
  type ExchangeSubscriptionPayload,
} from '@hello-rabbit/broker-config';
import { channelError } from './broker-errors.js';
import { declareExchange } from './declare-exchange.js';
import { ConfigError } from '@hello-rabbit/runtime';
import { BrokerError } from './errors.js';
import type { Logger } from '@hello-rabbit/runtime';
import type { TopologyMode } from '@hello-rabbit/runtime';
import { call, closeChannel, openChannel, type AmqpChannel, type AmqpMessage, type Broker } from './rascal-adapter.js';
import type { ConsumerMetrics, RunningConsumer } from './start-consumer.js';
import { inProcessSpan, recordFailure } from '@hello-rabbit/runtime';

/** What a handler learns about the log line it handles. */
export interface ExchangeDeliveryContext {
  readonly exchange: ExchangeName;
  /** The key it was published with: the severity, or `<facility>.<severity>`. */
  readonly routingKey: string;
  readonly messageId: string | undefined;
}

/** A plain function: whatever it does, the line is acked (see `startExchangeConsumer`). */
export type ExchangeHandler<E extends ExchangeName> = (
  payload: ExchangeSubscriptionPayload<E>,
  context: ExchangeDeliveryContext,
) => void | Promise<void>;

export interface ExchangeConsumerOptions {
  readonly logger: Logger;
  /**
   * The binding keys: none for the fanout `logs`; one or more severities for `direct_logs`;
   * one or more patterns for `topic_logs` (`*` one word, `#` zero or more).
   */
  readonly bindingKeys: readonly string[];
  /** Deliveries held unacknowledged at once. @default the subscription's own (10) */
  readonly prefetch?: number;
  /** `check`: the exchange is only checked to exist, never declared (AMQP_TOPOLOGY=check). @default 'declare' */
  readonly topology?: TopologyMode;
  /** Time the deliveries in hand have to finish on stop. @default 10000 */
  readonly closeTimeoutMs?: number;
  /** Where deliveries, acks and timings are counted, labelled with the exchange's name. */
  readonly metrics?: Pick<ConsumerMetrics, 'messageDelivered' | 'messageAcked' | 'observeHandlerDuration' | 'observeEndToEndLatency'>;
}

export interface RunningExchangeConsumer extends RunningConsumer {
  /** The server-named queue it consumes now (`amq.gen-...`): a new one after each reconnect. */
  readonly queue: string | undefined;
}

/**
 * Checks binding keys against an exchange subscription's rule.
 * @throws ConfigError (usage) naming each bad key.
 */
export function checkBindingKeys(name: ExchangeName, keys: readonly string[]): void {
  const { routingKey } = exchangeSubscriptions[name];
  if (routingKey === 'none') {
    if (keys.length > 0) throw new ConfigError(`'${name}' is a fanout exchange: every subscriber gets every message, so it takes no --key`, undefined, 'usage');
    return;
  }
  if (keys.length === 0) {
    const example = routingKey === 'word' ? '--key info --key error' : "--key 'kern.*' --key '*.critical'";
    throw new ConfigError(`'${name}' needs at least one --key to bind with, e.g. ${example}`, undefined, 'usage');
  }
  const problems = keys.flatMap((key) => {
    const problem = routingKeyProblem(routingKey, key, true);
    return problem === undefined ? [] : [`--key '${key}' cannot bind to '${name}': ${problem}`];
  });
  if (problems.length > 0) throw new ConfigError(problems.join('; '), problems, 'usage');
}

/**
 * A subscriber's own queue is declared and bound whatever AMQP_TOPOLOGY says (the broker
 * names it when the subscriber starts, so no definitions can make it beforehand): a
 * refusal says which permission those need, rather than the advice for the contract's
 * queues. Anything else is left as it is.
 */
function subscriberRefusal(err: unknown, exchange: ExchangeName, doing: string, needs: string): unknown {
  const refused = /ACCESS[-_]REFUSED - ([^"\n]+)/.exec(err instanceof Error ? err.message : String(err))?.[1];
  if (refused === undefined) return err;
  return new BrokerError('PERMISSION_DENIED', `subscribing to exchange '${exchange}': ${doing}: the broker refused: ${refused} (${needs})`, {
    cause: err,
  });
}

/** Reconnect backoff: 1 s, doubling, at most 30 s (as Rascal's own connection retry). */
const backoff = (attempt: number) => Math.min(30_000, 1000 * 2 ** (attempt - 1));

/**
 * Subscribes to an exchange of tutorials 3 to 5 as the tutorial's `receive_logs*` does: a
 * queue of its own, named by the broker, exclusive to the connection and deleted with it,
 * bound to the exchange with each key; then it runs `handler` for every line.
 *
 * The exchange is declared first (as the tutorial declares it, or adopted as it is).
 * Deliveries are acked once handled (the tutorial uses auto-ack; acking after the handler
 * means a line in hand when the consumer dies is not lost while the queue lives). The queue
 * lives only as long as the subscriber, so there is no retry and no dead-letter queue: a line
 * the contract refuses, or whose handler fails, is logged and acked (dropped).
 *
 * The queue dies with its connection. After a lost connection (Rascal reconnects) or a
 * cancelled consumer, the subscriber declares a new queue, binds it again and consumes it:
 * lines published while it was away are not delivered, exactly as for the tutorial's
 * programs (publish/subscribe has no memory).
 *
 * @throws ConfigError for keys that break the exchange's rule; BrokerError when the first
 *   subscription fails (no permission, an exchange of another type).
 */
export async function startExchangeConsumer<E extends ExchangeName>(
  broker: Broker,
  name: E,
  handler: ExchangeHandler<E>,
  options: ExchangeConsumerOptions,
): Promise<RunningExchangeConsumer> {
  const { logger, metrics } = options;
  const declaration = exchangeSubscriptions[name];
  const exchange = exchanges[name];
  checkBindingKeys(name, options.bindingKeys);
  // The fanout exchange ignores the key: bound with '' as the tutorial does.
  const keys = declaration.routingKey === 'none' ? [''] : [...new Set(options.bindingKeys)];
  const prefetch = options.prefetch ?? declaration.prefetch;
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;

  let stopping = false;
  let inHand = 0;
  let current: { readonly channel: AmqpChannel; readonly queue: string; readonly consumerTag: string } | undefined;

  const onMessage = (channel: AmqpChannel, message: AmqpMessage) => {
    const { messageId, contentType, headers, timestamp } = message.properties;
    const { routingKey } = message.fields;
    inHand++;
    metrics?.messageDelivered(name);
    metrics?.observeEndToEndLatency(name, timestamp);
    const ack = () => {
      inHand--;
      try {
        channel.ack(message);
      } catch {
        // The channel closed meanwhile: the line went with its exclusive queue.
      }
    };
    const decoded = decodeMessage(declaration.message, message.content, contentType);
    if (!decoded.ok) {
      logger.error({ exchange: name, routingKey, messageId, reason: decoded.reason }, 'invalid message dropped (a subscriber queue has no dead-letter queue)');
      ack();
      return;
    }
    const started = performance.now();
    inProcessSpan(name, { messageId, attempt: 1, headers }, async (span) => {
      try {
        await handler(decoded.payload as ExchangeSubscriptionPayload<E>, { exchange: name, routingKey, messageId });
        metrics?.observeHandlerDuration(name, (performance.now() - started) / 1000, 'success');
        metrics?.messageAcked(name);
      } catch (err) {
        recordFailure(span, err);
        metrics?.observeHandlerDuration(name, (performance.now() - started) / 1000, 'failure');
        logger.error({ err, exchange: name, routingKey, messageId }, 'handler failed; the message is dropped');
      }
    })
      .catch((err: unknown) => {
        logger.error({ err, exchange: name, messageId }, 'unexpected error; the message is dropped');
      })
      .finally(ack);
  };

  /** Declares the exchange and a queue of its own, binds it with every key, consumes it. */
  const subscribe = async (): Promise<void> => {
    await declareExchange(broker, exchange, logger, options.topology === undefined ? {} : { topology: options.topology });
    const channel = await openChannel(broker, 'regular');
    // Set by the close handler, which may run at any await below.
    const state = { lost: false };
    channel.on('error', (err: Error) => {
      logger.warn({ err, exchange: name }, 'subscriber channel error');
    });
    channel.once('close', () => {
      state.lost = true;
      // Only a subscription that was up is made again here; one that fails while being
      // made is retried by whoever is making it.
      if (current?.channel !== channel) return;
      current = undefined;
      if (!stopping) void resubscribe();
    });
    try {
      const { queue } = await call<{ readonly queue: string }>((done) => {
        channel.assertQueue('', { ...SUBSCRIBER_QUEUE_OPTIONS, arguments: {} }, done);
      }).catch((err: unknown) => {
        throw subscriberRefusal(err, name, 'declaring its own queue', 'QueueDeclare of a queue named by the broker needs configure permission on amq.gen-.*');
      });
      for (const key of keys) {
        await call((done) => {
          channel.bindQueue(queue, exchange.name, key, {}, done);
        }).catch((err: unknown) => {
          throw subscriberRefusal(
            err,
            name,
            `binding its queue${key === '' ? '' : ` with key '${key}'`}`,
            'QueueBind needs write permission on the queue and read permission on the exchange',
          );
        });
      }
      await call((done) => {
        channel.prefetch(prefetch, false, done);
      });
      const { consumerTag } = await call<{ readonly consumerTag: string }>((done) => {
        channel.consume(
          queue,
          (message) => {
            // null: the broker cancelled the consumer (its queue was deleted). Closing the
            // channel makes the close handler above subscribe again.
            if (message === null) void closeChannel(channel);
            else onMessage(channel, message);
          },
          { noAck: false, exclusive: true },
          done,
        );
      });
      if (state.lost) throw new Error('the channel closed while subscribing');
      current = { channel, queue, consumerTag };
      logger.info({ exchange: name, queue, bindingKeys: keys }, 'subscribed');
    } catch (err) {
      if (!state.lost) await closeChannel(channel);
      if (err instanceof BrokerError) throw err;
      throw channelError(err, `subscribing to exchange '${name}'`) ?? err;
    }
  };

  let resubscribing = false;
  const resubscribe = async () => {
    if (resubscribing) return;
    resubscribing = true;
    logger.warn({ exchange: name }, 'subscription lost; subscribing again with a new queue');
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await subscribe();
        break;
      } catch (err) {
        logger.warn({ err, exchange: name, attempt }, 'could not subscribe again; retrying');
        await sleep(backoff(attempt));
      }
    }
    resubscribing = false;
  };

  await subscribe();

  return {
    get queue() {
      return current?.queue;
    },
    stop: async () => {
      stopping = true;
      const subscription = current;
      current = undefined;
      if (subscription === undefined) return;
      // No new deliveries; wait for the ones in hand, then close (the queue goes with it).
      await call((done) => {
        subscription.channel.cancel(subscription.consumerTag, done);
      }).catch(() => undefined);
      const until = Date.now() + closeTimeoutMs;
      while (inHand > 0 && Date.now() < until) await sleep(20);
      await closeChannel(subscription.channel);
    },
  };
}
