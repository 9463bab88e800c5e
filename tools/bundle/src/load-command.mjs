// Loads a command's CommonJS bundle (see bundle.mjs) with a V8 code cache: the functions
// compiled during a run are saved at exit, and the next run of the same bundle on the same
// Node starts from them instead of parsing and compiling again. Node 22 has this built in
// (module.enableCompileCache); Node 20 has only vm.Script's cachedData, used here.
//
// The cache lives in $NODE_COMPILE_CACHE, else <tmpdir>/hello-rabbit-compile-cache-<uid>, a
// directory of the user's own that nobody else may write; a file per bundle (by its content
// hash), Node version and architecture. A cache that cannot be read, written or trusted is
// not used: the bundle is compiled as usual. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as
// on Node 22; so does `node --enable-source-maps` (stack traces mapped to the sources), which
// only Node's own loader honours.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/**
 * The cache directory, created if need be; undefined when the cache is off or the
 * directory is not the user's own alone (someone else could plant code there).
 * @returns {string | undefined}
 */
function cacheDirectory() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE === '1') return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const dir = process.env.NODE_COMPILE_CACHE || path.join(tmpdir(), `hello-rabbit-compile-cache-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = statSync(dir);
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Runs the CommonJS bundle at `url` once and returns its exports.
 * @param {URL | string} url the bundle (a file URL or path)
 * @param {string} hash its content hash, from the build
 * @returns {Record<string, unknown>}
 */
export function loadCommand(url, hash) {
  const filename = typeof url === 'string' ? url : fileURLToPath(url);
  // Source maps (node --enable-source-maps) apply only to code Node's own loader compiled.
  if (process.sourceMapsEnabled) return createRequire(filename)(filename);
  const source = readFileSync(filename, 'utf8');
  const dir = cacheDirectory();
  const cacheFile =
    dir === undefined
      ? undefined
      : path.join(dir, `${path.basename(filename)}-${hash}-node${process.versions.node}-${process.arch}.cache`);
  /** @type {Buffer | undefined} */
  let cachedData;
  if (cacheFile !== undefined) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename, ...(cachedData === undefined ? {} : { cachedData }) });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    // At exit the functions this run compiled are in the cache too, not only the top level.
    process.once('exit', () => {
      try {
        const partial = `${cacheFile}.${process.pid}`;
        writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
        renameSync(partial, cacheFile);
        // The caches of this bundle's earlier builds, or of another Node, go.
        const bundle = `${path.basename(filename)}-`;
        for (const name of readdirSync(path.dirname(cacheFile))) {
          if (name.startsWith(bundle) && name.endsWith('.cache') && name !== path.basename(cacheFile))
            rmSync(path.join(path.dirname(cacheFile), name), { force: true });
        }
      } catch {
        // No cache next time: nothing else changes.
      }
    });
  }
  const module = new Module(filename);
  module.filename = filename;
  const require = createRequire(filename);
  // In require's cache as if required: what this process loaded, for whoever asks.
  require.cache[filename] = module;
  script.runInThisContext()(module.exports, require, module, filename, path.dirname(filename));
  module.loaded = true;
  return module.exports;
}
