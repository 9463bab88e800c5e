import amqpConnectionManager from 'amqp-connection-manager';
import { CONTENT_TYPE, type BenchClient } from './client.js';

/**
 * amqp-connection-manager: a ChannelWrapper on a confirm channel (each publish resolves on
 * the broker's confirm) for publishing, another one with `prefetch` for consuming.
 */
export async function connectAmqpConnectionManager(url: string): Promise<BenchClient> {
  const manager = amqpConnectionManager.connect([url], {
    connectionOptions: { noDelay: true, clientProperties: { connection_name: 'bench amqp-connection-manager' } },
  });
  manager.on('connectFailed', () => undefined);
  const publishing = manager.createChannel({ confirm: true, json: false });
  await publishing.waitForConnect();
  const consuming = manager.createChannel({ json: false });

  return {
    publish(queue, body, messageId, done) {
      publishing.sendToQueue(queue, body, { persistent: true, messageId, contentType: CONTENT_TYPE }).then(
        () => {
          done(true);
        },
        () => {
          done(false);
        },
      );
    },
    async consume(queue, prefetch, onDelivery) {
      await consuming.waitForConnect();
      const { consumerTag } = await consuming.consume(
        queue,
        (message) => {
          onDelivery(message.content);
          consuming.ack(message);
        },
        { prefetch, noAck: false },
      );
      return {
        stop: async () => {
          await consuming.cancel(consumerTag);
        },
      };
    },
    async close() {
      await consuming.close();
      await publishing.close();
      await manager.close();
    },
  };
}
