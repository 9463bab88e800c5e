import { HELLO_QUEUES, inspectQueue, RPC_QUEUES, spawnApp, TASK_QUEUES, useTestVhost } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

// A vhost of its own, so that no other test's queues are there to begin with.
const broker = useTestVhost('producer-declares', { queues: [...HELLO_QUEUES, ...TASK_QUEUES, ...RPC_QUEUES] });

const producer = (args: string[]) =>
  spawnApp('producer', args, { env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' }, timeoutMs: 30_000 }).exited;

/** The contract's queues that exist in the vhost now. */
async function existing(): Promise<string[]> {
  const found: string[] = [];
  for (const queue of [...HELLO_QUEUES, ...TASK_QUEUES, ...RPC_QUEUES]) {
    if ((await inspectQueue(broker.url, queue)) !== undefined) found.push(queue);
  }
  return found;
}

describe('the queues a producer command declares', () => {
  it('a Hello World send declares hello alone', async () => {
    const result = await producer([]);
    expect(result.code).toBe(0);
    expect(await existing()).toEqual(['hello']);
  });

  it('a send to task_queue declares task_queue alone (its retry and dead-letter queues are the worker’s)', async () => {
    const result = await producer(['--to', 'task_queue', 'a task.']);
    expect(result.code).toBe(0);
    expect(await existing()).toEqual(['task_queue']);
  });

  it('an RPC call declares no queue (direct reply-to; rpc_queue is the server’s)', async () => {
    const result = await producer(['--rpc', '3', '--timeout', '500']);
    expect(result.code).not.toBe(0);
    expect(await existing()).toEqual([]);
  });
});
