import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The cluster script's own behaviour; booting a real cluster is RabbitCluster's test
// (tools/testkit/test/rabbit-cluster.int.test.ts), which this script runs as is.

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cluster.mjs');
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-state-'));
const run = (...args) =>
  spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CLUSTER_STATE_DIR: stateDir },
  });

test('a bad command or argument gets one line, the usage, and exit 64', () => {
  for (const args of [[], ['sideways'], ['up', '--size', 'ten'], ['down', 'now']]) {
    const result = run(...args);
    assert.equal(result.status, 64, args.join(' '));
    assert.match(result.stderr, /^cluster: .+\nusage: node scripts\/cluster\.mjs up/);
  }
});

test('status with no cluster up says so and exits 1; down with none is a no-op', () => {
  const status = run('status');
  assert.equal(status.status, 1);
  assert.match(status.stdout, /no cluster is up/);
  const down = run('down');
  assert.equal(down.status, 0);
  assert.match(down.stdout, /no cluster is up/);
});
