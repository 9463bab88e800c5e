import { LOG_EXCHANGES, RPC_QUEUES, useTestVhost } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';
import { ctrlC, startApp } from './repo.js';

const broker = useTestVhost('e2e-patterns', { queues: RPC_QUEUES, exchanges: LOG_EXCHANGES });

const start = (app: 'producer' | 'consumer', ...args: string[]) => startApp(broker, app, ...args);

describe("the README's commands for tutorials 5 and 6", () => {
  it("topics: consumer --from topic_logs --key 'kern.*', producer --to topic_logs --key kern.critical", async () => {
    const consumer = start('consumer', '--from', 'topic_logs', '--key', 'kern.*', '--key', '*.critical');
    await consumer.waitForOutput(/^ \[\*\] Waiting for logs\. To exit press CTRL\+C$/, 60_000);

    const sent = await start('producer', '--to', 'topic_logs', '--key', 'kern.critical', 'A critical kernel error')
      .exited;
    expect(sent.stdout).toMatch(/^ \[x\] Sent 'kern\.critical':'A critical kernel error'$/m);
    expect(sent.code).toBe(0);

    await consumer.waitForOutput(/^ \[x\] 'kern\.critical':'A critical kernel error'$/);
    const stopped = await ctrlC(consumer);
    expect(stopped.code, stopped.stderr).toBe(0);
  });

  it('RPC: consumer --from rpc_queue, then producer --rpc 30', async () => {
    const server = start('consumer', '--from', 'rpc_queue');
    await server.waitForOutput(/^ \[x\] Awaiting RPC requests$/, 60_000);

    const call = await start('producer', '--rpc', '30').exited;
    expect(call.stdout).toMatch(/^ \[x\] Requesting fib\(30\)\n \[\.\] Got 832040$/m);
    expect(call.code).toBe(0);

    await server.waitForOutput(/^ \[\.\] fib\(30\)$/);
    const stopped = await ctrlC(server);
    expect(stopped.code, stopped.stderr).toBe(0);
  });
});
