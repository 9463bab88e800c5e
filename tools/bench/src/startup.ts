/**
 * The startup scenario: what a fresh process of the project costs before (and including)
 * its first useful work, beside raw amqplib, the tutorial's pika program and Node itself.
 * Every run is a whole process (`node dist/main.js ...`), spawned through GNU time when
 * /usr/bin/time is there, for its CPU and peak RSS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queues, subscriptions } from '@hello-rabbit/broker-config';
import { pikaPrograms, pythonWithPika, withChannel } from '@hello-rabbit/testkit';
import { prefill } from './broker.js';
import { parsePeakRss, parseProcStat, parseTimeOutput, TIME_FORMAT } from './startup-figures.js';
import { median, spread, type Spread } from './stats.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const programsDir = fileURLToPath(new URL('../programs/', import.meta.url));
const GNU_TIME = '/usr/bin/time';

export type StartupGroup = 'send' | 'help' | 'ready' | 'publish' | 'drain';

export const STARTUP_GROUPS: Record<
  StartupGroup,
  { readonly title: string; readonly short: string; readonly baseline: string }
> = {
  send: {
    title: "One-shot send of 'Hello World!' to hello",
    short: 'hello send|whole process',
    baseline: 'amqplib-send',
  },
  help: { title: '--help (no broker)', short: '--help|whole process', baseline: 'node' },
  ready: {
    title: 'Consumer: spawn to " [*] Waiting for messages"',
    short: 'consumer|to ready',
    baseline: 'amqplib-ready',
  },
  publish: {
    title: 'Whole process: --count N confirmed publishes to task_queue',
    short: 'publish N|whole process',
    baseline: 'amqplib-publish',
  },
  drain: {
    title: 'Consumer: spawn to the last of N messages from hello printed',
    short: 'drain N|whole process',
    baseline: 'amqplib-drain',
  },
};

/** How many messages the whole-process groups move: the publish's `--count`, and the messages drained. */
export interface WholeProcessCounts {
  readonly publish: number;
  readonly drain: number;
}

export interface StartupProgram {
  readonly id: string;
  readonly label: string;
  readonly group: StartupGroup;
  readonly command: string;
  readonly args: readonly string[];
  /**
   * A line the program prints when it did its job (for `ready`: the line that ends the
   * measurement; for `drain`: the line each message prints, counted to `count`).
   */
  readonly expect: string;
  /** `drain`: the messages to see printed. */
  readonly count?: number;
  /** Settings for the child, beside AMQP_URL. */
  readonly env?: Readonly<Record<string, string>>;
}

const SENT = " [x] Sent 'Hello World!'";
const RECEIVED = " [x] Received '";
/** The worker's queue, as the contract declares it: the raw publisher declares it the same way. */
const TASK_QUEUE_OPTIONS = queues.task_queue.options;
/** Both consumers of `drain` take as many unacknowledged deliveries as the project's default for `hello`. */
const HELLO_PREFETCH = subscriptions.hello.prefetch;
/** The drain's messages: as long as 'Hello World!'. */
const HELLO_BODY_BYTES = 12;
const WAITING = ' [*] Waiting for messages. To exit press CTRL+C';

