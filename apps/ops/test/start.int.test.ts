import { fileURLToPath } from 'node:url';
import { createLogger, parseAmqpUrl } from '@hello-rabbit/runtime';
import { openBroker } from '@hello-rabbit/transport';
import { HELLO_QUEUES, TASK_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';
import { daysAgo, ids, lines, seedDeadLetters, takeIds } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const broker = useTestVhost('ops-start', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });

/** `pnpm --filter ops start -- <args>` from the repository root, as the README says, in a process group of its own. */
const start = (...args: string[]) =>
  broker.start('pnpm', ['--filter', 'ops', 'start', '--', ...args], {
    cwd: repoRoot,
    env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' },
    detached: true,
    timeoutMs: 90_000,
  });

/** The built tool's output without pnpm's own lines (`> ops@0.0.0 start`, the script). */
const toolLines = (stdout: string) => lines(stdout).filter((line) => !line.startsWith('>') && !line.startsWith('$ '));

describe('pnpm --filter ops start -- <command>', () => {
  it('shows the help', async () => {
    const result = await start('--help').exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: ops <command> \[options\]$/m);
  });

  it('checks the topology: 0 in sync, 1 on drift', async () => {
    const parsed = parseAmqpUrl(broker.url);
    if (!parsed.ok) throw new Error(parsed.reason);
    const apps = await openBroker(
      { endpoint: parsed.endpoint, connectionName: 'test' },
      createLogger({ name: 'test', level: 'silent' }),
    );
    await apps.shutdown();
    const inSync = await start('topology', 'check').exited;
    expect(inSync.code).toBe(0);
    expect(toolLines(inSync.stdout).at(-1)).toBe(
      'in sync: 9 of 9 queues, 0 of 0 exchanges and 0 of 0 bindings as declared',
    );

    await withChannel(broker.url, (channel) => channel.deleteQueue('hello.dlq'));
    const drift = await start('topology', 'check').exited;
    expect(drift.code).toBe(1);
    expect(toolLines(drift.stdout)).toContain(
      "  MISSING         queue 'hello.dlq': declared by the contract, not on the broker",
    );
  });

  it('on CTRL+C, a replay finishes the message in hand and leaves the rest where it was, in order', async () => {
    const letters = ids('m', 40).map((id, i) => ({ id, reason: 'boom', at: daysAgo(40 - i) }));
    await seedDeadLetters(broker.url, 'task_queue.dlq', letters);
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('task_queue', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
    const replay = start('dlq', 'replay', 'task_queue.dlq', '--all', '--rate', '5');
    await replay.waitForOutput(/^ \[x\] replayed 'm1' /, 30_000);
    if (replay.child.pid !== undefined) process.kill(-replay.child.pid, 'SIGINT');
    const result = await replay.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ops: interrupted: finishing the message in hand');
    const moved = await takeIds(broker.url, 'task_queue');
    expect(moved.length).toBeGreaterThanOrEqual(2);
    expect(moved).toEqual(letters.slice(0, moved.length).map((l) => l.id));
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(letters.slice(moved.length).map((l) => l.id));
  });
});
