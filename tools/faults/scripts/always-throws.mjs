#!/usr/bin/env node
// A worker on task_queue whose handler always throws: the transport's startConsumer must
// retry it through the wait queues with backoff, then dead-letter it after MAX_ATTEMPTS,
// never loop. Each call of the handler prints one line, so that the test can count them:
//   [!] attempt <n> of '<body>' at <epoch ms>
// Settings from the environment: AMQP_URL, MAX_ATTEMPTS, RETRY_DELAYS_MS (comma list),
// LOG_LEVEL. SIGTERM stops it (exit 0).
import process from 'node:process';
import { createLogger, parseAmqpUrl } from '@hello-rabbit/runtime';
import { openBroker, startConsumer } from '@hello-rabbit/transport';

const parsed = parseAmqpUrl(process.env.AMQP_URL ?? '');
if (!parsed.ok) {
  process.stderr.write(`always-throws: AMQP_URL ${parsed.reason}\n`);
  process.exit(78);
}
const maxAttempts = Number(process.env.MAX_ATTEMPTS ?? '3');
const retryDelaysMs = (process.env.RETRY_DELAYS_MS ?? '200,400').split(',').map(Number);
const logger = createLogger({
  name: 'always-throws',
  level: process.env.LOG_LEVEL ?? 'info',
  secrets: [parsed.endpoint.password],
});

const broker = await openBroker({ endpoint: parsed.endpoint, connectionName: 'always-throws', prefetch: 1 }, logger);
const consumer = await startConsumer(
  broker,
  'task_queue',
  async (payload, context) => {
    process.stdout.write(` [!] attempt ${context.attempt} of '${payload}' at ${Date.now()}\n`);
    throw new Error('this handler always throws');
  },
  { logger, confirmTimeoutMs: 10_000, maxAttempts, retryDelaysMs },
);
process.stdout.write(' [*] Waiting for messages\n');

process.once('SIGTERM', () => {
  consumer
    .stop()
    .then(() => broker.shutdown())
    .then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(
          `always-throws: could not stop cleanly: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exit(70);
      },
    );
});
