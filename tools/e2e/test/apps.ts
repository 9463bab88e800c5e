import path from 'node:path';
import { RunningProcess, runProcess, type ProcessResult } from '@hello-rabbit/testkit';
import { repoRoot } from './repo.js';

/** The built apps, run with plain node as `pnpm --filter <app> start` does. */
export const appMain = {
  producer: path.join(repoRoot, 'apps/producer/dist/main.js'),
  consumer: path.join(repoRoot, 'apps/consumer/dist/main.js'),
} as const;

export type App = keyof typeof appMain;
export type Env = Readonly<Record<string, string | undefined>>;

/** Runs an app to its end. */
export function runApp(app: App, args: readonly string[], env: Env, timeoutMs = 60_000): Promise<ProcessResult> {
  return runProcess(process.execPath, [appMain[app], ...args], { env, timeoutMs });
}

/** Starts an app that keeps running (the consumer); stop it with `stop()`. */
export function startApp(app: App, args: readonly string[], env: Env, timeoutMs = 90_000): RunningProcess {
  return new RunningProcess(process.execPath, [appMain[app], ...args], { env, timeoutMs });
}

/**
 * The lines an app wrote to stderr that are neither the JSON log nor a warning of Node's
 * own (such as the one NODE_TLS_REJECT_UNAUTHORIZED=0 brings): its one-line errors,
 * prefixed with its name.
 */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{') && !/^\((node:\d+\) |Use `node )/.test(line));
}
