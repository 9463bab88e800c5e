import amqplib from 'amqplib';
import { CONTENT_TYPE, type BenchClient } from './client.js';

/**
 * The baseline: raw amqplib doing the bare minimum. A ConfirmChannel, publish with a
 * callback (the pump keeps at most its window unconfirmed), a noDelay socket; a plain
 * channel with basic.qos and one ack per message for consuming.
 */
export async function connectAmqplib(url: string): Promise<BenchClient> {
  const connection = await amqplib.connect(url, { noDelay: true, clientProperties: { connection_name: 'bench amqplib' } });
  const publishing = await connection.createConfirmChannel();
  let consuming: amqplib.Channel | undefined;

  return {
    publish(queue, body, messageId, done) {
      publishing.publish('', queue, body, { persistent: true, messageId, contentType: CONTENT_TYPE }, (err: unknown) => {
        done(err === null || err === undefined);
      });
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
