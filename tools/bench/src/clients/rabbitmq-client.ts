import { Connection } from 'rabbitmq-client';
import { CONTENT_TYPE, type BenchClient } from './client.js';

/**
 * rabbitmq-client: its Publisher with `confirm: true` (every send resolves on the broker's
 * confirm) and its Consumer, which acks when the handler returns.
 */
export async function connectRabbitmqClient(url: string): Promise<BenchClient> {
  const connection = new Connection({ url, noDelay: true, connectionName: 'bench rabbitmq-client' });
  connection.on('error', () => undefined);
  await connection.onConnect(5000, true);
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 1 });
  const consumers: { close(): Promise<void> }[] = [];

  return {
    publish(queue, body, messageId, done) {
      publisher.send({ routingKey: queue, durable: true, messageId, contentType: CONTENT_TYPE }, body).then(
        () => {
          done(true);
        },
        () => {
          done(false);
        },
      );
    },
    async consume(queue, prefetch, onDelivery) {
      const consumer = connection.createConsumer(
        // The consumer declares its queue; passive: use the one there, whatever its shape.
        { queue, queueOptions: { queue, passive: true }, qos: { prefetchCount: prefetch }, noAck: false },
        (message) => {
          onDelivery(message.body as Buffer | string);
        },
      );
      consumers.push(consumer);
      await new Promise<void>((resolve, reject) => {
        consumer.once('ready', () => {
          resolve();
        });
        consumer.once('error', reject);
      });
      return {
        stop: async () => {
          await consumer.close();
        },
      };
    },
    async close() {
      for (const consumer of consumers) await consumer.close().catch(() => undefined);
      await publisher.close();
      await connection.close();
    },
  };
}
