import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWorkspace, repoRoot } from '../src/workspace.js';

/** Whether a directory holds a unit test (`*.test.ts` or `*.test.mjs`) at any depth. */
function hasTests(dir: string): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((entry) => (entry.isDirectory() ? hasTests(join(dir, entry.name)) : /\.test\.(?:ts|mjs)$/.test(entry.name)));
}

describe('the test tiers', () => {
  it('gives every package with unit tests in src/ a test:unit script, which pnpm test:unit runs', () => {
    const rootScripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(rootScripts['test:unit']).toBe('turbo run test:unit');
    const missing = readWorkspace()
      .packages.filter((pkg) => hasTests(join(repoRoot, pkg.dir, 'src')))
      .filter((pkg) => {
        const scripts = (JSON.parse(readFileSync(join(repoRoot, pkg.dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts;
        return scripts?.['test:unit'] === undefined;
      })
      .map((pkg) => pkg.name);
    expect(missing).toEqual([]);
  });
});
