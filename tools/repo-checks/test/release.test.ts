import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWorkspace, repoRoot } from '../src/workspace.js';

const workspace = readWorkspace();
const pnpmVersion = (workspace.rootManifest.packageManager ?? '').replace(/^pnpm@/, '');
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

describe('deployable apps', () => {
  it.each(['producer', 'consumer'])('%s has a Dockerfile built on pnpm deploy with the pinned pnpm', (app) => {
    const dockerfile = read(`apps/${app}/Dockerfile`);
    expect(dockerfile).toContain(`npm install -g pnpm@${pnpmVersion}`);
    expect(dockerfile).toContain('pnpm install --frozen-lockfile');
    expect(dockerfile).toContain(`pnpm --filter ${app} deploy --prod /out`);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/main\.js"\]/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it.each(['producer', 'consumer'])('%s listens on every interface of its container for probes', (app) => {
    expect(read(`apps/${app}/Dockerfile`)).toMatch(/^ENV HTTP_HOST=0\.0\.0\.0$/m);
  });

  it.each(['producer', 'consumer'])('%s starts by replacing the shell, so CTRL+C through pnpm exits 0', (app) => {
    const manifest = JSON.parse(read(`apps/${app}/package.json`)) as { scripts: Record<string, string> };
    expect(manifest.scripts.start).toBe('exec node dist/main.js');
  });
});

describe('changesets', () => {
  const config = JSON.parse(read('.changeset/config.json')) as {
    privatePackages?: { version?: boolean };
    ignore?: string[];
  };

  it('versions the private apps too, and leaves no package out', () => {
    expect(config.privatePackages?.version).toBe(true);
    expect(config.ignore ?? []).toEqual([]);
  });

  it('gives every package a version and a CHANGELOG.md', () => {
    for (const pkg of workspace.packages) {
      expect(pkg.manifest.version, pkg.name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(pkg.manifest.version, pkg.name).not.toBe('0.0.0');
      expect(existsSync(join(repoRoot, pkg.dir, 'CHANGELOG.md')), `${pkg.dir}/CHANGELOG.md`).toBe(true);
    }
  });

  it('names only workspace packages in the pending changesets', () => {
    const names = new Set(workspace.packages.map((pkg) => pkg.name));
    const named = readdirSync(join(repoRoot, '.changeset'))
      .filter((file) => file.endsWith('.md') && file !== 'README.md')
      .flatMap((file) => {
        const front = /^---\n([\s\S]*?)\n---/.exec(read(`.changeset/${file}`))?.[1] ?? '';
        return [...front.matchAll(/^["']?([^"':]+)["']?\s*:/gm)].map((match) => ({ file, name: match[1] ?? '' }));
      });
    expect(named.filter(({ name }) => !names.has(name))).toEqual([]);
  });

  it('opens the version pull request from main with the changesets action', () => {
    const release = read('.github/workflows/release.yml');
    expect(release).toMatch(/^ {4}branches: \[main\]$/m);
    expect(release).toContain('uses: changesets/action@v1');
    expect(release).toContain('version: pnpm version-packages');
    expect(release).toMatch(/^ {2}pull-requests: write$/m);
  });
});

describe('the README', () => {
  const readme = read('README.md');

  it('shows the commands users run', () => {
    expect(readme).toContain('pnpm --filter consumer start');
    expect(readme).toContain('pnpm --filter producer start');
    expect(readme).toContain('pnpm broker:up');
    expect(readme).toMatch(/^pnpm test$/m);
  });

  it('installs exactly the pinned pnpm', () => {
    expect(readme).toContain(`npm install -g pnpm@${pnpmVersion}`);
  });

  it("runs the README's test command in .ci/run", () => {
    expect(read('.ci/run')).toMatch(/^pnpm test 2>&1/m);
  });
});
