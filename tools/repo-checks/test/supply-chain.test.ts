import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isPair, isScalar, parseAllDocuments, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/workspace.js';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

/** `name@version` keys of the lockfile's `packages` (pnpm 12 writes two YAML documents). */
function lockedPackages(): { name: string; version: string }[] {
  const documents = parseAllDocuments(read('pnpm-lock.yaml'));
  const found: { name: string; version: string }[] = [];
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    const packages = (document.toJS() as { packages?: Record<string, unknown> } | null)?.packages ?? {};
    for (const key of Object.keys(packages)) {
      const at = key.lastIndexOf('@');
      if (at > 0) found.push({ name: key.slice(0, at), version: key.slice(at + 1) });
    }
  }
  return found;
}

/** Whether version a >= b, for plain x.y.z versions. */
function atLeast(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(/[.+-]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i++) {
    const d = (x?.[i] ?? 0) - (y?.[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** Installed packages (node_modules/.pnpm) whose package.json runs a script on install. */
function packagesWithInstallScripts(): string[] {
  const store = join(repoRoot, 'node_modules/.pnpm');
  const names = new Set<string>();
  for (const entry of readdirSync(store)) {
    const modules = join(store, entry, 'node_modules');
    if (!existsSync(modules)) continue;
    for (const first of readdirSync(modules)) {
      const dirs = first.startsWith('@') ? readdirSync(join(modules, first)).map((d) => join(first, d)) : [first];
      for (const dir of dirs) {
        const manifestPath = join(modules, dir, 'package.json');
        if (!existsSync(manifestPath)) continue;
        let manifest: { name?: string; scripts?: Record<string, string> };
        try {
          manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
        } catch {
          continue;
        }
        const scripts = manifest.scripts ?? {};
        const runsOnInstall = ['preinstall', 'install', 'postinstall'].some((name) => scripts[name] !== undefined);
        if (runsOnInstall && manifest.name !== undefined) names.add(manifest.name);
      }
    }
  }
  return [...names].sort();
}

describe('the lockfile', () => {
  it('is committed and installed as it is, in CI and in the Dockerfiles', () => {
    expect(existsSync(join(repoRoot, 'pnpm-lock.yaml'))).toBe(true);
    expect(read('.gitignore')).not.toMatch(/lock/);
    expect(read('.ci/run')).toContain('pnpm install --frozen-lockfile');
    expect(read('.github/workflows/_package.yml')).toContain('pnpm install --frozen-lockfile');
  });

  it('resolves amqplib to 2.3.1 or later, everywhere', () => {
    const amqplib = lockedPackages().filter((p) => p.name === 'amqplib');
    expect(amqplib.length).toBeGreaterThan(0);
    for (const { version } of amqplib) expect(atLeast(version, '2.3.1'), `amqplib@${version}`).toBe(true);
  });
});

describe('install scripts', () => {
  const workspace = parseDocument(read('pnpm-workspace.yaml'));
  const allowBuilds = workspace.get('allowBuilds', true);
  const entries = isMap(allowBuilds) ? allowBuilds.items.filter(isPair) : [];
  const decided = new Map(
    entries.map((pair) => [
      String(isScalar(pair.key) ? pair.key.value : pair.key),
      isScalar(pair.value) ? pair.value.value : undefined,
    ]),
  );

  it('are allowed or denied for every dependency that has one, and allowed only for those', () => {
    const withScripts = packagesWithInstallScripts();
    expect([...decided.keys()].sort()).toEqual(withScripts);
    for (const [name, allowed] of decided) expect(typeof allowed, name).toBe('boolean');
  });

  it('each say why, in a comment above the entry', () => {
    expect(entries.length).toBeGreaterThan(0);
    entries.forEach((pair, index) => {
      // `yaml` gives the comment above a mapping's first key to the mapping itself.
      const own = isScalar(pair.key) ? pair.key.commentBefore : undefined;
      const comment = own ?? (index === 0 && isMap(allowBuilds) ? allowBuilds.commentBefore : undefined) ?? '';
      expect(
        comment.trim().length,
        `allowBuilds.${String(isScalar(pair.key) ? pair.key.value : pair.key)} has no comment`,
      ).toBeGreaterThan(20);
    });
  });

  it('name only packages the lockfile has', () => {
    const locked = new Set(lockedPackages().map((p) => p.name));
    for (const name of decided.keys()) expect(locked.has(name), name).toBe(true);
  });
});
