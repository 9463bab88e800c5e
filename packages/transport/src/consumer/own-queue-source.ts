/**
 * Deliveries from a queue of the subscriber's own, as the tutorials' `receive_logs*` make
 * it: named by the broker, exclusive to the connection and deleted with it, bound to an
 * exchange with each key, on a channel of the transport's own on Rascal's connection.
 *
 * The queue dies with its connection. After a lost connection (Rascal reconnects) or a
 * cancelled consumer, the source declares a new queue, binds it again and consumes it:
 * this is the engine's only resubscribe loop (Rascal resubscribes queue subscriptions
 * itself). Lines published while it was away are not delivered, exactly as for the
 * tutorial's programs (publish/subscribe has no memory).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { exchanges, SUBSCRIBER_QUEUE_OPTIONS, type ExchangeName } from '@hello-rabbit/broker-config';
import type { Logger, TopologyMode } from '@hello-rabbit/runtime';
import { channelError } from '../broker-errors.js';
import { declareExchange } from '../declare-exchange.js';
import { BrokerError } from '../errors.js';
import { call, closeChannel, openChannel, type AmqpChannel, type Broker } from '../rascal-adapter.js';
import type { Delivery, DeliverySource } from './engine.js';

/** How `ownQueueSource` subscribes (the exchange subscriber's options, resolved). */
export interface OwnQueueSourceOptions {
  readonly logger: Logger;
  /** The keys to bind with (`''` for a fanout exchange). */
  readonly keys: readonly string[];
  readonly prefetch: number;
  /** `check`: the exchange is only checked to exist, never declared. */
  readonly topology: TopologyMode | undefined;
  /** Time the deliveries in hand have to finish on stop. */
  readonly closeTimeoutMs: number;
}

/** The source, and the queue it consumes now. */
export interface OwnQueueSource extends DeliverySource<Delivery> {
  /** The server-named queue it consumes now (`amq.gen-...`): a new one after each reconnect. */
  readonly queue: string | undefined;
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
  return new BrokerError(
    'PERMISSION_DENIED',
    `subscribing to exchange '${exchange}': ${doing}: the broker refused: ${refused} (${needs})`,
    {
      cause: err,
    },
  );
}

/** Reconnect backoff: 1 s, doubling, at most 30 s (as Rascal's own connection retry). */
const backoff = (attempt: number) => Math.min(30_000, 1000 * 2 ** (attempt - 1));

/** A queue of the subscriber's own, bound to exchange `name` with `options.keys`. */
export function ownQueueSource(broker: Broker, name: ExchangeName, options: OwnQueueSourceOptions): OwnQueueSource {
  const { logger, keys } = options;
  const exchange = exchanges[name];
  let stopping = false;
  let current: { readonly channel: AmqpChannel; readonly queue: string; readonly consumerTag: string } | undefined;
  let deliver: (delivery: Delivery) => void = () => undefined;

  /** Declares the exchange and a queue of its own, binds it with every key, consumes it. */
  const subscribe = async (): Promise<void> => {
    await declareExchange(broker, exchange, logger, { topology: options.topology });
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
        throw subscriberRefusal(
          err,
          name,
          'declaring its own queue',
          'QueueDeclare of a queue named by the broker needs configure permission on amq.gen-.*',
        );
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
        channel.prefetch(options.prefetch, false, done);
      });
      const { consumerTag } = await call<{ readonly consumerTag: string }>((done) => {
        channel.consume(
          queue,
          (message) => {
            // null: the broker cancelled the consumer (its queue was deleted). Closing the
            // channel makes the close handler above subscribe again.
            if (message === null) {
              void closeChannel(channel);
              return;
            }
            deliver({
              message,
              ack: () => {
                try {
                  channel.ack(message);
                } catch {
                  // The channel closed meanwhile: the line went with its exclusive queue.
                }
              },
            });
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

  return {
    get queue() {
      return current?.queue;
    },
    start: async (onDelivery) => {
      deliver = onDelivery;
      await subscribe();
    },
    stop: async (untilSettled) => {
      stopping = true;
      const subscription = current;
      current = undefined;
      if (subscription === undefined) return;
      // No new deliveries; wait for the ones in hand, then close (the queue goes with it).
      await call((done) => {
        subscription.channel.cancel(subscription.consumerTag, done);
      }).catch(() => undefined);
      await untilSettled(options.closeTimeoutMs);
      await closeChannel(subscription.channel);
    },
  };
}
