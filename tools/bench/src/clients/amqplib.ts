import amqplib from 'amqplib';
import { CONTENT_TYPE, type BenchClient } from './client.js';

export interface AmqplibOptions {
  /**
   * Publish with the `mandatory` flag, as the project's path does so that an unroutable
   * message comes back instead of being dropped: the reference for what that costs.
   * @default false (the baseline: the bare minimum)
   */
  readonly mandatory?: boolean;
}

/**
 * The baseline: raw amqplib doing the bare minimum. A ConfirmChannel, publish with a
 * callback (the pump keeps at most its window unconfirmed), a noDelay socket; a plain
 * channel with basic.qos and one ack per message for consuming. With `mandatory`, the same
 * plus the flag, and a message the broker returns counted as not confirmed.
 */
export async function connectAmqplib(url: string, { mandatory = false }: AmqplibOptions = {}): Promise<BenchClient> {
  const name = mandatory ? 'bench amqplib mandatory' : 'bench amqplib';
  const connection = await amqplib.connect(url, { noDelay: true, clientProperties: { connection_name: name } });
  const publishing = await connection.createConfirmChannel();
  let consuming: amqplib.Channel | undefined;
  // basic.return comes before the basic.ack of the same message.
  const returned = new Set<string>();
  if (mandatory) {
    publishing.on('return', (message: amqplib.Message) => {
      returned.add(String(message.properties.messageId));
    });
  }

  return {
    publish(queue, body, messageId, done) {
      publishing.publish(
        '',
        queue,
        body,
        { persistent: true, messageId, contentType: CONTENT_TYPE, mandatory },
        (err: unknown) => {
          done((err === null || err === undefined) && !(mandatory && returned.delete(messageId)));
        },
      );
    },
    async consume(queue, prefetch, onDelivery) {
      const channel = await connection.createChannel();
      consuming = channel;
      await channel.prefetch(prefetch);
      const { consumerTag } = await channel.consume(
        queue,
        (message) => {
          if (message === null) return;
          onDelivery(message.content);
          channel.ack(message);
        },
        { noAck: false },
      );
      return {
        stop: async () => {
          await channel.cancel(consumerTag);
        },
      };
    },
    async close() {
      await consuming?.close().catch(() => undefined);
      await connection.close();
    },
  };
}
