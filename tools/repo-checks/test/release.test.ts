import { readFileSync } from 'node:fs';
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
  it('versions the private apps too', () => {
    const config = JSON.parse(read('.changeset/config.json')) as { privatePackages?: { version?: boolean } };
    expect(config.privatePackages?.version).toBe(true);
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
