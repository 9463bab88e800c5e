import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/workspace.js';

/** The source the apps and packages ship or run (not their tests). */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry === 'dist' || entry === 'test' || entry.startsWith('.')) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs|cjs)$/.test(entry) && !/\.test\.[mc]?[jt]s$/.test(entry)) files.push(path);
    }
  };
  for (const group of ['apps', 'packages', 'tools']) {
    for (const pkg of readdirSync(join(repoRoot, group))) {
      const src = join(repoRoot, group, pkg, 'src');
      try {
        if (statSync(src).isDirectory()) walk(src);
      } catch {
        // a package without src
      }
    }
  }
  walk(join(repoRoot, 'scripts'));
  return files;
}

describe('TLS verification', () => {
  it.each([
    ['rejectUnauthorized: false', /rejectUnauthorized\s*:\s*(false|!|0|process\.env)/],
    [
      'NODE_TLS_REJECT_UNAUTHORIZED set',
      new RegExp(
        /process\.env(\.NODE_TLS_REJECT_UNAUTHORIZED|\[\s*['"]NODE_TLS_REJECT_UNAUTHORIZED['"]\s*\])\s*=(?!=)/.source +
          /|['"]?NODE_TLS_REJECT_UNAUTHORIZED['"]?\s*:/.source,
      ),
    ],
    ['a checkServerIdentity of its own', /checkServerIdentity\s*:/],
    ["RabbitMQ's verify_none", /verify_none/],
  ])('is never turned off in the source: no %s', (_, pattern) => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(50);
    const offending = files
      .filter((file) => pattern.test(readFileSync(file, 'utf8')))
      .map((file) => relative(repoRoot, file));
    expect(offending).toEqual([]);
  });
});
