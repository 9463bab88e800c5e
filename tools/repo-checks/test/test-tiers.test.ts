import { execFileSync } from 'node:child_process';
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
  return entries.some((entry) =>
    entry.isDirectory() ? hasTests(join(dir, entry.name)) : /\.test\.(?:ts|mjs)$/.test(entry.name),
  );
}

describe('the test tiers', () => {
  it('gives every package with unit tests in src/ a test:unit script, which pnpm test:unit runs', () => {
    const rootScripts = (
      JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(rootScripts['test:unit']).toBe('turbo run test:unit');
    const missing = readWorkspace()
      .packages.filter((pkg) => hasTests(join(repoRoot, pkg.dir, 'src')))
      .filter((pkg) => {
        const scripts = (
          JSON.parse(readFileSync(join(repoRoot, pkg.dir, 'package.json'), 'utf8')) as {
            scripts?: Record<string, string>;
          }
        ).scripts;
        return scripts?.['test:unit'] === undefined;
      })
      .map((pkg) => pkg.name);
    expect(missing).toEqual([]);
  });
});

interface DryTask {
  taskId: string;
  task: string;
  package: string;
  command: string;
  dependencies: string[];
}

/** The graph turbo would run for `turbo run <tasks>`, without running it. */
function dryRun(tasks: readonly string[]): DryTask[] {
  const turbo = join(repoRoot, 'node_modules/.bin/turbo');
  const out = execFileSync(turbo, ['run', ...tasks, '--dry=json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out) as { tasks: DryTask[] }).tasks;
}

describe('pnpm test, the full suite', () => {
  const rootScripts = (
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  const script = rootScripts.test ?? '';
  // The stages' order lives in turbo.json (dependsOn), not in a chain of commands.
  const tasks = /^turbo run ((?:[a-z][\w:-]*\s*)+)$/.exec(script)?.[1]?.trim().split(/\s+/) ?? [];
  // The fault suite and the root scripts' tests are not named by the task that runs them.
  const faults = '@hello-rabbit/faults#test';
  const scripts = '//#test:scripts';

  it('is one turbo run of lint, typecheck, build, every test task and the format check', () => {
    expect(tasks, `the root test script: ${script}`).toEqual([
      'lint',
      'typecheck',
      'build',
      'test',
      'test:serial',
      'test:scripts',
      'format:check',
    ]);
    expect(rootScripts['test:scripts']).toBe('eslint scripts && node --test scripts/');
  });

  describe('its task graph (turbo run … --dry=json)', () => {
    const graph = dryRun(tasks);
    const byId = new Map(graph.map((task) => [task.taskId, task]));
    /** The tasks that run a script; turbo keeps the others as empty nodes of the graph. */
    const real = graph.filter((task) => task.command !== '<NONEXISTENT>').map((task) => task.taskId);
    const waitsFor = (id: string): Set<string> => {
      const seen = new Set<string>();
      const visit = (from: string) => {
        for (const dependency of byId.get(from)?.dependencies ?? []) {
          if (!seen.has(dependency)) {
            seen.add(dependency);
            visit(dependency);
          }
        }
      };
      visit(id);
      return seen;
    };
    /** The serial stage, in the order the tasks wait for one another (the fewer tasks before, the sooner). */
    const serial = [
      ...graph
        .filter((task) => task.task === 'test:serial' && task.command !== '<NONEXISTENT>')
        .map((task) => task.taskId),
      scripts,
      faults,
    ]
      .map((id) => ({ id, before: waitsFor(id) }))
      .sort((a, b) => a.before.size - b.before.size);
    const parallel = real.filter((id) => !serial.some((task) => task.id === id));

    it("runs every package's lint, typecheck, tests and serial tests, and the root scripts' tests", () => {
      const expected = readWorkspace().packages.flatMap((pkg) =>
        ['lint', 'typecheck', 'test', 'test:serial']
          .filter((task) => pkg.manifest.scripts?.[task] !== undefined)
          .map((task) => `${pkg.name}#${task}`),
      );
      expect(expected.filter((id) => !real.includes(id))).toEqual([]);
      expect(real).toContain(scripts);
      expect(real).toContain(faults);
    });

    it('runs the fault suite last and alone: after every other task', () => {
      const before = waitsFor(faults);
      expect(real.filter((id) => id !== faults && !before.has(id))).toEqual([]);
    });

    it('runs the serial stage one task at a time, after every task of the parallel stage', () => {
      for (const [i, { id, before }] of serial.entries()) {
        expect(
          parallel.filter((other) => !before.has(other)),
          `${id} may start before these end`,
        ).toEqual([]);
        expect(
          serial
            .slice(0, i)
            .filter((other) => !before.has(other.id))
            .map((other) => other.id),
          `${id} may run beside these`,
        ).toEqual([]);
      }
      expect(serial.at(-1)?.id).toBe(faults);
    });
  });
});
