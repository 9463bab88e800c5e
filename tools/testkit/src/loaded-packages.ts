import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appMain, spawnApp, type AppName, type AppOptions } from './app.js';
import type { ProcessResult } from './process.js';

/** A run of an app, and which dependencies it loaded. */
export interface LoadedPackages {
  readonly result: ProcessResult;
  /**
   * The packages (dependencies and workspace packages, by name) whose code the process
   * loaded, sorted: from the files of the app's bundle it loaded (each holds the packages
   * its dist/bundle.json lists) and any package file loaded on its own.
   */
  readonly packages: readonly string[];
}

// Off the main thread (module.register): every ES module the process loads, one URL a line.
const HOOKS = `
import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) {
  appendFileSync(out, url + '\\n');
  return next(url, context);
}
`;

// Loaded with \`node --import\` before the app: registers the hooks, and at exit adds the
// CommonJS files in require's cache (not seen by the hooks on Node 20).
const PROBE = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
const out = process.env.LOADED_MODULES_OUT;
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), import.meta.url, { data: { out } });
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const files = Object.keys(require.cache).map((file) => pathToFileURL(file).href + '\\n');
  appendFileSync(out, files.join(''));
});
`;

/** The package a file belongs to, by the node_modules folder it is in; undefined outside one. */
function packageOfFile(file: string): string | undefined {
  const at = file.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const [first = '', second = ''] = file.slice(at + '/node_modules/'.length).split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
}

/**
 * Runs a built app to its end (as `spawnApp` does) and says which packages it loaded: to
 * show that a program path does not load what it does not use (say, the HTTP server).
 */
export async function loadedPackages(
  app: AppName,
  args: readonly string[],
  options: AppOptions = {},
): Promise<LoadedPackages> {
  const dir = mkdtempSync(path.join(tmpdir(), 'loaded-packages-'));
  try {
    const probe = path.join(dir, 'probe.mjs');
    const out = path.join(dir, 'loaded.txt');
    writeFileSync(probe, PROBE);
    writeFileSync(out, '');
    const result = await spawnApp(app, args, {
      ...options,
      env: { ...options.env, LOADED_MODULES_OUT: out },
      nodeArgs: [...(options.nodeArgs ?? []), '--import', probe],
    }).exited;
    const dist = path.dirname(appMain(app));
    const manifest = path.join(dist, 'bundle.json');
    const bundled = existsSync(manifest)
      ? (JSON.parse(readFileSync(manifest, 'utf8')) as { packages: Record<string, string[]> }).packages
      : {};
    const names = new Set<string>();
    for (const url of readFileSync(out, 'utf8').split('\n')) {
      if (!url.startsWith('file:')) continue;
      const file = fileURLToPath(url);
      const inBundle = bundled[path.relative(dist, file)];
      for (const name of inBundle ?? []) names.add(name);
      const own = packageOfFile(file);
      if (own !== undefined) names.add(own);
    }
    return { result, packages: [...names].sort() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
