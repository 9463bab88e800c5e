import { HELLO_QUEUES, inspectQueue, RPC_QUEUES, TASK_QUEUES, useTestVhost } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

// A vhost of its own, so that no other test's queues are there to begin with; each test
// removes what it made (the fixture deletes these queues after each test).
const broker = useTestVhost('consumer-declares', {
  queues: [...HELLO_QUEUES, ...TASK_QUEUES, ...RPC_QUEUES],
  exchanges: ['logs'],
});

/** The contract's queues that exist in the vhost now. */
async function existing(): Promise<string[]> {
  const found: string[] = [];
  for (const queue of [...HELLO_QUEUES, ...TASK_QUEUES, ...RPC_QUEUES]) {
    if ((await inspectQueue(broker.url, queue)) !== undefined) found.push(queue);
  }
  return found;
}

const started = async (args: string[], line: RegExp) => {
  const consumer = broker.spawnApp('consumer', args, { env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' } });
  await consumer.waitForOutput(line);
  return consumer;
};

describe('the queues a consumer declares', () => {
  it('on hello: hello and its dead-letter queue', async () => {
    await started([], /Waiting for messages/);
    expect(await existing()).toEqual(['hello', 'hello.dlq']);
  });

  it('on task_queue: task_queue, its dead-letter queue and its retry queues', async () => {
    await started(['--from', 'task_queue'], /Waiting for messages/);
    expect(await existing()).toEqual([
      'task_queue',
      'task_queue.dlq',
      'task_queue.retry.1',
      'task_queue.retry.2',
      'task_queue.retry.3',
    ]);
  });

  it('the RPC server: rpc_queue and its dead-letter queue', async () => {
    await started(['--from', 'rpc_queue'], /Awaiting RPC requests/);
    expect(await existing()).toEqual(['rpc_queue', 'rpc_queue.dlq']);
  });

  it('a subscriber to logs: none of the contract’s queues (its own is named by the broker)', async () => {
    await started(['--from', 'logs'], /Waiting for logs/);
    expect(await existing()).toEqual([]);
  });
});
