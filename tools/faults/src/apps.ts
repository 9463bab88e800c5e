import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { spawnApp, type AppName, type ProcessResult, type RunningProcess } from '@hello-rabbit/testkit';
import {
  parseLog,
  parseReport,
  parseWorkerOutput,
  type LogLine,
  type ReportLine,
  type WorkerEvent,
} from './app-output.js';

/** No app process of the suite lives longer than this (it is killed, and its test fails). */
const PROCESS_LIMIT_MS = 9 * 60_000;

/**
 * Fails with what to do when the built apps lack the work-queue features the suite
 * exercises (`--to`/`--report` on the producer, `--from` on the consumer).
 */
export async function requireWorkQueueApps(): Promise<void> {
  const help = async (app: AppName) => {
    const result = await spawnApp(app, ['--help'], { timeoutMs: 30_000 }).exited;
    return result.code === 0 ? result.stdout : `(exit ${String(result.code ?? result.signal)}: ${result.stderr})`;
  };
  const [producerHelp, consumerHelp] = await Promise.all([help('producer'), help('consumer')]);
  const missing = [
    ...['--to', '--report'].filter((flag) => !producerHelp.includes(flag)).map((flag) => `producer ${flag}`),
    ...['--from'].filter((flag) => !consumerHelp.includes(flag)).map((flag) => `consumer ${flag}`),
  ];
  if (missing.length > 0) {
    throw new Error(
      `the fault suite runs the built apps' work queue (task_queue), and ${missing.join(', ')} ` +
        `is missing from their --help: build them first (pnpm turbo run build --filter=@hello-rabbit/faults...)`,
    );
  }
}

/** The settings every app process of the suite gets, over the caller's environment. */
function appEnv(url: string, env: Readonly<Record<string, string>>): Record<string, string> {
  return { AMQP_URL: url, LOG_LEVEL: 'info', ...env };
}

/** Parses an app's output as it grows, so that polling a 20k-line output stays cheap. */
class Lines<T> {
  private offset = 0;
  private readonly parsed: T[] = [];

  constructor(private readonly parse: (text: string) => T[]) {}

  update(text: string): readonly T[] {
    const end = text.lastIndexOf('\n') + 1;
    if (end > this.offset) {
      this.parsed.push(...this.parse(text.slice(this.offset, end)));
      this.offset = end;
    }
    return this.parsed;
  }
}

/** A worker: `node apps/consumer/dist/main.js --from task_queue`. */
export class Worker {
  readonly process: RunningProcess;
  private readonly output = new Lines<WorkerEvent>(parseWorkerOutput);
  private readonly logLines = new Lines<LogLine>(parseLog);

  constructor(
    readonly label: string,
    url: string,
    env: Readonly<Record<string, string>> = {},
  ) {
    this.process = spawnApp('consumer', ['--from', 'task_queue'], {
      env: appEnv(url, env),
      timeoutMs: PROCESS_LIMIT_MS,
    });
  }

  get pid(): number | undefined {
    return this.process.child.pid;
  }

  get alive(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  /** ` [x] Received` and ` [x] Done` lines so far. */
  events(): readonly WorkerEvent[] {
    return this.output.update(this.process.stdout);
  }

  /** Bodies received so far, in order. */
  received(): string[] {
    return this.events().flatMap((event) => (event.kind === 'received' ? [event.body] : []));
  }

  /** Received but not yet done. */
  inHand(): number {
    let count = 0;
    for (const event of this.events()) count += event.kind === 'received' ? 1 : -1;
    return count;
  }

  log(): readonly LogLine[] {
    return this.logLines.update(this.process.stderr);
  }

  /** Sends `signal` and waits for the exit. */
  stop(signal: NodeJS.Signals): Promise<ProcessResult> {
    return this.process.stop(signal);
  }
}

export interface ProducerRun {
  readonly count: number;
  /** Bodies are `<text> #1` ... `<text> #<count>`. */
  readonly text: string;
  /** Where `--report` writes its lines. */
  readonly reportFile: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** `node apps/producer/dist/main.js --to task_queue --count N --report <file> <text>`. */
export class Producer {
  readonly process: RunningProcess;
  private readonly logLines = new Lines<LogLine>(parseLog);
  private readonly reportLines = new Lines<ReportLine>(parseReport);
  private readonly reportDecoder = new StringDecoder('utf8');
  private reportText = '';
  private reportBytes = 0;

  constructor(
    url: string,
    readonly run: ProducerRun,
  ) {
    this.process = spawnApp(
      'producer',
      ['--to', 'task_queue', '--count', String(run.count), '--report', run.reportFile, run.text],
      {
        env: appEnv(url, run.env ?? {}),
        timeoutMs: PROCESS_LIMIT_MS,
      },
    );
  }

  get alive(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  /** The bodies it was asked to send. */
  bodies(): string[] {
    return Array.from({ length: this.run.count }, (_, i) => `${this.run.text} #${i + 1}`);
  }

  /** The report's lines so far (read as the file grows: cheap enough to poll often). */
  report(): readonly ReportLine[] {
    let fd: number;
    try {
      fd = openSync(this.run.reportFile, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size > this.reportBytes) {
        const chunk = Buffer.alloc(size - this.reportBytes);
        const read = readSync(fd, chunk, 0, chunk.length, this.reportBytes);
        this.reportBytes += read;
        this.reportText += this.reportDecoder.write(chunk.subarray(0, read));
      }
    } finally {
      closeSync(fd);
    }
    return this.reportLines.update(this.reportText);
  }

  log(): readonly LogLine[] {
    return this.logLines.update(this.process.stderr);
  }
}

/** The log lines that say the app found the broker again (the transport's open-broker.ts). */
export function reconnects(log: readonly LogLine[]): LogLine[] {
  return log.filter((line) => line.msg === 'connected to the broker');
}

/** The log lines that say the app lost its connection (the transport's open-broker.ts). */
export function disconnects(log: readonly LogLine[]): LogLine[] {
  return log.filter((line) => line.msg === 'disconnected from the broker; reconnecting');
}
