/**
 * Deliveries from one of the contract's queues, through Rascal's subscription. Rascal owns
 * the channel: after a lost connection it subscribes again by itself (there is no loop of
 * ours here), and on stop it waits for the deliveries in hand up to the subscription's
 * close timeout (`closeTimeoutMs` of openBroker) before it closes the channel.
 */
import type { SubscriptionName } from '@hello-rabbit/broker-config';
import type { Logger } from '@hello-rabbit/runtime';
import { channelError } from '../broker-errors.js';
import { BrokerError } from '../errors.js';
import { subscribeQueue, type AmqpMessage, type Broker, type QueueSession, type Settle } from '../rascal-adapter.js';
import type { Delivery, DeliverySource } from './engine.js';

/** A delivery of a shared queue: it can also go back to the queue. */
export interface QueueDelivery extends Delivery {
  /** Back to the queue (marked redelivered) after `deferMs`, for this consumer or another. */
  requeue(err: Error, deferMs?: number): void;
}

const requeue = { strategy: 'nack', requeue: true } as const;

function queueDelivery(message: AmqpMessage, settle: Settle): QueueDelivery {
  return {
    message,
    // Rascal's ackOrNack reads its arity: no arguments acks.
    ack: () => {
      settle();
    },
    requeue: (err, deferMs) => {
      settle(err, deferMs === undefined ? requeue : { ...requeue, defer: deferMs });
    },
  };
}

/** How `queueSource` subscribes. */
export interface QueueSourceOptions {
  readonly logger: Logger;
  /**
   * A delivery Rascal found invalid (its subscriptions ask for raw bytes, so it should
   * never happen): settled here, outside the pipeline.
   */
  readonly onInvalidContent: (delivery: QueueDelivery, err: Error) => void;
}

/** The contract subscription `name` as a source of deliveries. */
export function queueSource(
  broker: Broker,
  name: SubscriptionName,
  queue: string,
  options: QueueSourceOptions,
): DeliverySource<QueueDelivery> {
  const { logger } = options;
  let session: QueueSession | undefined;
  return {
    start: async (deliver) => {
      const subscription = await subscribeQueue(broker, name);
      session = subscription;
      // Rascal starts consuming when the 'message' listener is attached, and says 'subscribed'
      // once the broker has answered basic.consume; the consumer is ready only then.
      const subscribed = new Promise<void>((resolve, reject) => {
        subscription.once('subscribed', resolve);
        subscription.once('error', reject);
      });
      subscription.on('message', (message: AmqpMessage, _content: unknown, settle: Settle) => {
        deliver(queueDelivery(message, settle));
      });
      subscription.on('invalid_content', (err: Error, message: AmqpMessage, settle: Settle) => {
        options.onInvalidContent(queueDelivery(message, settle), err);
      });
      subscription.on('error', (err: Error) => {
        logger.error({ err, queue }, 'subscription error');
      });
      subscription.on('cancelled', (err: Error) => {
        logger.warn({ err, queue }, 'the broker cancelled the subscription; resubscribing');
      });
      await subscribed.catch((err: unknown) => {
        // A 403 (the user may not read the queue) or a 404 says so, with its exit code.
        throw (
          channelError(err, `cannot consume queue '${queue}'`) ??
          new BrokerError(
            'BROKER_ERROR',
            `cannot consume queue '${queue}': ${err instanceof Error ? err.message : String(err)}`,
            {
              cause: err,
            },
          )
        );
      });
    },
    giveBack: (delivery) => {
      delivery.requeue(new Error('consumer stopping'));
    },
    // Rascal waits for the deliveries in hand itself, up to the subscription's close timeout.
    stop: async () => {
      await session?.cancel();
    },
  };
}
