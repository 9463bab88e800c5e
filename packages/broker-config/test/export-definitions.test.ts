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
    expect(definitions.exchanges.map((e) => `${e.name}@${e.vhost}:${e.type}`)).toEqual(['logs@prod:fanout', 'direct_logs@prod:direct', 'topic_logs@prod:topic']);
    expect(definitions.permissions.map((p) => `${p.user}@${p.vhost}`)).toEqual(['orders-in@prod', 'orders-worker@prod']);
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
});
