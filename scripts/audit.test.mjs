// Tests for scripts/audit.mjs with Node's built-in runner:  node --test scripts/
//
// judge() on pnpm audit's outputs (a report with advisories, a clean one, an endpoint that
// refuses, one that does not answer, pnpm failing otherwise), then the script itself with a
// stand-in `pnpm` first on PATH, so that no test depends on the network.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { judge } from './audit.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'audit.mjs');

const report = (counts, advisories = {}) =>
  JSON.stringify({
    actions: [],
    advisories,
    muted: [],
    metadata: {
      vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts },
      dependencies: 10,
      devDependencies: 5,
      optionalDependencies: 0,
      totalDependencies: 15,
    },
  });

const lodash = {
  1096460: {
    id: 1096460,
    title: 'Command Injection in lodash',
    module_name: 'lodash',
    vulnerable_versions: '<4.17.21',
    patched_versions: '>=4.17.21',
    severity: 'high',
    url: 'https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
    findings: [{ version: '4.17.20', paths: ['lodash'] }],
  },
};

/** What pnpm 12 prints here, where the endpoint refuses the POST. */
const REFUSED = {
  code: 1,
  stdout: '',
  stderr:
    'Error: ERR_PNPM_AUDIT_BAD_RESPONSE\n\n' +
    '  × The audit endpoint (at https://registry.npmjs.org/-/npm/v1/security/\n' +
    '  │ advisories/bulk) responded with 405:\n',
};

test('a high advisory fails, naming the package, the versions and the advisory', () => {
  const { exitCode, lines } = judge({ code: 1, stdout: report({ high: 1 }, lodash), stderr: '' });
  assert.equal(exitCode, 1);
  assert.match(lines[0], /^audit: 1 known high or critical advisory/);
  assert.equal(
    lines[1],
    '  high lodash <4.17.21: Command Injection in lodash https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
  );
});

test('a critical one fails too; low and moderate ones do not', () => {
  assert.equal(judge({ code: 1, stdout: report({ critical: 2 }), stderr: '' }).exitCode, 1);
  const quiet = judge({ code: 0, stdout: report({ low: 3, moderate: 1 }), stderr: '' });
  assert.equal(quiet.exitCode, 0);
  assert.deepEqual(quiet.lines, ['audit: no known high or critical advisory for the 15 dependencies (pnpm audit)']);
});

test('an endpoint that cannot be used is a warning that nothing was checked, not a failure', () => {
  const { exitCode, lines } = judge(REFUSED);
  assert.equal(exitCode, 0);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    new RegExp(
      /^audit: WARNING: the advisory endpoint could not be used \(.*responded with 405.*\): /.source +
        /the dependencies were NOT checked/.source,
    ),
  );
  assert.match(
    judge({
      code: 1,
      stdout: '',
      stderr: 'request to https://registry.npmjs.org failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org',
    }).lines[0],
    /WARNING/,
  );
  assert.match(
    judge({ code: null, stdout: '', stderr: '', timedOut: true, timeoutMs: 120_000 }).lines[0],
    /no answer within 120 s/,
  );
});

test('on GitHub the warning is an annotation; with --strict it fails', () => {
  assert.match(judge(REFUSED, { github: true }).lines[0], /^::warning title=dependency audit::/);
  const strict = judge(REFUSED, { strict: true });
  assert.equal(strict.exitCode, 1);
  assert.match(strict.lines[0], /\(--strict\)$/);
});

test('pnpm failing for another reason fails, with its first line', () => {
  const { exitCode, lines } = judge({
    code: 1,
    stdout: '',
    stderr: 'Error: ERR_PNPM_LOCKFILE_BREAKING_CHANGE\n  × Lockfile is broken\n',
  });
  assert.equal(exitCode, 1);
  assert.equal(lines[0], 'audit: pnpm audit failed (exit 1): ERR_PNPM_LOCKFILE_BREAKING_CHANGE');
});

test('the script runs pnpm audit and exits as judged', () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-test-'));
  try {
    const fake = (stdout, stderr, code) => {
      fs.writeFileSync(path.join(bin, 'stdout'), stdout);
      fs.writeFileSync(path.join(bin, 'stderr'), stderr);
      fs.writeFileSync(
        path.join(bin, 'pnpm'),
        `#!/bin/sh\n` +
          `[ "$*" = "audit --audit-level high --json" ] || { echo "unexpected: $*" >&2; exit 9; }\n` +
          `cat "${bin}/stdout"; cat "${bin}/stderr" >&2; exit ${code}\n`,
        { mode: 0o755 },
      );
      return spawnSync(process.execPath, [SCRIPT], {
        env: {
          ...process.env,
          PATH: `${bin}${path.delimiter}${process.env.PATH}`,
          GITHUB_ACTIONS: '',
          AUDIT_STRICT: '',
        },
        encoding: 'utf8',
      });
    };
    const vulnerable = fake(report({ high: 1 }, lodash), '', 1);
    assert.equal(vulnerable.status, 1, vulnerable.stderr);
    assert.match(vulnerable.stderr, /high lodash <4\.17\.21/);
    const refused = fake('', REFUSED.stderr, 1);
    assert.equal(refused.status, 0, refused.stderr);
    assert.match(refused.stdout, /WARNING: the advisory endpoint could not be used/);
    const clean = fake(report({}), '', 0);
    assert.equal(clean.status, 0);
    assert.match(clean.stdout, /no known high or critical advisory/);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});
