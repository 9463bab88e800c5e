import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  drainQueue,
  pikaPrograms,
  pythonWithPika,
  spawnApp,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const broker = useTestVhost('producer-tasks', { queues: TASK_QUEUES });
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'producer-report-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const producer = (args: string[], env: Record<string, string> = {}) =>
  spawnApp('producer', args, { env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn', ...env } }).exited;

describe('the producer with --to task_queue (tutorial 2, new_task)', () => {
  it('publishes a persistent task, confirmed, to a durable quorum task_queue it creates', async () => {
    const result = await producer(['--to', 'task_queue', 'First', 'message.']);
    expect(result.stdout).toBe(" [x] Sent 'First message.'\n");
    expect(result.code).toBe(0);
    const [task] = await drainQueue(broker.url, 'task_queue');
    expect(task?.body).toBe('First message.');
    expect(task?.properties).toMatchObject({ deliveryMode: 2, contentType: 'text/plain' });
    // The queue it made is durable and quorum: this declaration is equivalent.
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('task_queue', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
  });

  it("writes each message's outcome to --report, one JSON line each", async () => {
    const report = join(scratch, 'outcomes.jsonl');
    const result = await producer(['--to', 'task_queue', '--count', '3', '--report', report, 'job']);
    expect(result.code).toBe(0);
    const lines = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.body).sort()).toEqual(['job #1', 'job #2', 'job #3']);
    for (const line of lines)
      expect(line).toMatchObject({ status: 'confirmed', attempts: 1, messageId: expect.any(String) as unknown });
  });

  it('publishes refused (nacked) messages again until the deadline, then reports them nacked', async () => {
    // A queue that refuses everything: every attempt is nacked.
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('task_queue', {
        durable: true,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      }),
    );
    const report = join(scratch, 'nacked.jsonl');
    const result = await producer(['--to', 'task_queue', '--count', '2', '--report', report, 'refused'], {
      PUBLISH_DEADLINE_MS: '1000',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "producer: sent 0 of 2 messages to 'task_queue': 0 confirmed, 0 returned, 2 nacked, 0 failed",
    );
    const statuses = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; attempts: number });
    expect(statuses.map((line) => line.status)).toEqual(['nacked', 'nacked']);
    for (const line of statuses) expect(line.attempts).toBeGreaterThan(1);
  });
});

describe("our producer and pika's tutorial 2 worker.py", () => {
  const worker = (...flags: string[]) =>
    broker.start(pythonWithPika(), [pikaPrograms.worker, '--max', '1', ...flags], {
      env: { AMQP_URL: broker.url, WORK_UNIT_MS: '10' },
    });

  it('worker.py (the original tutorial: durable classic task_queue) started first does our task', async () => {
    const w = worker();
    await w.waitForOutput(/Waiting for messages/);
    expect((await producer(['--to', 'task_queue', 'Second', 'message..'])).code).toBe(0);
    await w.waitForOutput(/^ \[x\] Received Second message\.\.$/);
    expect((await w.exited).code).toBe(0);
  });

  it('the current tutorial’s worker.py (quorum) started after our producer does the waiting task', async () => {
    expect((await producer(['--to', 'task_queue', 'Fourth', 'message....'])).code).toBe(0);
    const w = worker('--quorum');
    await w.waitForOutput(/^ \[x\] Done$/);
    expect(w.stdout).toContain(' [x] Received Fourth message....');
    expect((await w.exited).code).toBe(0);
  });
});