/** The programs, and the ones left out with why (pika when no Python here has it). */
export function startupPrograms(counts: WholeProcessCounts): {
  readonly programs: StartupProgram[];
  readonly skipped: { readonly label: string; readonly reason: string }[];
} {
  const node = process.execPath;
  const producer = join(repoRoot, 'apps/producer/dist/main.js');
  const consumer = join(repoRoot, 'apps/consumer/dist/main.js');
  const programs: StartupProgram[] = [
    {
      id: 'project-send',
      label: 'hello-rabbit producer',
      group: 'send',
      command: node,
      args: [producer, 'Hello World!'],
      expect: SENT,
    },
    {
      id: 'amqplib-send',
      label: 'raw amqplib script',
      group: 'send',
      command: node,
      args: [join(programsDir, 'raw-send.mjs'), 'Hello World!'],
      expect: SENT,
    },
  ];
  const skipped: { label: string; reason: string }[] = [];
  try {
    programs.push({
      id: 'pika-send',
      label: "pika's send.py",
      group: 'send',
      command: pythonWithPika(),
      args: [pikaPrograms.send, 'Hello World!'],
      expect: SENT,
    });
  } catch (err) {
    skipped.push({ label: "pika's send.py", reason: err instanceof Error ? err.message : String(err) });
  }
  programs.push(
    {
      id: 'producer-help',
      label: 'producer --help',
      group: 'help',
      command: node,
      args: [producer, '--help'],
      expect: 'Usage: producer',
    },
    {
      id: 'consumer-help',
      label: 'consumer --help',
      group: 'help',
      command: node,
      args: [consumer, '--help'],
      expect: 'Usage: consumer',
    },
    { id: 'node', label: 'node -e 0', group: 'help', command: node, args: ['-e', '0'], expect: '' },
    {
      id: 'project-ready',
      label: 'hello-rabbit consumer',
      group: 'ready',
      command: node,
      args: [consumer],
      expect: WAITING,
    },
    {
      id: 'amqplib-ready',
      label: 'raw amqplib consumer',
      group: 'ready',
      command: node,
      args: [join(programsDir, 'raw-consume.mjs')],
      expect: WAITING,
    },
    {
      id: 'project-publish',
      label: `hello-rabbit producer --count ${String(counts.publish)}`,
      group: 'publish',
      command: node,
      args: [producer, '--to', 'task_queue', '--count', String(counts.publish), 'Hello World!'],
      expect: ` [x] Sent ${String(counts.publish)} messages to 'task_queue', all confirmed by the broker`,
    },
    {
      id: 'amqplib-publish',
      label: `raw amqplib publisher, ${String(counts.publish)}`,
      group: 'publish',
      command: node,
      args: [join(programsDir, 'raw-publish.mjs'), 'task_queue', String(counts.publish), 'Hello World!'],
      expect: ` [x] Sent ${String(counts.publish)} messages to 'task_queue', all confirmed by the broker`,
      env: { QUEUE_OPTIONS: JSON.stringify(TASK_QUEUE_OPTIONS), PUBLISH_WINDOW: '1000' },
    },
    {
      id: 'project-drain',
      label: `hello-rabbit consumer, ${String(counts.drain)}`,
      group: 'drain',
      command: node,
      args: [consumer],
      expect: RECEIVED,
      count: counts.drain,
    },
    {
      id: 'amqplib-drain',
      label: `raw amqplib consumer, ${String(counts.drain)}`,
      group: 'drain',
      command: node,
      args: [join(programsDir, 'raw-consume.mjs')],
      expect: RECEIVED,
      count: counts.drain,
      env: { PREFETCH: String(HELLO_PREFETCH) },
    },
  );
  return { programs, skipped };
}

/** One run of one program. */
export interface StartupRun {
  /** Spawn to exit (`ready`: spawn to the waiting line), measured here. */
  readonly wallMs: number;
  /** User + system CPU of the child (`ready`: up to the waiting line). */
  readonly cpuMs?: number | undefined;
  readonly peakRssBytes?: number | undefined;
}

/** Children running now, killed if the benchmark is interrupted. */
const running = new Set<ChildProcess>();

