import { pikaPrograms, pythonWithPika, runProcess, TASK_QUEUES, useTestVhost } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

const broker = useTestVhost('worker-interop', { queues: TASK_QUEUES });

const worker = () =>
  broker.spawnApp('consumer', ['--from', 'task_queue'], {
    env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn', WORK_UNIT_MS: '50' },
  });
const newTask = (...args: string[]) =>
  runProcess(pythonWithPika(), [pikaPrograms.newTask, ...args], { env: { AMQP_URL: broker.url } });

describe("pika's tutorial 2 new_task.py and our worker", () => {
  // The original tutorial's new_task.py declares a durable classic task_queue.
  it('new_task.py first (the original tutorial), then our worker adopts the queue and does the task', async () => {
    const sent = await newTask('First', 'message.');
    expect(sent.stdout).toBe(' [x] Sent First message.\n');
    expect(sent.code).toBe(0);
    const w = worker();
    await w.waitForOutput(/^ \[x\] Received 'First message\.'$/);
    await w.waitForOutput(/^ \[x\] Done$/);
  });

  it('our worker first (a quorum task_queue), then the current tutorial’s new_task.py (quorum too)', async () => {
    const w = worker();
    await w.waitForOutput(/Waiting for messages/);
    const sent = await newTask('--quorum', 'Third', 'message...');
    expect(sent.code).toBe(0);
    await w.waitForOutput(/^ \[x\] Received 'Third message\.\.\.'$/);
    await w.waitForOutput(/^ \[x\] Done$/);
  });
});
