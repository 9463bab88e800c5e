// Builds an app's dist/ for `node dist/main.js`: esbuild bundles src/main.ts with everything
// it imports (workspace packages and dependencies) into one entry file and chunks, the
// chunks loaded on demand by the entry's dynamic `import()`s. Node then reads a few files
// instead of resolving and compiling hundreds, and a command loads only the chunks it needs
// (`--help` stops at the entry). Types are checked by `tsc` (the `typecheck` task), not here.
//
// dist/bundle.json says which packages each output file holds, for the tests that check
// what a command loads (the testkit's `loadedPackages`).
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

// CommonJS dependencies bundled into ES modules still `require` Node's own modules.
const REQUIRE_BANNER = "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);";

/**
 * The name of the package a file belongs to: the `name` of the nearest package.json above
 * it that has one (`fastify` for `.../node_modules/fastify/fastify.js`,
 * `@hello-rabbit/runtime` for `packages/runtime/dist/logger.js`).
 * @param {string} file
 * @param {Map<string, string | undefined>} [cache] names already found, by directory
 * @returns {string | undefined}
 */
export function packageOf(file, cache = new Map()) {
  const seen = [];
  let dir = path.dirname(path.resolve(file));
  let name;
  for (;;) {
    if (cache.has(dir)) {
      name = cache.get(dir);
      break;
    }
    seen.push(dir);
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const found = /** @type {{ name?: unknown }} */ (JSON.parse(readFileSync(manifest, 'utf8'))).name;
      if (typeof found === 'string') {
        name = found;
        break;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const at of seen) cache.set(at, name);
  return name;
}

/**
 * For each output file (relative to outdir), the packages whose code it holds, the app's
 * own (`self`) left out.
 * @param {import('esbuild').Metafile} metafile
 * @param {string} outdir
 * @param {string | undefined} self
 * @returns {Record<string, string[]>}
 */
export function packagesByFile(metafile, outdir, self) {
  /** @type {Map<string, string | undefined>} */
  const cache = new Map();
  /** @type {Record<string, string[]>} */
  const files = {};
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    if (output.endsWith('.map')) continue;
    const names = new Set();
    for (const input of Object.keys(inputs)) {
      const name = packageOf(input, cache);
      if (name !== undefined && name !== self) names.add(name);
    }
    files[path.relative(outdir, output)] = [...names].sort();
  }
  return files;
}

/**
 * Bundles `entry` into `outdir` (emptied first).
 * @param {{ entry: string, outdir: string }} options
 */
export async function bundleApp({ entry, outdir }) {
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { main: entry },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: REQUIRE_BANNER },
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  await writeFile(path.join(outdir, 'bundle.json'), `${JSON.stringify({ packages: packagesByFile(result.metafile, outdir, packageOf(entry)) }, null, 2)}\n`);
}
