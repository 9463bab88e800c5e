import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, JobResult, RunnerMessage } from './jobs.js';

const runnerPath = fileURLToPath(new URL('./runner.ts', import.meta.url));

/** Children still running, killed if the benchmark is interrupted. */
const running = new Set<ChildProcess>();

export function killRunners(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** A runner process with its job: `ready` once connected, `result` once measured. */
export interface Runner {
  readonly ready: Promise<void>;
  readonly result: Promise<JobResult>;
  kill(): void;
}

export interface RunnerOptions {
  readonly timeoutMs: number;
  /**
   * Write V8 CPU profiles of the runner (node --cpu-prof) to `dir`/`name`/: one per thread,
   * the main thread's being the largest (tsx's loader has a thread of its own).
   */
  readonly profile?: { readonly dir: string; readonly name: string } | undefined;
}

/**
 * Forks the runner for one job. It runs under the same loader as this process (tsx), and
 * is killed when it takes longer than `timeoutMs`.
 */
export function startRunner(job: Job, options: RunnerOptions): Runner {
  const { timeoutMs, profile } = options;
  const execArgv =
    profile === undefined
      ? process.execArgv
      : [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${join(profile.dir, profile.name)}`];
  const child = fork(runnerPath, [JSON.stringify(job)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  running.add(child);
  let onReady: () => void = () => undefined;
  let failReady: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    failReady = reject;
  });
  const result = new Promise<JobResult>((resolve, reject) => {
    let outcome: JobResult | Error | undefined;
    const timer = setTimeout(() => {
      outcome ??= new Error(`the ${job.client} ${job.role} runner took longer than ${timeoutMs} ms`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (message: RunnerMessage) => {
      if (message.type === 'ready') onReady();
      else if (message.type === 'result') outcome ??= message.result;
      else outcome ??= new Error(`the ${job.client} ${job.role} runner failed: ${message.message}`);
    });
    child.on('error', (err) => {
      outcome ??= err;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const settled =
        outcome ??
        new Error(`the ${job.client} ${job.role} runner exited (${signal ?? String(code)}) without a result`);
      if (settled instanceof Error) {
        failReady(settled);
        reject(settled);
      } else {
        resolve(settled);
      }
    });
  });
  // Whoever awaits only `result` must not see an unhandled rejection of `ready`.
  ready.catch(() => undefined);
  return {
    ready,
    result,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

/** Runs one job to its end. */
export function runJob(job: Job, options: RunnerOptions): Promise<JobResult> {
  return startRunner(job, options).result;
}
