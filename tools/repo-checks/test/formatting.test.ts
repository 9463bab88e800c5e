import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../src/boundaries.js';
import { longLines, MAX_LINE_LENGTH } from '../src/line-length.js';
import { repoRoot } from '../src/workspace.js';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

describe('source lines', () => {
  it(`are at most ${MAX_LINE_LENGTH} characters long, in every source file`, () => {
    const files = sourceFiles(repoRoot);
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((path) => longLines(path, read(path)))).toEqual([]);
  });

  it('are found where they are too long', () => {
    const text = ['short', 'x'.repeat(MAX_LINE_LENGTH), 'y'.repeat(MAX_LINE_LENGTH + 1)].join('\n');
    expect(longLines('a.ts', text)).toEqual([`a.ts:3 (${MAX_LINE_LENGTH + 1})`]);
  });
});

describe('the formatter', () => {
  it('is Prettier, pinned, at the width the line check and .editorconfig use', () => {
    const config = JSON.parse(read('.prettierrc.json')) as { printWidth?: number };
    expect(config.printWidth).toBe(MAX_LINE_LENGTH);
    expect(read('.editorconfig')).toMatch(new RegExp(`^max_line_length = ${MAX_LINE_LENGTH}$`, 'm'));
    expect(read('pnpm-workspace.yaml')).toMatch(/^ {2}prettier: \d+\.\d+\.\d+$/m);
  });

  it('is checked by `pnpm test`', () => {
    const manifest = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(manifest.scripts['format:check']).toBe('prettier --check .');
    expect(manifest.scripts.test).toMatch(/\bformat:check\b/);
  });
});
