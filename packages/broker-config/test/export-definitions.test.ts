import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The built command, as `pnpm --filter @hello-rabbit/broker-config export-definitions` runs it.
const cli = fileURLToPath(new URL('../dist/export-definitions.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(path.join(tmpdir(), 'export-definitions-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('export-definitions', () => {
  it('prints the definitions for the vhost and users it is given', () => {
    const result = run('--vhost', 'prod', '--producer-user', 'orders-in', '--consumer-user', 'orders-worker');
    expect(result.status).toBe(0);
    const definitions = JSON.parse(result.stdout) as {
      vhosts: unknown;
      exchanges: { name: string; vhost: string; type: string }[];
      permissions: { user: string; vhost: string }[];
    };
    expect(definitions.vhosts).toEqual([{ name: 'prod' }]);
    expect(definitions.exchanges.map((e) => `${e.name}@${e.vhost}:${e.type}`)).toEqual([
      'logs@prod:fanout',
      'direct_logs@prod:direct',
      'topic_logs@prod:topic',
    ]);
    expect(definitions.permissions.map((p) => `${p.user}@${p.vhost}`)).toEqual([
      'orders-in@prod',
      'orders-worker@prod',
    ]);
  });

  it('takes the options after the `--` that pnpm passes on', () => {
    const result = run('--', '--vhost', 'v1');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ vhosts: [{ name: 'v1' }] });
  });

  it('writes to a file with --out', () => {
    const file = path.join(dir, 'definitions.json');
    const result = run('--out', file);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ vhosts: [{ name: '/' }] });
  });

  it('refuses an unknown option with one line and exit code 64', () => {
    const result = run('--vhsot', 'x');
    expect(result.status).toBe(64);
    expect(result.stderr.split('\n')[0]).toMatch(/^export-definitions: Unknown option '--vhsot'/);
  });

  it('refuses one user for both apps', () => {
    const result = run('--producer-user', 'app', '--consumer-user', 'app');
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/need users of their own/);
  });

  it('covers only the commands named with --producer-to and --consumer-from, repeated as needed', () => {
    const send = run('--vhost', 'prod', '--producer-user', 'sender', '--producer-to', 'hello');
    expect(send.status, send.stderr).toBe(0);
    const hello = JSON.parse(send.stdout) as Definitions;
    expect(hello.queues.map((q) => q.name)).toEqual(['hello']);
    expect(hello.exchanges).toEqual([]);
    expect(hello.permissions).toEqual([
      { user: 'sender', vhost: 'prod', configure: '^$', write: '^amq\\.default$', read: '^$' },
    ]);

    const both = run(
      '--',
      '--producer-to',
      'logs',
      '--producer-to',
      'rpc_queue',
      '--consumer-from',
      'task_queue',
      '--consumer-from',
      'logs',
    );
    expect(both.status, both.stderr).toBe(0);
    const definitions = JSON.parse(both.stdout) as Definitions;
    expect(definitions.queues.map((q) => q.name)).toEqual([
      'task_queue',
      'task_queue.dlq',
      'task_queue.retry.1',
      'task_queue.retry.2',
      'task_queue.retry.3',
    ]);
    expect(definitions.exchanges.map((e) => e.name)).toEqual(['logs']);
    expect(definitions.permissions).toEqual([
      { user: 'producer', vhost: '/', configure: '^$', write: '^(amq\\.default|logs)$', read: '^$' },
      {
        user: 'consumer',
        vhost: '/',
        configure: '^amq\\.gen-.*$',
        write: '^(amq\\.default|amq\\.gen-.*)$',
        read: '^(logs|task_queue|amq\\.gen-.*)$',
      },
    ]);
  });

  it('lets the two apps share a user name when only one of them is covered', () => {
    const result = run('--producer-user', 'app', '--consumer-user', 'app', '--consumer-from', 'rpc_queue');
    expect(result.status, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as Definitions).permissions.map((p) => `${p.user}:${p.read}`)).toEqual([
      'app:^rpc_queue$',
    ]);
  });

  it('refuses an unknown command with one line naming the known ones, and exit code 64', () => {
    const producer = run('--producer-to', 'hello', '--producer-to', 'helo');
    expect(producer.status).toBe(64);
    expect(producer.stdout).toBe('');
    expect(producer.stderr).toBe(
      'export-definitions: --producer-to: unknown name "helo" ' +
        '(one of: hello, task_queue, rpc_queue, logs, direct_logs, topic_logs)\n',
    );
    // A dead-letter queue is for operators: no consumer command reads it.
    const consumer = run('--consumer-from', 'task_queue.dlq');
    expect(consumer.status).toBe(64);
    expect(consumer.stderr).toBe(
      'export-definitions: --consumer-from: unknown name "task_queue.dlq" ' +
        '(one of: hello, task_queue, rpc_queue, logs, direct_logs, topic_logs)\n',
    );
    const empty = run('--consumer-from', '');
    expect(empty.status).toBe(64);
    expect(empty.stderr.split('\n')).toEqual([
      'export-definitions: --consumer-from: unknown name "" ' +
        '(one of: hello, task_queue, rpc_queue, logs, direct_logs, topic_logs)',
      '',
    ]);
  });

  it('documents the per-command flags in its help', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    for (const flag of ['--producer-to <name>', '--consumer-from <name>']) expect(result.stdout).toContain(flag);
    for (const name of ['hello', 'task_queue', 'rpc_queue', 'logs', 'direct_logs', 'topic_logs'])
      expect(result.stdout).toContain(name);
  });
});

interface Definitions {
  queues: { name: string }[];
  exchanges: { name: string }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
}
