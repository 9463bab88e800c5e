import { spawn, type ChildProcess } from 'node:child_process';

/** How `RunningProcess` and `runProcess` start a command. */
export interface ProcessOptions {
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** The process is killed (SIGKILL) and the test fails after this long. @default 30000 */
  readonly timeoutMs?: number;
  /** Written to the process's stdin, which is then closed. @default no stdin */
  readonly input?: string | Buffer;
  /** Runs the process in a process group of its own (signal it all with `kill(-pid)`). */
  readonly detached?: boolean;
}

/** How a process ended, and everything it printed. */
export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A child process whose output is collected, line by line, as it comes. */
export class RunningProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessResult>;
  private stdoutText = '';
  private stderrText = '';
  private readonly waiters = new Set<() => void>();
  private readonly detached: boolean;

  constructor(command: string, args: readonly string[], options: ProcessOptions = {}) {
    this.detached = options.detached ?? false;
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    });
    if (options.input !== undefined) this.child.stdin?.end(options.input);
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdoutText += chunk;
      this.notify();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrText += chunk;
      this.notify();
    });
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      this.kill('SIGKILL');
    }, timeoutMs);
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.notify();
        resolve({ code, signal, stdout: this.stdoutText, stderr: this.stderrText });
      });
    });
  }

  get stdout(): string {
    return this.stdoutText;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Resolves once stdout has a line matching `pattern`; fails on exit or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.stdoutText.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) {
          done();
          resolve(line);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(
            new Error(
              `process exited before printing ${pattern}\nstdout:\n${this.stdoutText}\nstderr:\n${this.stderrText}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no line matching ${pattern} within ${timeoutMs} ms\n` +
              `stdout:\n${this.stdoutText}\nstderr:\n${this.stderrText}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a signal (to the whole group of a detached process) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessResult> {
    this.kill(signal);
    return this.exited;
  }

  private kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const { pid } = this.child;
    try {
      if (this.detached && pid !== undefined) process.kill(-pid, signal);
      else this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Runs a command to its end. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  return new RunningProcess(command, args, options).exited;
}

/**
 * Whether process `pid` of this machine lives: signal 0 reaches it, or it exists but is
 * another user's (EPERM). What the sweeps of stale nodes, servers and vhosts ask of an owner.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
