import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workflowsDir } from './workflow.js';
import { findPackage, readWorkspace, repoRoot, transitiveWorkspaceDependencies, type Workspace } from './workspace.js';
import { stringsAt } from './yaml-value.js';

/**
 * The CI pipelines: one per workspace package with tests, each a small workflow that calls
 * the shared one (_package.yml) for its package. Each runs that package's own lint,
 * typecheck and tests, and starts when the package or anything it depends on changes, so
 * a change runs the tests of the changed package and of every package that depends on it.
 *
 * The workflow files are written from this list and the workspace's dependency graph
 * (`pnpm --filter @hello-rabbit/repo-checks write-workflows`); a test fails when a
 * committed one differs.
 */

/** What the runner must have for a package's tests, besides Node and the installed workspace. */
export interface Needs {
  /** Why the tests need the shared RabbitMQ 3.10 broker on 5672 (a service container). */
  readonly rabbitmq?: string;
  /** Why the tests need the shared Redis on 6379 (a service container). */
  readonly redis?: string;
  /** The Debian packages the tests need, each with why. */
  readonly apt?: Readonly<Partial<Record<AptPackage, string>>>;
  /** Why the tests must run as root (network namespaces, links cut between nodes). */
  readonly root?: string;
}

/** The Debian packages a pipeline may install. */
export type AptPackage = 'python3-pika' | 'amqp-tools' | 'rabbitmq-server' | 'redis-server';

export interface Pipeline {
  /** The workspace package it checks, as its package.json names it. */
  readonly pkg: string;
  /** Its workflow file in .github/workflows. */
  readonly file: string;
  readonly needs: Needs;
  /** Runs on every change (no `paths` filter): for checks that read the whole repository. */
  readonly everyChange?: string;
}

const pika = "the tutorial's Python programs, an independent client (interoperability tests)";

export const pipelines: readonly Pipeline[] = [
  {
    pkg: 'producer',
    file: 'producer.yml',
    needs: {
      rabbitmq: 'the integration tests',
      redis: "the shared dedup store's tests (service-idempotency)",
      apt: { 'python3-pika': pika, 'rabbitmq-server': 'a private node that the broker-restart test stops and starts' },
    },
  },
  {
    pkg: 'consumer',
    file: 'consumer.yml',
    needs: {
      rabbitmq: 'the integration tests',
      redis: "the shared dedup store's tests (dedup-redis)",
      apt: { 'python3-pika': pika, 'amqp-tools': 'amqp-publish, a second non-Node client' },
    },
  },
  {
    pkg: 'ops',
    file: 'ops.yml',
    needs: {
      rabbitmq: 'the integration tests, and its management API',
      apt: { 'rabbitmq-server': 'a private node with a TLS listener (tls test)' },
    },
  },
  { pkg: '@hello-rabbit/broker-config', file: 'broker-config.yml', needs: {} },
  { pkg: '@hello-rabbit/runtime', file: 'runtime.yml', needs: {} },
  {
    pkg: '@hello-rabbit/transport',
    file: 'transport.yml',
    needs: {
      rabbitmq: 'the integration tests, and its management API',
      redis: "the Redis dedup store's tests",
      apt: {
        'python3-pika': 'messages from another client (hostile headers, trace context)',
        'redis-server': 'private Redis servers that the tests stop and restart',
      },
    },
  },
  {
    pkg: '@hello-rabbit/testkit',
    file: 'testkit.yml',
    needs: {
      rabbitmq: 'the test vhosts: owner, dispose, the sweep of stale ones',
      redis: 'the test of deleteRedisKeys, the clean-up of every test that writes to it',
      apt: { 'rabbitmq-server': 'the three-node clusters of its own (test:serial)' },
      root: 'the partition cluster puts each node in a network namespace of its own (test:serial)',
    },
  },
  { pkg: '@hello-rabbit/bundle', file: 'bundle.yml', needs: {} },
  {
    pkg: '@hello-rabbit/e2e',
    file: 'e2e.yml',
    needs: {
      rabbitmq: 'the deployed apps run against it',
      apt: { 'rabbitmq-server': 'private nodes (TLS, least privilege, secrets)' },
    },
  },
  {
    pkg: '@hello-rabbit/faults',
    file: 'faults.yml',
    // Never the shared broker or Redis: the suites boot their own.
    needs: {
      apt: {
        'python3-pika': 'the malformed messages come from pika',
        'rabbitmq-server': 'the private node and cluster that the faults bounce, crash and cut',
        'redis-server': 'the private Redis that shared-dedup stops and starts',
      },
      root: 'the partition suite puts each node in a network namespace of its own and cuts the links between them',
    },
  },
  {
    pkg: '@hello-rabbit/bench',
    file: 'bench.yml',
    needs: {
      rabbitmq: 'the benchmark smoke run (test:serial) and the pump tests',
      redis: "the smoke run's project-redis client",
      apt: { 'rabbitmq-server': 'the cluster scenario boots three nodes (test:serial)' },
    },
  },
  {
    pkg: '@hello-rabbit/repo-checks',
    file: 'repo.yml',
    needs: {},
    everyChange:
      "its checks read the whole repository (every package's sources and manifest, the workflows, the Dockerfiles, " +
      'the README)',
  },
];

export const sharedPipeline = '_package.yml';

