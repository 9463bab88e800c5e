import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bundleApp, packageOf } from './bundle.mjs';

test('packageOf names the package a file belongs to by the nearest package.json with a name', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bundle-app-'));
  try {
    const lib = path.join(dir, 'node_modules', '@scope', 'lib');
    await mkdir(path.join(lib, 'esm'), { recursive: true });
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'app' }));
    await writeFile(path.join(lib, 'package.json'), JSON.stringify({ name: '@scope/lib' }));
    // A nested package.json without a name (as `{"type": "module"}`) does not count.
    await writeFile(path.join(lib, 'esm', 'package.json'), JSON.stringify({ type: 'module' }));
    assert.equal(packageOf(path.join(lib, 'esm', 'index.js')), '@scope/lib');
    assert.equal(packageOf(path.join(dir, 'src', 'main.ts')), 'app');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// bundle.json says what each bundle holds; the entry runs with node alone.
test('an app is bundled into an entry and a CommonJS bundle per command it imports', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bundle-app-'));
  try {
    const src = path.join(dir, 'src');
    await mkdir(src);
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'app' }));
    const dep = path.join(dir, 'node_modules', 'dep');
    await mkdir(dep, { recursive: true });
    await writeFile(path.join(dep, 'package.json'), JSON.stringify({ name: 'dep', main: 'index.js' }));
    await writeFile(path.join(dep, 'index.js'), 'exports.twice = (n) => 2 * n;\n');
    await writeFile(
      path.join(src, 'main.ts'),
      'const n: number = 2;\n' +
        "if (process.argv[2] === 'late') { const { late } = await import('./late.js'); console.log(late(n)); } " +
        "else console.log('early');\n",
    );
    await writeFile(
      path.join(src, 'late.ts'),
      "import { twice } from 'dep';\nexport const late = (n: number): string => `late ${twice(n)}`;\n",
    );
    const outdir = path.join(dir, 'dist');
    const env = { ...process.env, NODE_COMPILE_CACHE: path.join(dir, 'cache') };
    await bundleApp({ entry: path.join(src, 'main.ts'), outdir });
    const { packages } = JSON.parse(await readFile(path.join(outdir, 'bundle.json'), 'utf8'));
    assert.deepEqual(packages, { 'main.js': ['@hello-rabbit/bundle'], 'commands/late.cjs': ['dep'] });
    assert.equal(execFileSync(process.execPath, [path.join(outdir, 'main.js')], { encoding: 'utf8', env }), 'early\n');
    assert.equal(
      execFileSync(process.execPath, [path.join(outdir, 'main.js'), 'late'], { encoding: 'utf8', env }),
      'late 4\n',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
