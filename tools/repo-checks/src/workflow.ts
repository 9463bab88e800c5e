import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { matchesPathFilters } from './path-filter.js';
import { at, isMap, mapEntriesAt, mapsAt, stringsAt, type YamlMap } from './yaml-value.js';

export const workflowsDir = '.github/workflows';

export interface Workflow {
  /** Relative to the repository root, e.g. `.github/workflows/producer.yml`. */
  readonly path: string;
  /** The parsed document; `on` stays a string key because `yaml` reads YAML 1.2. */
  readonly document: unknown;
}

export type PathEvent = 'push' | 'pull_request';

export function readWorkflow(root: string, file: string): Workflow | undefined {
  const path = `${workflowsDir}/${file}`;
  if (!existsSync(join(root, path))) return undefined;
  return { path, document: parse(readFileSync(join(root, path), 'utf8')) as unknown };
}

/** Every workflow file in .github/workflows, reusable ones included. */
export function readWorkflows(root: string): Workflow[] {
  return readdirSync(join(root, workflowsDir))
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) => readWorkflow(root, file) ?? []);
}

/** Whether the workflow lists `event` among its triggers (in any of the forms GitHub accepts). */
export function hasTrigger(workflow: Workflow, event: string): boolean {
  const on = at(workflow.document, 'on');
  if (typeof on === 'string') return on === event;
  if (Array.isArray(on)) return on.includes(event);
  return isMap(on) && event in on;
}

/**
 * The `paths` filter of a trigger, or undefined when the event does not trigger the
 * workflow. A trigger without `paths` runs for every change, which `**` stands for.
 */
export function triggerPaths(workflow: Workflow, event: PathEvent): string[] | undefined {
  if (!hasTrigger(workflow, event)) return undefined;
  const trigger = at(workflow.document, 'on', event);
  if (at(trigger, 'paths-ignore') !== undefined) {
    throw new Error(`${workflow.path}: 'paths-ignore' on ${event} is not understood by repo-checks; use 'paths'`);
  }
  return at(trigger, 'paths') === undefined ? ['**'] : stringsAt(trigger, 'paths');
}

/** Whether a change to this one file (repository-relative) starts the workflow on `event`. */
export function runsOnChange(workflow: Workflow, event: PathEvent, changedFile: string): boolean {
  const paths = triggerPaths(workflow, event);
  return paths !== undefined && matchesPathFilters(changedFile, paths);
}

export function jobs(workflow: Workflow): [string, YamlMap][] {
  return mapEntriesAt(workflow.document, 'jobs');
}

/** Every step of every job, with the job it belongs to. */
export function steps(workflow: Workflow): { job: YamlMap; step: YamlMap }[] {
  return jobs(workflow).flatMap(([, job]) => mapsAt(job, 'steps').map((step) => ({ job, step })));
}

/**
 * The environment a step runs with: the workflow's `env`, then its job's, then its own,
 * each overriding the one before, as GitHub merges them.
 */
export function stepEnv(workflow: Workflow, job: YamlMap, step: YamlMap): Record<string, unknown> {
  const layer = (value: unknown): YamlMap => (isMap(value) ? value : {});
  return { ...layer(at(workflow.document, 'env')), ...layer(job.env), ...layer(step.env) };
}
