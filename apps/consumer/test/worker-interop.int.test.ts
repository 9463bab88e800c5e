import { fileURLToPath } from 'node:url';
import {
  createTestVhost,
  pikaPrograms,
  pythonWithPika,
  RunningProcess,
  runProcess,
  withChannel,
  type TestVhost,
} from '@hello-rabbit/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TASK_QUEUES = ['task_queue', 'task_queue.dlq', 'task_queue.retry.1', 'task_queue.retry.2', 'task_queue.retry.3'];
let vhost: TestVhost;
let python: string;
const running: RunningProcess[] = [];

beforeAll(async () => {
  python = pythonWithPika();
  vhost = await createTestVhost('worker-interop');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await withChannel(vhost.url, async (channel) => {
    for (const queue of TASK_QUEUES) await channel.deleteQueue(queue);
  });
});
afterAll(async () => {
  await vhost.dispose();
});

const worker = () => {
  const p = new RunningProcess(process.execPath, [main, '--from', 'task_queue'], {
    env: { AMQP_URL: vhost.url, LOG_LEVEL: 'warn', WORK_UNIT_MS: '50' },
  });
  running.push(p);
  return p;
};
const newTask = (...args: string[]) => runProcess(python, [pikaPrograms.newTask, ...args], { env: { AMQP_URL: vhost.url } });

describe("pika's tutorial 2 new_task.py and our worker", () => {
  it('new_task.py first (the original tutorial: durable classic task_queue), then our worker adopts the queue and does the task', async () => {
    const sent = await newTask('First', 'message.');
    expect(sent.stdout).toBe(' [x] Sent First message.\n');
    expect(sent.code).toBe(0);
    const w = worker();
    await w.waitForOutput(/^ \[x\] Received 'First message\.'$/);
    await w.waitForOutput(/^ \[x\] Done$/);
  });

  it('our worker first (it creates a quorum task_queue), then the current tutorial’s new_task.py (quorum too)', async () => {
    const w = worker();
    await w.waitForOutput(/Waiting for messages/);
    const sent = await newTask('--quorum', 'Third', 'message...');
    expect(sent.code).toBe(0);
    await w.waitForOutput(/^ \[x\] Received 'Third message\.\.\.'$/);
    await w.waitForOutput(/^ \[x\] Done$/);
  });
});
