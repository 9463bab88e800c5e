import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnApp, type AppName, type AppOptions } from './app.js';
import type { ProcessResult } from './process.js';

/** A run of an app, and which dependencies it loaded. */
export interface LoadedPackages {
  readonly result: ProcessResult;
  /** The dependencies (by package name) whose CommonJS code the process loaded, sorted. */
  readonly packages: readonly string[];
}

// Loaded with `node --import` before the app: at exit, the packages whose CommonJS files are
// in require's cache (ESM imports of CommonJS packages land there too).
const PROBE = `
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const out = process.env.LOADED_PACKAGES_OUT;
process.on('exit', () => {
  const names = new Set();
  for (const file of Object.keys(require.cache)) {
    const at = file.lastIndexOf('/node_modules/');
    if (at < 0) continue;
    const [first = '', second = ''] = file.slice(at + '/node_modules/'.length).split('/');
    names.add(first.startsWith('@') ? first + '/' + second : first);
  }
  writeFileSync(out, JSON.stringify([...names].sort()));
});
`;

/**
 * Runs a built app to its end (as `spawnApp` does) and says which dependencies it loaded:
 * to show that a program path does not load what it does not use (say, the HTTP server).
 */
export async function loadedPackages(app: AppName, args: readonly string[], options: AppOptions = {}): Promise<LoadedPackages> {
  const dir = mkdtempSync(path.join(tmpdir(), 'loaded-packages-'));
  try {
    const probe = path.join(dir, 'probe.mjs');
    const out = path.join(dir, 'loaded.json');
    writeFileSync(probe, PROBE);
    const result = await spawnApp(app, args, {
      ...options,
      env: { ...options.env, LOADED_PACKAGES_OUT: out },
      nodeArgs: [...(options.nodeArgs ?? []), '--import', probe],
    }).exited;
    return { result, packages: JSON.parse(readFileSync(out, 'utf8')) as string[] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
