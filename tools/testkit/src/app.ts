import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunningProcess, type ProcessOptions } from './process.js';

/** The deployable apps of the workspace (`apps/<name>`). */
export type AppName = 'producer' | 'consumer' | 'ops';

/** How a built app is run: the options of any process, and node's own flags. */
export interface AppOptions extends ProcessOptions {
  /** Flags for node itself, before the app's script (e.g. `['--import', hook]`). @default none */
  readonly nodeArgs?: readonly string[];
}

let root: string | undefined;

/** The workspace root: the nearest directory above this module holding pnpm-workspace.yaml. */
export function repoRoot(): string {
  if (root !== undefined) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`no pnpm-workspace.yaml above ${fileURLToPath(import.meta.url)}: where is the workspace?`);
    dir = parent;
  }
  root = dir;
  return dir;
}

/** `apps/<app>/dist/main.js` of the workspace: what `pnpm --filter <app> start` runs. */
export function appMain(app: AppName): string {
  return path.join(repoRoot(), 'apps', app, 'dist', 'main.js');
}

/**
 * Starts a built app with plain node (`node apps/<app>/dist/main.js ...args`), as it is
 * deployed and as `pnpm --filter <app> start` runs it: build it first. Await `.exited` to
 * run it to its end, or `waitForOutput()` for a line it prints while it runs.
 */
export function spawnApp(app: AppName, args: readonly string[] = [], options: AppOptions = {}): RunningProcess {
  const { nodeArgs = [], ...processOptions } = options;
  return new RunningProcess(process.execPath, [...nodeArgs, appMain(app), ...args], processOptions);
}