export function killStartupChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Whether runs go through GNU time (CPU and peak RSS) or are timed by the wall clock only. */
export function hasGnuTime(): boolean {
  if (!existsSync(GNU_TIME)) return false;
  try {
    execFileSync(GNU_TIME, ['-f', TIME_FORMAT, 'true'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat's CPU times (nearly always 100). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function childEnv(url: string, program: StartupProgram): NodeJS.ProcessEnv {
  // The programs run under plain node, as deployed: no loader of the benchmark's (tsx) leaks
  // in, and the project's apps log at their default level.
  const env: NodeJS.ProcessEnv = { ...process.env, ...program.env, AMQP_URL: url };
  delete env.NODE_OPTIONS;
  delete env.LOG_LEVEL;
  return env;
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ').slice(0, 400);
}

/** Runs `program` to its end, through GNU time when `timed`; checks it exited 0 and printed its line. */
async function runToEnd(program: StartupProgram, url: string, timed: boolean, timeoutMs: number): Promise<StartupRun> {
  const dir = timed ? await mkdtemp(join(tmpdir(), 'bench-startup-')) : undefined;
  const figuresFile = dir === undefined ? undefined : join(dir, 'time');
  try {
    const [command, args] =
      figuresFile === undefined
        ? [program.command, [...program.args]]
        : [GNU_TIME, ['-o', figuresFile, '-f', TIME_FORMAT, program.command, ...program.args]];
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env: childEnv(url, program), stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode) => {
        resolve(exitCode);
      });
    }).finally(() => {
      clearTimeout(timer);
      running.delete(child);
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (code !== 0) throw new Error(`${program.label} exited with ${String(code)}: ${tail(stderr || stdout)}`);
    if (!stdout.includes(program.expect))
      throw new Error(`${program.label} did not print '${program.expect}': ${tail(stdout)}`);
    if (figuresFile === undefined) return { wallMs };
    const figures = parseTimeOutput(await readFile(figuresFile, 'utf8'));
    if (figures === undefined) throw new Error(`${program.label}: no figures from ${GNU_TIME}`);
    return { wallMs, cpuMs: (figures.userSeconds + figures.sysSeconds) * 1000, peakRssBytes: figures.maxRssBytes };
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Spawns a consumer and times it to its waiting line; its CPU and peak RSS so far come from
 * /proc (a process cannot be both timed by GNU time and sent a signal of its own), then it
 * is sent SIGTERM and must exit.
 */
async function runUntilReady(program: StartupProgram, url: string, timeoutMs: number): Promise<StartupRun> {
  const started = process.hrtime.bigint();
  const child = spawn(program.command, [...program.args], {
    env: childEnv(url, program),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const wallMs = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      const wanted = program.count;
      let seen = 0;
      let partial = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (wanted === undefined) {
          stdout += chunk;
          if (stdout.includes(program.expect)) resolve(Number(process.hrtime.bigint() - started) / 1e6);
          return;
        }
        // Counting lines: only the last, unfinished one is kept.
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith(program.expect)) seen++;
        stdout = lines.at(-1) ?? stdout;
        if (seen >= wanted) resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
      void exited.then((code) => {
        reject(new Error(`${program.label} exited (${String(code)}) before it was ready: ${tail(stderr || stdout)}`));
      });
    });
    let cpuMs: number | undefined;
    let peakRssBytes: number | undefined;
    if (child.pid !== undefined) {
      try {
        const ticks = parseProcStat(await readFile(`/proc/${String(child.pid)}/stat`, 'utf8'));
        if (ticks !== undefined) cpuMs = ((ticks.userTicks + ticks.sysTicks) / ticksPerSecond()) * 1000;
        peakRssBytes = parsePeakRss(await readFile(`/proc/${String(child.pid)}/status`, 'utf8'));
      } catch {
        // No /proc (not Linux): the wall time only.
      }
    }
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`${program.label} exited with ${String(code)} on SIGTERM: ${tail(stderr)}`);
    return { wallMs, cpuMs, peakRssBytes };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * Readies the run's vhost for `program`: for `publish`, `task_queue` empty and declared as
 * the contract declares it; for `drain`, `hello` declared as the tutorial does and holding
 * `count` confirmed messages.
 */
export async function prepareStartupRun(program: StartupProgram, url: string): Promise<void> {
  if (program.group === 'publish') {
    await withChannel(url, async (channel) => {
      await channel.deleteQueue('task_queue');
      await channel.assertQueue('task_queue', TASK_QUEUE_OPTIONS);
    });
  } else if (program.group === 'drain') {
    await withChannel(url, async (channel) => {
      await channel.deleteQueue('hello');
      await channel.assertQueue('hello', { durable: false });
    });
    await prefill(url, 'hello', program.count ?? 0, HELLO_BODY_BYTES);
  }
}

/**
 * Deletes what a run of `program` left in the vhost (`task_queue` after a publish, `hello` after
 * the rest), so the next program declares it anew.
 */
export async function cleanUpStartupRun(program: StartupProgram, url: string): Promise<void> {
  if (program.group === 'help') return;
  await withChannel(url, (channel) => channel.deleteQueue(program.group === 'publish' ? 'task_queue' : 'hello'));
}

export function runStartupProgram(
  program: StartupProgram,
  url: string,
  timed: boolean,
  timeoutMs: number,
): Promise<StartupRun> {
  return program.group === 'ready' || program.group === 'drain'
    ? runUntilReady(program, url, timeoutMs)
    : runToEnd(program, url, timed, timeoutMs);
}

export type StartupOutcome =
  | { readonly round: number; readonly ok: true; readonly run: StartupRun }
  | { readonly round: number; readonly ok: false; readonly error: string };

export interface StartupProgramSummary {
  readonly id: string;
  readonly label: string;
  readonly group: StartupGroup;
  readonly rounds: number;
  readonly errors: readonly string[];
  readonly wallMs: Spread | null;
  readonly cpuMs: Spread | null;
  /** The highest over rounds. */
  readonly peakRssBytes: number | null;
  /** Median over rounds of (wall time / the group's baseline's, same round): raw amqplib; `node -e 0` for --help. */
  readonly wallRatio: number | null;
  /** The same for CPU. */
  readonly cpuRatio: number | null;
  /** Sends only, when pika ran: median over rounds of (wall time / pika's, same round). */
  readonly wallRatioToPika?: number | null;
  readonly perRound: readonly ({ readonly round: number; readonly error?: string } & Partial<StartupRun>)[];
}

export interface StartupSummary {
  /**
   * `gnu-time`: CPU and peak RSS from /usr/bin/time (consumers: /proc at ready);
   * `wall-only`: no /usr/bin/time here.
   */
  readonly measuredWith: 'gnu-time' | 'wall-only';
  readonly groups: typeof STARTUP_GROUPS;
  readonly skipped: readonly { readonly label: string; readonly reason: string }[];
  readonly programs: readonly StartupProgramSummary[];
}

function ratio(
  mine: readonly StartupOutcome[],
  theirs: readonly StartupOutcome[],
  value: (run: StartupRun) => number | undefined,
): number | null {
  const ratios: number[] = [];
  for (const outcome of mine) {
    if (!outcome.ok) continue;
    const base = theirs.find((candidate) => candidate.round === outcome.round);
    if (base?.ok !== true) continue;
    const a = value(outcome.run);
    const b = value(base.run);
    if (a !== undefined && b !== undefined && b > 0) ratios.push(a / b);
  }
  const middle = median(ratios);
  return Number.isFinite(middle) ? middle : null;
}

export function summarizeStartup(
  programs: readonly StartupProgram[],
  outcomes: ReadonlyMap<string, readonly StartupOutcome[]>,
  measuredWith: StartupSummary['measuredWith'],
  skipped: StartupSummary['skipped'],
): StartupSummary {
  const pika = outcomes.get('pika-send');
  return {
    measuredWith,
    groups: STARTUP_GROUPS,
    skipped,
    programs: programs.map((program): StartupProgramSummary => {
      const mine = outcomes.get(program.id) ?? [];
      const baseline = outcomes.get(STARTUP_GROUPS[program.group].baseline) ?? [];
      const ok = mine.flatMap((outcome) => (outcome.ok ? [outcome.run] : []));
      const rss = ok.flatMap((run) => (run.peakRssBytes === undefined ? [] : [run.peakRssBytes]));
      return {
        id: program.id,
        label: program.label,
        group: program.group,
        rounds: ok.length,
        errors: mine.flatMap((outcome) => (outcome.ok ? [] : [`round ${String(outcome.round)}: ${outcome.error}`])),
        wallMs: spread(ok.map((run) => run.wallMs)) ?? null,
        cpuMs: spread(ok.flatMap((run) => (run.cpuMs === undefined ? [] : [run.cpuMs]))) ?? null,
        peakRssBytes: rss.length === 0 ? null : Math.max(...rss),
        wallRatio: ratio(mine, baseline, (run) => run.wallMs),
        cpuRatio: ratio(mine, baseline, (run) => run.cpuMs),
        ...(program.group === 'send' && pika !== undefined
          ? { wallRatioToPika: ratio(mine, pika, (run) => run.wallMs) }
          : {}),
        perRound: mine.map((outcome) =>
          outcome.ok ? { round: outcome.round, ...outcome.run } : { round: outcome.round, error: outcome.error },
        ),
      };
    }),
  };
}
