import { createLogger, parseAmqpUrl } from '@hello-rabbit/runtime';
import { randomUUID } from 'node:crypto';
import {
  createPublisher,
  openBroker,
  startConsumer,
  type DedupStore,
  type RunningConsumer as ProjectConsumer,
} from '@hello-rabbit/transport';
import { CONTENT_TYPE, type BenchClient, type RunningConsumer } from './client.js';

/** The only queue the project's path publishes to and consumes from: the contract's work queue. */
const TASK_QUEUE = 'task_queue';
const CONFIRM_TIMEOUT_MS = 10_000;

/**
 * The project's own path, every guarantee on, as the apps use it: `openBroker` (Rascal:
 * topology, connection, recovery), `createPublisher` (persistent, mandatory, confirmed,
 * returns and timeouts tracked per message, bounded in flight), and `startConsumer`
 * (contract decoding and checks, attempt counting, duplicate suppression with a claim
 * before the handler and a mark before the ack, ack after the handler). With `redisUrl`
 * the dedup store is Redis, as DEDUP_REDIS_URL makes it in the apps (its keys under a
 * prefix of this run, deleted on close and set to expire anyway).
 */
export async function connectProject(
  url: string,
  window: number,
  prefetch: number,
  options: { readonly redisUrl?: string } = {},
): Promise<BenchClient> {
  const parsed = parseAmqpUrl(url);
  if (!parsed.ok) throw new Error(`AMQP URL ${parsed.reason}`);
  const logger = createLogger({ name: 'bench', level: 'warn', secrets: [parsed.endpoint.password] });
  const shared =
    options.redisUrl === undefined
      ? undefined
      : await import('@hello-rabbit/transport/redis-dedup').then(({ openRedisDedupStore }) =>
          openRedisDedupStore(options.redisUrl ?? '', {
            logger,
            prefix: `hello-rabbit-bench:${randomUUID()}`,
            windowMs: 10 * 60_000,
          }),
        );
  const dedup: DedupStore | undefined = shared;
  const broker = await openBroker({ endpoint: parsed.endpoint, connectionName: 'bench project', prefetch }, logger);
  const publisher = createPublisher(broker, { logger, maxInFlight: window });
  const consumers: ProjectConsumer[] = [];

  const onlyTaskQueue = (queue: string) => {
    if (queue !== TASK_QUEUE) throw new Error(`the project's path works on '${TASK_QUEUE}', not '${queue}'`);
  };

  return {
    publish(queue, body, messageId, done) {
      onlyTaskQueue(queue);
      publisher.publish(queue, body, { messageId, contentType: CONTENT_TYPE, timeoutMs: CONFIRM_TIMEOUT_MS }).then(
        (outcome) => {
          done(outcome.status === 'confirmed');
        },
        () => {
          done(false);
        },
      );
    },
    async consume(queue, _prefetch, onDelivery): Promise<RunningConsumer> {
      // The prefetch is the broker's setting, given to openBroker above.
      onlyTaskQueue(queue);
      const running = await startConsumer(
        broker,
        TASK_QUEUE,
        (payload) => {
          onDelivery(payload);
        },
        { logger, confirmTimeoutMs: CONFIRM_TIMEOUT_MS, dedup },
      );
      consumers.push(running);
      return {
        stop: async () => {
          consumers.splice(consumers.indexOf(running), 1);
          await running.stop();
        },
      };
    },
    async close() {
      for (const consumer of consumers) await consumer.stop().catch(() => undefined);
      await publisher.close();
      await broker.shutdown();
      await shared?.clear();
      await shared?.close();
    },
  };
}
