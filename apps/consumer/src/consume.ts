import { randomUUID } from 'node:crypto';
import { publishConfirmed, type Broker, type Logger } from '@hello-rabbit/broker-client';
import {
  deadLetterPublication,
  decodeMessage,
  subscriptions,
  type SubscriptionName,
  type SubscriptionPayload,
} from '@hello-rabbit/broker-config';
import type { AckOrNack } from 'rascal';

/** What a handler learns about the delivery it handles. */
export interface DeliveryContext {
  readonly queue: string;
  readonly messageId: string | undefined;
  /** The broker delivered this message before, to this or another consumer. */
  readonly redelivered: boolean;
}

/** A plain function: resolve and the message is acked; throw and it is dead-lettered. */
export type Handler<S extends SubscriptionName> = (
  payload: SubscriptionPayload<S>,
  context: DeliveryContext,
) => void | Promise<void>;

export interface ConsumerOptions {
  readonly logger: Logger;
  /** Time the broker has to confirm a dead letter. */
  readonly confirmTimeoutMs: number;
}

/** The parts of an amqplib message the consumer reads. */
interface Delivery {
  readonly content: Buffer;
  readonly fields: { readonly redelivered: boolean; readonly deliveryTag: number };
  readonly properties: {
    readonly messageId?: string;
    readonly contentType?: string;
    readonly headers?: Record<string, unknown>;
  };
}

/** Headers a dead letter carries, beside the original message's own. */
export const DeadLetterHeader = {
  reason: 'x-dead-letter-reason',
  queue: 'x-original-queue',
  at: 'x-dead-lettered-at',
} as const;

/**
 * Subscribes to a contract subscription and runs `handler` for every delivery that the
 * contract accepts. Each delivery ends one way:
 * - the handler resolved: ack;
 * - the body breaks the contract, or the handler threw: the message is published, with the
 *   reason in its headers, to the subscription's dead-letter queue; once the broker has
 *   confirmed that copy, the original is acked. If the copy is not confirmed the original
 *   is requeued, never dropped.
 */
export async function startConsumer<S extends SubscriptionName>(
  broker: Broker,
  name: S,
  handler: Handler<S>,
  options: ConsumerOptions,
): Promise<void> {
  const { logger } = options;
  const declaration = subscriptions[name];
  const queue = declaration.queue;
  const session = await broker.subscribe(name);

  const deadLetter = async (message: Delivery, reason: string, ackOrNack: AckOrNack) => {
    const messageId = message.properties.messageId;
    // Rascal adds its own `rascal` header on delivery; the copy leaves it behind.
    const headers = { ...message.properties.headers };
    delete headers.rascal;
    const outcome = await publishConfirmed(broker, deadLetterPublication(declaration.deadLetterQueue), message.content, {
      messageId: messageId ?? randomUUID(),
      contentType: message.properties.contentType,
      headers: {
        ...headers,
        [DeadLetterHeader.reason]: reason,
        [DeadLetterHeader.queue]: queue,
        [DeadLetterHeader.at]: new Date().toISOString(),
      },
      appId: 'consumer',
      timeoutMs: options.confirmTimeoutMs,
    });
    if (outcome.status === 'confirmed') {
      logger.warn({ messageId, queue, deadLetterQueue: declaration.deadLetterQueue, reason }, 'message dead-lettered');
      ackOrNack();
    } else {
      logger.error(
        { messageId, queue, reason, deadLetterFailure: outcome.reason },
        'could not dead-letter the message; it goes back to the queue',
      );
      ackOrNack(new Error(reason), { strategy: 'nack', requeue: true, defer: 1000 });
    }
  };

  const handle = async (message: Delivery, content: Buffer, ackOrNack: AckOrNack) => {
    const decoded = decodeMessage(declaration.message, content, message.properties.contentType);
    if (!decoded.ok) {
      await deadLetter(message, `invalid message: ${decoded.reason}`, ackOrNack);
      return;
    }
    try {
      await handler(decoded.payload as SubscriptionPayload<S>, {
        queue,
        messageId: message.properties.messageId,
        redelivered: message.fields.redelivered,
      });
    } catch (err) {
      await deadLetter(message, `handler failed: ${err instanceof Error ? err.message : String(err)}`, ackOrNack);
      return;
    }
    ackOrNack();
  };

  session.on('message', (message: Delivery, content: Buffer, ackOrNack: AckOrNack) => {
    handle(message, content, ackOrNack).catch((err: unknown) => {
      logger.error({ err, queue }, 'unexpected error while handling a message; it goes back to the queue');
      ackOrNack(err as Error, { strategy: 'nack', requeue: true, defer: 1000 });
    });
  });
  // The subscription asks Rascal for raw bytes, so it should never find content invalid;
  // if it does, the message is set aside like any other the contract refuses.
  session.on('invalid_content', (err: Error, message: Delivery, ackOrNack: AckOrNack) => {
    void deadLetter(message, `invalid content: ${err.message}`, ackOrNack);
  });
  session.on('error', (err: Error) => {
    logger.error({ err, queue }, 'subscription error');
  });
  session.on('cancelled', (err: Error) => {
    logger.warn({ err, queue }, 'the broker cancelled the subscription; Rascal resubscribes');
  });
}
