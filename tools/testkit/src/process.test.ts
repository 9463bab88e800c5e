import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isAlive, RunningProcess, runProcess } from './process.js';

const node = process.execPath;

describe('RunningProcess', () => {
  it('collects stdout and stderr and the exit code', async () => {
    const result = await runProcess(node, ['-e', 'console.log("out"); console.error("err"); process.exit(3)']);
    expect(result).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('feeds its input to stdin', async () => {
    const result = await runProcess(node, ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'piped' });
    expect(result.stdout).toBe('piped');
  });

  it('waits for a line, and fails with the output when the process exits without it', async () => {
    const p = new RunningProcess(node, ['-e', 'console.log("ready"); setTimeout(() => {}, 10000)']);
    await expect(p.waitForOutput(/^ready$/)).resolves.toBe('ready');
    expect((await p.stop('SIGTERM')).signal).toBe('SIGTERM');

    const q = new RunningProcess(node, ['-e', 'console.log("something else")']);
    await expect(q.waitForOutput(/^ready$/)).rejects.toThrow(/exited before printing/);
  });

  it('signals the whole process group of a detached process', async () => {
    const script =
      'require("child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], ' +
      '{ stdio: "inherit" }); console.log("started")';
    const p = new RunningProcess(node, ['-e', script], { detached: true });
    await p.waitForOutput(/started/);
    // The grandchild holds stdout open: 'close' only comes once it is gone too.
    const result = await p.stop('SIGTERM');
    expect(result.signal).toBe('SIGTERM');
  });

  it('kills a process that outlives its timeout', async () => {
    const result = await runProcess(node, ['-e', 'setTimeout(() => {}, 30000)'], { timeoutMs: 300 });
    expect(result.signal).toBe('SIGKILL');
  });
});

describe('isAlive: whether an owner process still lives', () => {
  it('is true for this process and false for one that has exited', async () => {
    expect(isAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    await new Promise((resolve) => child.on('exit', resolve));
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });
});
