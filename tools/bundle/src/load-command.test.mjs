import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const LOADER = fileURLToPath(new URL('./load-command.mjs', import.meta.url));

/** A CommonJS "command" and a script that loads it through loadCommand, in a folder of their own. */
function fixture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'load-command-'));
  writeFileSync(
    path.join(dir, 'command.cjs'),
    "exports.answer = () => require('node:path').basename(__filename) + ' ' + (40 + 2);\n",
  );
  writeFileSync(
    path.join(dir, 'run.mjs'),
    `import { loadCommand } from ${JSON.stringify(LOADER)};\n` +
      "const { answer } = loadCommand(new URL('./command.cjs', import.meta.url), 'h1');\n" +
      'console.log(answer());\n',
  );
  return dir;
}

const run = (dir, env) =>
  execFileSync(process.execPath, [path.join(dir, 'run.mjs')], { encoding: 'utf8', env: { ...process.env, ...env } });

// The code cache is saved at exit and used the next time.
test('runs a CommonJS bundle with its own require, __filename and exports, and a code cache', () => {
  const dir = fixture();
  try {
    const cache = path.join(dir, 'cache');
    assert.equal(run(dir, { NODE_COMPILE_CACHE: cache }), 'command.cjs 42\n');
    const saved = readdirSync(cache);
    assert.deepEqual(saved, [`command.cjs-h1-node${process.versions.node}-${process.arch}.cache`]);
    assert.equal(run(dir, { NODE_COMPILE_CACHE: cache }), 'command.cjs 42\n');
    assert.deepEqual(readdirSync(cache), saved);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writes no cache when told not to (NODE_DISABLE_COMPILE_CACHE=1), nor into a directory others may write', () => {
  const dir = fixture();
  try {
    const off = path.join(dir, 'off');
    assert.equal(run(dir, { NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: '1' }), 'command.cjs 42\n');
    assert.throws(() => readdirSync(off), { code: 'ENOENT' });
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    assert.equal(run(dir, { NODE_COMPILE_CACHE: shared }), 'command.cjs 42\n');
    assert.deepEqual(readdirSync(shared), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("replaces a cache of the bundle's earlier build", () => {
  const dir = fixture();
  try {
    const cache = path.join(dir, 'cache');
    mkdirSync(cache, { mode: 0o700 });
    writeFileSync(path.join(cache, `command.cjs-h0-node${process.versions.node}-${process.arch}.cache`), 'stale');
    writeFileSync(path.join(cache, 'other.cjs-h0.cache'), 'not ours');
    assert.equal(run(dir, { NODE_COMPILE_CACHE: cache }), 'command.cjs 42\n');
    assert.deepEqual(readdirSync(cache).sort(), [
      `command.cjs-h1-node${process.versions.node}-${process.arch}.cache`,
      'other.cjs-h0.cache',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with node --enable-source-maps, a stack trace names the source the bundle was built from', () => {
  const dir = fixture();
  try {
    writeFileSync(
      path.join(dir, 'fail.ts'),
      "export function fail(): never {\n  throw new Error('from the source');\n}\n",
    );
    buildSync({
      entryPoints: [path.join(dir, 'fail.ts')],
      outfile: path.join(dir, 'command.cjs'),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      sourcemap: 'linked',
      logLevel: 'silent',
    });
    writeFileSync(
      path.join(dir, 'run.mjs'),
      `import { loadCommand } from ${JSON.stringify(LOADER)};\n` +
        "const { fail } = loadCommand(new URL('./command.cjs', import.meta.url), 'h1');\n" +
        "try { fail(); } catch (err) { console.log(err.stack.split('\\n')[1]); }\n",
    );
    const line = execFileSync(process.execPath, ['--enable-source-maps', path.join(dir, 'run.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, NODE_COMPILE_CACHE: path.join(dir, 'cache') },
    });
    assert.match(line, /fail\.ts:2:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
