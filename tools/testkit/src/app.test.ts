import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appMain, repoRoot, spawnApp } from './app.js';

describe('spawnApp', () => {
  it("finds each app's dist/main.js from the workspace root", () => {
    expect(existsSync(path.join(repoRoot(), 'pnpm-workspace.yaml'))).toBe(true);
    for (const app of ['producer', 'consumer', 'ops'] as const) {
      expect(appMain(app)).toBe(path.join(repoRoot(), 'apps', app, 'dist', 'main.js'));
      expect(existsSync(path.join(repoRoot(), 'apps', app, 'package.json'))).toBe(true);
    }
  });

  it("runs node with its own flags first, then the app's script and the arguments, with the env given", async () => {
    // `node -e <code> <main> ...args` does not run <main>: the code prints what it was given.
    const printArgs = 'console.log(JSON.stringify([...process.argv.slice(1), process.env.SPAWN_APP_TEST]))';
    const result = await spawnApp('consumer', ['--from', 'task_queue'], {
      nodeArgs: ['-e', printArgs],
      env: { SPAWN_APP_TEST: 'set' },
      timeoutMs: 10_000,
    }).exited;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([appMain('consumer'), '--from', 'task_queue', 'set']);
  });
});
