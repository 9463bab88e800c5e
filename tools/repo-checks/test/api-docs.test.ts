import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { undocumentedExports } from '../src/api-docs.js';
import { repoRoot } from '../src/workspace.js';

// Building a TypeScript program takes seconds on a busy 2-core machine: a limit, not a measure.
const PROGRAM_TIMEOUT_MS = 120_000;

const options: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
};

describe('undocumentedExports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-docs-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('names every export without JSDoc and every option without @default', { timeout: PROGRAM_TIMEOUT_MS }, () => {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    writeFileSync(
      join(dir, 'lib.ts'),
      [
        '/** Documented. */',
        'export function documented(): void {}',
        'export function bare(): void {}',
        '/** A result: its optional members are answers, not options. */',
        'export interface Result {',
        '  /** Only on failure. */',
        '  readonly reason?: string;',
        '}',
        '/** Options. */',
        'export interface DemoOptions {',
        '  /** Required, no default needed. */',
        '  readonly a: number;',
        '  /** Optional. @default 3 */',
        '  readonly b?: number;',
        '  /** Optional, but says nothing of its default. */',
        '  readonly c?: number;',
        '}',
        '/** A constant. */',
        'export const k = 1;',
        'export const bareConst = 2;',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'index.ts'),
      "export { documented, bare, k, bareConst } from './lib.js';\n" +
        "export type { DemoOptions, Result } from './lib.js';\n",
    );
    expect(undocumentedExports(join(dir, 'index.ts'), options)).toEqual([
      { name: 'bare', problem: 'has no JSDoc' },
      { name: 'bareConst', problem: 'has no JSDoc' },
      { name: 'DemoOptions.c', problem: 'is optional with no @default' },
    ]);
  });
});

describe("the transport's public API", () => {
  it.each(['index.ts', 'operations.ts'])(
    'documents every export of src/%s, and the default of every option',
    { timeout: PROGRAM_TIMEOUT_MS },
    (entry) => {
      const problems = undocumentedExports(join(repoRoot, 'packages/transport/src', entry), options).map(
        (p) => `${p.name} ${p.problem}`,
      );
      expect(problems).toEqual([]);
    },
  );
});