/**
 * Files every package's install, lint, typecheck, build or test reads, whatever the package:
 * the root manifests, the lockfile, turbo's configuration and what it lists as global.
 */
export function rootFiles(root: string = repoRoot): string[] {
  const turbo: unknown = JSON.parse(readFileSync(join(root, 'turbo.json'), 'utf8'));
  const always = [
    'package.json',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    'turbo.json',
    'tsconfig.base.json',
    'eslint.config.js',
  ];
  return [...new Set([...always, ...stringsAt(turbo, 'globalDependencies')])];
}

/** The `paths` of a pipeline's triggers: its package, every one it depends on, the root files and the workflows. */
export function watchedPaths(
  pipeline: Pipeline,
  workspace: Workspace = readWorkspace(),
  root: string = repoRoot,
): string[] {
  const own = findPackage(workspace, pipeline.pkg);
  if (own === undefined) throw new Error(`no package.json in the workspace is named ${pipeline.pkg}`);
  const dirs = [
    own.dir,
    ...transitiveWorkspaceDependencies(workspace, pipeline.pkg).map((dependency) => dependency.dir),
  ];
  return [
    ...dirs.map((dir) => `${dir}/**`),
    ...rootFiles(root),
    `${workflowsDir}/${pipeline.file}`,
    `${workflowsDir}/${sharedPipeline}`,
  ];
}

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** `text` as YAML comment lines of at most 92 characters, indented by `indent`. */
function comment(text: string, indent = ''): string[] {
  const lines: string[] = [];
  let line = `${indent}#`;
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > 92 && line.length > indent.length + 1) {
      lines.push(line);
      line = `${indent}#`;
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

function triggers(pipeline: Pipeline, workspace: Workspace, root: string): string[] {
  if (pipeline.everyChange !== undefined) {
    return [
      ...comment(`On every change, with no paths filter: ${pipeline.everyChange}.`),
      'on:',
      '  push:',
      '    branches: [main]',
      '  pull_request:',
      '  workflow_dispatch:',
    ];
  }
  const paths = watchedPaths(pipeline, workspace, root).map((path) => `      - ${quote(path)}`);
  return [
    'on:',
    '  push:',
    '    branches: [main]',
    '    paths:',
    ...paths,
    '  pull_request:',
    '    paths:',
    ...paths,
    '  workflow_dispatch:',
  ];
}

function inputs(pipeline: Pipeline): string[] {
  const { rabbitmq, redis, apt = {}, root } = pipeline.needs;
  const indent = '      ';
  const lines = [`${indent}package: ${quote(pipeline.pkg)}`];
  if (rabbitmq !== undefined)
    lines.push(...comment(`The shared RabbitMQ: ${rabbitmq}.`, indent), `${indent}rabbitmq: true`);
  if (redis !== undefined) lines.push(...comment(`The shared Redis: ${redis}.`, indent), `${indent}redis: true`);
  const packages = Object.entries(apt);
  if (packages.length > 0) {
    lines.push(
      ...packages.flatMap(([name, why]) => comment(`${name}: ${why}.`, indent)),
      `${indent}apt-packages: ${packages.map(([name]) => name).join(' ')}`,
    );
  }
  if (root !== undefined) lines.push(...comment(`As root: ${root}.`, indent), `${indent}as-root: true`);
  if (lines.length === 1) lines.push(...comment('Its tests need no broker, no Redis and no Debian package.', indent));
  return lines;
}

/** The text of a pipeline's workflow file. */
export function renderPipeline(
  pipeline: Pipeline,
  workspace: Workspace = readWorkspace(),
  root: string = repoRoot,
): string {
  return [
    '# Generated by `pnpm --filter @hello-rabbit/repo-checks write-workflows` from the workspace',
    '# and tools/repo-checks/src/pipelines.ts: change those, then run it, rather than edit this.',
    '#',
    ...comment(
      `Lint, typecheck and tests of ${pipeline.pkg} through the shared pipeline (${sharedPipeline}), ` +
        (pipeline.everyChange === undefined
          ? 'when it, any workspace package it depends on, or a root file they all read changes.'
          : 'on every change.'),
    ),
    `name: ${pipeline.file.replace(/\.ya?ml$/, '')}`,
    '',
    ...triggers(pipeline, workspace, root),
    '',
    '# A newer push to the same branch or pull request supersedes a running check.',
    'concurrency:',
    '  group: ${{ github.workflow }}-${{ github.ref }}',
    '  cancel-in-progress: true',
    '',
    'permissions:',
    '  contents: read',
    '',
    'jobs:',
    '  check:',
    `    uses: ./${workflowsDir}/${sharedPipeline}`,
    '    with:',
    ...inputs(pipeline),
    '',
  ].join('\n');
}

/** Every pipeline's workflow file, as it should be committed. */
export function generatedWorkflows(root: string = repoRoot): { path: string; text: string }[] {
  const workspace = readWorkspace(root);
  return pipelines.map((pipeline) => ({
    path: `${workflowsDir}/${pipeline.file}`,
    text: renderPipeline(pipeline, workspace, root),
  }));
}

/** The first line of every generated workflow, which the writer looks for before deleting one. */
export const generatedMarker = '# Generated by `pnpm --filter @hello-rabbit/repo-checks write-workflows`';
