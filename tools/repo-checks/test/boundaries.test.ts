import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerLibraryUses, entryExports, repositoryViolations, sourceFiles, violations } from '../src/boundaries.js';
import { readWorkspace, repoRoot } from '../src/workspace.js';

/**
 * At most this many names (values and types together) per entry point of a package.
 *
 * Why 40: an entry point is read in one sitting, each name with its JSDoc, by someone
 * about to use or change the package; 40 documented names is about what fits in that
 * sitting (the package this replaced exported 110, and nobody read them all). A package
 * that needs more has two responsibilities, or a second entry point for a second kind of
 * user (as `@hello-rabbit/runtime/http` is for the apps that serve HTTP).
 */
const MAX_EXPORTS = 40;

// Parsing every source file takes a second here, more on a busy machine: a limit, not a measure.
const SCAN_TIMEOUT_MS = 120_000;

describe('brokerLibraryUses', () => {
  it('finds every way a file can load amqplib or Rascal, telling type-only imports apart', () => {
    const text = [
      "import amqplib from 'amqplib';",
      "import type { BrokerConfig } from 'rascal';",
      "import { type Options } from 'amqplib';",
      "export { connect } from 'amqplib';",
      "const configure = require('rascal/lib/config/configure');",
      "const later = await import('rascal');",
      "type Channel = import('amqplib').Channel;",
      "import { z } from 'zod';",
      "// import amqplib from 'amqplib' (a comment)",
      'const text = "from \'rascal\'";',
    ].join('\n');
    expect(brokerLibraryUses('x.ts', text)).toEqual([
      { module: 'amqplib', line: 1, typeOnly: false },
      { module: 'rascal', line: 2, typeOnly: true },
      { module: 'amqplib', line: 3, typeOnly: true },
      { module: 'amqplib', line: 4, typeOnly: false },
      { module: 'rascal/lib/config/configure', line: 5, typeOnly: false },
      { module: 'rascal', line: 6, typeOnly: false },
      { module: 'amqplib', line: 7, typeOnly: true },
    ]);
  });

  it('does not take a library whose name only starts the same for one of them', () => {
    expect(brokerLibraryUses('x.ts', "import x from 'amqplib-extra';\nimport y from 'rascally';")).toEqual([]);
  });
});

describe('violations', () => {
  const value = "import rascal from 'rascal';\n";
  const typeOnly = "import type { BrokerConfig } from 'rascal';\n";

  it('refuses amqplib and Rascal in the apps, their types included', () => {
    expect(violations('apps/ops/src/dlq-list.ts', "import type { Message } from 'amqplib';\n")).toHaveLength(1);
    expect(violations('apps/consumer/src/main.ts', value)).toHaveLength(1);
    expect(violations('packages/runtime/src/logger.ts', value)).toHaveLength(1);
  });

  it('allows them in the transport, in tests, the testkit, the fault tools and the benchmark harness', () => {
    for (const path of [
      'packages/transport/src/rascal-adapter.ts',
      'apps/ops/test/helpers.ts',
      'apps/ops/src/message-view.test.ts',
      'tools/testkit/src/broker.ts',
      'tools/faults/src/apps.ts',
      'tools/bench/src/clients/amqplib.ts',
    ]) {
      expect(violations(path, value), path).toEqual([]);
    }
  });

  it("refuses them in the benchmark's own client of the project, which goes through the transport", () => {
    expect(violations('tools/bench/src/clients/project.ts', value)).toHaveLength(1);
  });

  it("lets the contract name Rascal's configuration types, and nothing more", () => {
    expect(violations('packages/broker-config/src/topology.ts', typeOnly)).toEqual([]);
    expect(violations('packages/broker-config/src/topology.ts', value)).toHaveLength(1);
  });
});

describe('the repository', () => {
  it('reaches the broker only through the transport package', { timeout: SCAN_TIMEOUT_MS }, () => {
    const found = repositoryViolations(repoRoot).map(
      (v) => `${v.path}:${v.line} ${v.typeOnly ? 'import type ' : ''}${v.module}`,
    );
    expect(found).toEqual([]);
  });

  it(
    "imports zod as a namespace (import * as z), which the apps' bundles can tree-shake",
    { timeout: SCAN_TIMEOUT_MS },
    () => {
      // `import { z } from 'zod'` keeps all of zod (locales included, some 600 KB more) in
      // every bundle that uses it: measured with esbuild, 758 KB against 170 KB.
      const found = sourceFiles(repoRoot)
        .filter((path) => !path.startsWith('tools/repo-checks/'))
        .filter((path) =>
          /^import (type )?\{ z \} from 'zod(\/[^']*)?';/m.test(readFileSync(join(repoRoot, path), 'utf8')),
        );
      expect(found).toEqual([]);
    },
  );

  it('keeps Rascal behind one module of the transport: rascal-adapter.ts', { timeout: SCAN_TIMEOUT_MS }, () => {
    const found = sourceFiles(repoRoot)
      .filter((path) => path.startsWith('packages/transport/src/') && !/\.test\.ts$/.test(path))
      .filter((path) =>
        brokerLibraryUses(path, readFileSync(join(repoRoot, path), 'utf8')).some(
          (use) => use.module === 'rascal' || use.module.startsWith('rascal/'),
        ),
      );
    expect(found).toEqual(['packages/transport/src/rascal-adapter.ts']);
  });

  /** Each `exports` entry of a workspace package under packages/, as its source file. */
  const entryPoints = () =>
    readWorkspace()
      .packages.filter((pkg) => pkg.dir.startsWith('packages/'))
      .flatMap((pkg) => {
        const manifest = JSON.parse(readFileSync(join(repoRoot, pkg.dir, 'package.json'), 'utf8')) as {
          exports?: Record<string, { default?: string }>;
        };
        return Object.entries(manifest.exports ?? {}).map(([subpath, target]) => ({
          entry: `${pkg.name}${subpath === '.' ? '' : subpath.slice(1)}`,
          file: join(pkg.dir, (target.default ?? '').replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')),
        }));
      });

  it('finds the entry points of every package', () => {
    const entries = entryPoints().map((e) => e.entry);
    expect(entries).toEqual(
      expect.arrayContaining([
        '@hello-rabbit/broker-config',
        '@hello-rabbit/runtime',
        '@hello-rabbit/runtime/http',
        '@hello-rabbit/transport',
      ]),
    );
  });

  it(`keeps every package entry point to at most ${MAX_EXPORTS} names, each re-exported by name`, () => {
    const problems = entryPoints().flatMap(({ entry, file }) => {
      const { names, wildcards } = entryExports(file, readFileSync(join(repoRoot, file), 'utf8'));
      return [
        ...(names.length > MAX_EXPORTS ? [`${entry} exports ${names.length} names (at most ${MAX_EXPORTS})`] : []),
        ...wildcards.map((from) => `${entry} has export * from '${from}'`),
      ];
    });
    expect(problems).toEqual([]);
  });
});

describe('entryExports', () => {
  it('counts re-exported names, values and types, and declarations, and reports export *', () => {
    const text = [
      "export { a, b as c } from './x.js';",
      "export type { T } from './y.js';",
      "export * from './z.js';",
      "export * as ns from './w.js';",
      'export const k = 1;',
      'export function f() {}',
      'export interface I {}',
      'const hidden = 2;',
    ].join('\n');
    expect(entryExports('index.ts', text)).toEqual({
      names: ['a', 'c', 'T', 'ns', 'k', 'f', 'I'],
      wildcards: ['./z.js'],
    });
  });
});
