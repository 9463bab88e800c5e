// Builds an app's dist/ for `node dist/main.js`. esbuild bundles the entry (src/main.ts)
// into dist/main.js, an ES module that reads the command line, and each module the entry
// loads with a dynamic `import('./x.js')` (a command: `send`, `consume`, `serve/run`) into
// dist/commands/<name>.cjs, one CommonJS file with everything that command imports
// (workspace packages and dependencies). Node then reads one or two files instead of
// resolving and compiling hundreds; `--help` stops at the entry; and a command's bundle is
// loaded with a V8 code cache (load-command.mjs), which Node 20 offers to CommonJS alone.
// Types are checked by `tsc` (the `typecheck` task), not here.
//
// dist/bundle.json says which packages each output file holds, for the tests that check
// what a command loads (the testkit's `loadedPackages`).
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// CommonJS dependencies bundled into ES modules still `require` Node's own modules.
const REQUIRE_BANNER =
  "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);";

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

const LOADER = fileURLToPath(new URL('./load-command.mjs', import.meta.url));

/** What the bundles share: Node 20, source maps beside them, warnings shown. */
const COMMON = /** @type {const} */ ({
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});

/**
 * The dynamic imports (`import('./send.js')`, `import('@hello-rabbit/runtime/http')`) of
 * the app's and the workspace's own code, not of dependencies: each is a bundle of its own,
 * loaded when the import runs. `stub` gives what the importer gets in its place.
 * @param {Map<string, string>} found resolved source file -> bundle name, filled in
 * @param {(name: string, importerFormat: 'esm' | 'cjs') => string | undefined} stub source of a module standing
 *   for a bundle, or undefined to leave the import out
 * @param {'esm' | 'cjs'} format the importer's
 * @returns {import('esbuild').Plugin}
 */
function lazyImports(found, stub, format) {
  return {
    name: 'lazy-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (
          args.kind !== 'dynamic-import' ||
          args.importer.includes(`${path.sep}node_modules${path.sep}`) ||
          args.pluginData === 'resolving'
        )
          return undefined;
        const resolved = await build.resolve(args.path, {
          kind: 'dynamic-import',
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'resolving',
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        const name = args.path
          .replace(/^\.\.?\//, '')
          .replace(/\.[cm]?[jt]s$/, '')
          .replace(/^@/, '')
          .replace(/[^A-Za-z0-9_.-]+/g, '-');
        found.set(resolved.path, name);
        const contents = stub(name, format);
        return contents === undefined
          ? { path: args.path, external: true }
          : { path: name, namespace: 'lazy', pluginData: contents };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
        contents: /** @type {string} */ (args.pluginData),
        resolveDir: path.dirname(LOADER),
        loader: 'js',
      }));
    },
  };
}

/**
 * Bundles `entry` into `outdir` (emptied first).
 * @param {{ entry: string, outdir: string }} options
 */
export async function bundleApp({ entry, outdir }) {
  await rm(outdir, { recursive: true, force: true });
  const self = packageOf(entry);
  /** @type {Record<string, string[]>} */
  const packages = {};
  /** @type {Map<string, { hash: string, exports: string[] }>} bundles built, by name */
  const built = new Map();
  const stub = (/** @type {string} */ name, /** @type {'esm' | 'cjs'} */ importer) => {
    const bundle = built.get(name);
    if (bundle === undefined) return undefined;
    // The entry is dist/main.js; the bundles are in dist/commands/, beside each other.
    const where =
      importer === 'esm'
        ? `new URL(${JSON.stringify(`./commands/${name}.cjs`)}, import.meta.url)`
        : `require('node:path').join(__dirname, ${JSON.stringify(`${name}.cjs`)})`;
    return [
      `import { loadCommand } from ${JSON.stringify(LOADER)};`,
      `const loaded = loadCommand(${where}, ${JSON.stringify(bundle.hash)});`,
      ...bundle.exports.map((exported) => `export const ${exported} = loaded[${JSON.stringify(exported)}];`),
    ].join('\n');
  };
  /** Builds the bundle of `source` as `name`, after the bundles it imports lazily. */
  const buildLazy = async (/** @type {string} */ source, /** @type {string} */ name) => {
    if (built.has(name)) return;
    await buildImported(source, 'cjs');
    const file = path.join(outdir, 'commands', `${name}.cjs`);
    const result = await build({
      ...COMMON,
      entryPoints: [source],
      outfile: file,
      format: 'cjs',
      plugins: [lazyImports(new Map(), stub, 'cjs')],
    });
    Object.assign(packages, packagesByFile(result.metafile, outdir, self));
    const hash = createHash('sha256')
      .update(await readFile(file))
      .digest('hex')
      .slice(0, 16);
    const shape = await build({
      entryPoints: [source],
      bundle: false,
      write: false,
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
      outdir,
    });
    built.set(name, { hash, exports: Object.values(shape.metafile.outputs).flatMap((output) => output.exports) });
  };
  /** Finds what `source` imports lazily, and builds each first. */
  const buildImported = async (/** @type {string} */ source, /** @type {'esm' | 'cjs'} */ format) => {
    /** @type {Map<string, string>} */
    const found = new Map();
    await build({
      ...COMMON,
      entryPoints: [source],
      write: false,
      format,
      sourcemap: false,
      logLevel: 'silent',
      plugins: [lazyImports(found, () => undefined, format)],
    });
    for (const [imported, name] of found) await buildLazy(imported, name);
  };

  await buildImported(entry, 'esm');
  const result = await build({
    ...COMMON,
    entryPoints: { main: entry },
    outdir,
    format: 'esm',
    banner: { js: REQUIRE_BANNER },
    plugins: [lazyImports(new Map(), stub, 'esm')],
  });
  Object.assign(packages, packagesByFile(result.metafile, outdir, self));
  await writeFile(path.join(outdir, 'bundle.json'), `${JSON.stringify({ packages }, null, 2)}\n`);
}
