import { randomUUID } from 'node:crypto';
import { createLogger, parseAmqpUrl } from '@hello-rabbit/runtime';
import { openBroker, RecoveryHeader, startConsumer, type Broker, type RunningConsumer } from '@hello-rabbit/transport';
import { eventually, inspectQueue, TASK_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import type { GetMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueueListing } from '../src/dlq-list.js';
import { lines, ops, opsJson } from './helpers.js';

const broker = useTestVhost('ops-replay', { queues: TASK_QUEUES });
const logger = createLogger({ name: 'test', level: 'silent' });

const opened: { broker: Broker; consumer: RunningConsumer }[] = [];
afterEach(async () => {
  for (const { broker: b, consumer } of opened.splice(0)) {
    await consumer.stop();
    await b.shutdown();
  }
});

/** The worker of the contract (the transport's consumer engine) on task_queue, with this handler. */
async function worker(maxAttempts: number, handler: (payload: string, messageId: string | undefined) => void) {
  const parsed = parseAmqpUrl(broker.url);
  if (!parsed.ok) throw new Error(parsed.reason);
  const b = await openBroker({ endpoint: parsed.endpoint, connectionName: 'test worker' }, logger);
  const consumer = await startConsumer(
    b,
    'task_queue',
    (payload, context) => {
      handler(payload, context.messageId);
    },
    {
      logger,
      confirmTimeoutMs: 10_000,
      maxAttempts,
      retryDelaysMs: [200],
    },
  );
  const entry = { broker: b, consumer };
  opened.push(entry);
  return async () => {
    opened.splice(opened.indexOf(entry), 1);
    await consumer.stop();
    await b.shutdown();
  };
}

const sendTasks = (tasks: readonly { id: string; text: string }[]) =>
  withChannel(broker.url, async (channel) => {
    for (const task of tasks) {
      channel.sendToQueue('task_queue', Buffer.from(task.text), {
        persistent: true,
        messageId: task.id,
        contentType: 'text/plain',
        headers: { tenant: 'acme' },
      });
    }
    await channel.close();
  });

describe('dead letters of the real consumer, replayed', () => {
  it('are listed by reason, shown, replayed (dry run first), then handled by the worker, messageIds kept', async () => {
    const tasks = [1, 2, 3].map((n) => ({ id: randomUUID(), text: `task ${n}.` }));

    // A worker whose handler always fails, allowed two attempts, retries each task once
    // (through task_queue.retry.1, which leaves an x-death record), then dead-letters it.
    const stopFailing = await worker(2, () => {
      throw new Error('boom');
    });
    await sendTasks(tasks);
    await eventually(
      async () => (await inspectQueue(broker.url, 'task_queue.dlq'))?.messageCount === 3,
      30_000,
      '3 dead letters',
    );
    await stopFailing();

    const listed = await opsJson<{ queues: QueueListing[] }>(broker.url, ['dlq', 'list', 'task_queue.dlq']);
    expect(listed.result.code).toBe(0);
    expect(listed.json.queues[0]?.groups).toEqual([
      expect.objectContaining({
        reason: 'handler failed: boom (attempt 2 of 2)',
        count: 3,
        undated: 0,
        sampleIds: tasks.map((t) => t.id),
      }),
    ]);

    const [first] = tasks;
    if (first === undefined) throw new Error('no task');
    const shown = await ops(broker.url, ['dlq', 'show', 'task_queue.dlq', first.id]);
    expect(shown.code).toBe(0);
    expect(lines(shown.stdout)).toEqual(
      expect.arrayContaining([
        `  ${RecoveryHeader.reason}: handler failed: boom (attempt 2 of 2)`,
        `  ${RecoveryHeader.queue}: task_queue`,
        '  tenant: acme',
        '  task 1.',
      ]),
    );
    expect(shown.stdout).toMatch(/^ {2}x-death: \[\{.*"queue":"task_queue\.retry\.1".*\}\]$/m);

    const dry = await ops(broker.url, ['dlq', 'replay', 'task_queue.dlq', '--all', '--dry-run']);
    expect(dry.code).toBe(0);
    expect((await inspectQueue(broker.url, 'task_queue.dlq'))?.messageCount).toBe(3);
    expect((await inspectQueue(broker.url, 'task_queue'))?.messageCount).toBe(0);

    const replay = await ops(broker.url, ['dlq', 'replay', 'task_queue.dlq', '--all']);
    expect(replay.code).toBe(0);
    expect(lines(replay.stdout).at(-1)).toMatch(
      /^replayed 3 dead letters from 'task_queue\.dlq' in \d+\.\d s \(at most 10\/s\); 0 left in 'task_queue\.dlq'$/,
    );
    expect((await inspectQueue(broker.url, 'task_queue.dlq'))?.messageCount).toBe(0);

    // The copies: same id, body, content type and application headers; no dead-letter
    // headers; the replay recorded.
    const copies = await withChannel(broker.url, async (channel) => {
      const got: GetMessage[] = [];
      for (;;) {
        const message = await channel.get('task_queue', { noAck: false });
        if (message === false) break;
        got.push(message);
      }
      // Closing without acking gives them back (3 of them: in order) for the worker below.
      return got;
    });
    expect(copies.map((m) => m.properties.messageId as unknown)).toEqual(tasks.map((t) => t.id));
    expect(copies.map((m) => m.content.toString())).toEqual(tasks.map((t) => t.text));
    for (const copy of copies) {
      expect(copy.properties.contentType).toBe('text/plain');
      expect(copy.properties.deliveryMode).toBe(2);
      const headers = copy.properties.headers ?? {};
      expect(headers).toMatchObject({ tenant: 'acme', 'x-replay-count': 1, 'x-replayed-from': 'task_queue.dlq' });
      expect(Date.parse(String(headers['x-replayed-at']))).not.toBeNaN();
      for (const gone of [
        RecoveryHeader.reason,
        RecoveryHeader.queue,
        RecoveryHeader.at,
        RecoveryHeader.attempts,
        'x-death',
      ]) {
        expect(headers).not.toHaveProperty(gone);
      }
    }

    // A worker that succeeds handles each of them once, by its original messageId. Its
    // two attempts suffice only because the replay dropped the old attempts (x-death, the
    // dead-letter headers): the look above gave each back once, which counts as one.
    const handled: { text: string; id: string | undefined }[] = [];
    await worker(2, (text, id) => {
      handled.push({ text, id });
    });
    await eventually(() => handled.length === 3, 30_000, '3 tasks handled');
    expect(handled).toEqual(tasks.map((t) => ({ text: t.text, id: t.id })));
    await eventually(
      async () => (await inspectQueue(broker.url, 'task_queue'))?.messageCount === 0,
      10_000,
      'task_queue empty',
    );
    expect((await inspectQueue(broker.url, 'task_queue.dlq'))?.messageCount).toBe(0);
  });
});
