import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  brokenLinks,
  codeBlockUnder,
  documentationFiles,
  headingAnchors,
  markdownLinks,
  treePaths,
} from '../src/markdown.js';
import { readWorkspace, repoRoot } from '../src/workspace.js';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const show = (broken: ReturnType<typeof brokenLinks>) =>
  broken.map((b) => `${b.file}:${String(b.line)}: ${b.target} ${b.problem}`);

describe('the link checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('fails on a relative link to a file that does not exist, and on an anchor no heading has', () => {
    write('docs/guide.md', '# Guide\n\n## Set up\n\n## Set up\n');
    write('pkg/README.md', '# pkg\n');
    write(
      'README.md',
      [
        '# Demo',
        '',
        'See [the guide](docs/guide.md), [set up](docs/guide.md#set-up), [again](docs/guide.md#set-up-1),',
        '[a package](pkg/README.md), [its folder](pkg/), [from the root](/docs/guide.md) and [here](#demo).',
        '[gone](docs/missing.md) and ![no image](img/chart.svg) and [no such part](docs/guide.md#tear-down).',
        '[elsewhere](https://example.com/missing.md), [mail](mailto:a@b.c), `[in code](nowhere.md)`.',
        '',
        '```md',
        '[in a code block](nowhere.md)',
        '```',
        '',
        '[ref]: pkg/CHANGELOG.md',
        '<a href="docs/nope.md">html</a>',
      ].join('\n'),
    );
    expect(show(brokenLinks(dir, ['README.md']))).toEqual([
      'README.md:5: docs/missing.md points at docs/missing.md, which does not exist',
      'README.md:5: img/chart.svg points at img/chart.svg, which does not exist',
      "README.md:5: docs/guide.md#tear-down has no heading '#tear-down' in docs/guide.md",
      'README.md:12: pkg/CHANGELOG.md points at pkg/CHANGELOG.md, which does not exist',
      'README.md:13: docs/nope.md points at docs/nope.md, which does not exist',
    ]);
  });

  it('resolves a link from the folder of the file it is in', () => {
    write('docs/a.md', '# A\n\n[up](../README.md) [sibling](b.md) [not a sibling](docs/b.md)\n');
    write('docs/b.md', '# B\n');
    expect(show(brokenLinks(dir, ['docs/a.md']))).toEqual([
      'docs/a.md:3: docs/b.md points at docs/docs/b.md, which does not exist',
    ]);
  });

  it('reads headings as GitHub anchors them', () => {
    expect([
      ...headingAnchors(
        "# Topology drift: `topology check [--strict]`\n## An operator's walkthrough\n## `hello` is not " +
          'durable\n```\n# not a heading\n```\n',
      ),
    ]).toEqual(['topology-drift-topology-check---strict', 'an-operators-walkthrough', 'hello-is-not-durable']);
  });

  it('finds inline links, images and reference definitions, not code', () => {
    expect(
      markdownLinks('a [x](one.md "title") ![y](two.svg) `[z](three.md)`\n[r]: <four.md>\n').map((l) => l.target),
    ).toEqual(['one.md', 'two.svg', 'four.md']);
  });

  it('reads a tree: nested entries under their folder, descriptions skipped', () => {
    expect(
      treePaths(
        'packages/             the packages\n  transport/          the door\n                      more ' +
          'words\n.ci/run               the CI\n',
      ),
    ).toEqual(['packages/', 'packages/transport/', '.ci/run']);
  });
});

describe('the documentation', () => {
  const files = documentationFiles(repoRoot);

  it('is found: the README, every package README and the docs', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/architecture.md',
        'apps/producer/README.md',
        'packages/transport/README.md',
      ]),
    );
  });

  it('links only to files (and headings) that exist', () => {
    expect(show(brokenLinks(repoRoot, files))).toEqual([]);
  });

  it('gives every workspace package a README', () => {
    const missing = readWorkspace()
      .packages.filter((pkg) => !existsSync(join(repoRoot, pkg.dir, 'README.md')))
      .map((pkg) => pkg.dir);
    expect(missing).toEqual([]);
  });
});

describe('the README', () => {
  const readme = read('README.md');
  const lines = readme.split('\n');

  it('is at most 200 lines', () => {
    expect(lines.length).toBeLessThanOrEqual(200);
  });

  it('shows the set-up, start and test commands on its first screen (40 lines)', () => {
    const firstScreen = lines.slice(0, 40);
    for (const command of [
      /pnpm install --frozen-lockfile/,
      /^pnpm --filter consumer start\b/,
      /^pnpm --filter producer start\b/,
      /^pnpm test$/,
    ]) {
      expect(
        firstScreen.some((line) => command.test(line)),
        String(command),
      ).toBe(true);
    }
  });

  it('names only paths that exist in its layout', () => {
    const tree = codeBlockUnder(readme, /^Layout$/);
    expect(tree, 'a code block under "## Layout"').toBeDefined();
    const paths = treePaths(tree ?? '');
    expect(paths.length).toBeGreaterThanOrEqual(8);
    expect(paths.filter((path) => !existsSync(join(repoRoot, path)))).toEqual([]);
  });
});

describe('the tree in docs/architecture.md', () => {
  const tree = codeBlockUnder(read('docs/architecture.md'), /^The tree$/) ?? '';
  const paths = treePaths(tree);

  it('names only paths that exist', () => {
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((path) => !existsSync(join(repoRoot, path)))).toEqual([]);
  });

  it('names every workspace package', () => {
    const missing = readWorkspace()
      .packages.map((pkg) => `${pkg.dir}/`)
      .filter((dir) => !paths.includes(dir));
    expect(missing).toEqual([]);
  });

  it('names every workflow', () => {
    const workflows = readdirSync(join(repoRoot, '.github/workflows')).filter((name) => /\.ya?ml$/.test(name));
    expect(workflows.filter((name) => !tree.includes(name))).toEqual([]);
  });
});
