import type { ProducerStatus } from './books.js';

/** One line of the producer's `--report` file. */
export interface ReportLine {
  readonly index: number;
  readonly messageId: string;
  readonly body: string;
  readonly status: ProducerStatus;
  readonly attempts: number;
}

const STATUSES: ReadonlySet<string> = new Set(['confirmed', 'returned', 'nacked', 'failed', 'unsent']);

/**
 * Parses a `--report` file's text. A last line without its newline may be half written
 * (the producer is still running) and is left for the next read.
 */
export function parseReport(text: string): ReportLine[] {
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const value = JSON.parse(line) as Partial<ReportLine>;
      if (typeof value.body !== 'string' || typeof value.status !== 'string' || !STATUSES.has(value.status)) {
        throw new Error(`not a report line: ${line}`);
      }
      return value as ReportLine;
    });
}

const RECEIVED = /^ \[x\] Received '(.*)'$/;
const DONE = /^ \[x\] Done$/;

/** What a worker printed on stdout, in order. */
export type WorkerEvent = { readonly kind: 'received'; readonly body: string } | { readonly kind: 'done' };

/** The worker's ` [x] Received '<body>'` and ` [x] Done` lines (complete lines only). */
export function parseWorkerOutput(stdout: string): WorkerEvent[] {
  const events: WorkerEvent[] = [];
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  for (const line of complete.split('\n')) {
    const received = RECEIVED.exec(line);
    if (received !== null) events.push({ kind: 'received', body: received[1] ?? '' });
    else if (DONE.test(line)) events.push({ kind: 'done' });
  }
  return events;
}

/** The bodies a worker received, in order. */
export function receivedBodies(stdout: string): string[] {
  return parseWorkerOutput(stdout).flatMap((event) => (event.kind === 'received' ? [event.body] : []));
}

/** One line of an app's JSON log (pino) on stderr. */
export interface LogLine {
  readonly level: number;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** The JSON log lines of an app's stderr; other lines (the one-line errors) are skipped. */
export function parseLog(stderr: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Partial<LogLine>;
      if (typeof value.msg === 'string' && typeof value.time === 'number') lines.push(value as LogLine);
    } catch {
      // a line cut short by a kill -9
    }
  }
  return lines;
}

/** When an app connected, and to which node (`host:port`, as it logs it). */
export interface Connection {
  readonly node: string;
  /** Epoch milliseconds. */
  readonly time: number;
}

/**
 * Every connection an app logged, in order, with the node it names: the first one
 * (`connected to the broker; topology ready`) and each one after a loss (`connected to the
 * broker`). Lines without a `node` field (apps that know a single host) are not counted.
 */
export function connections(log: readonly LogLine[]): Connection[] {
  return log.flatMap((line) =>
    (line.msg === 'connected to the broker' || line.msg === 'connected to the broker; topology ready') &&
    typeof line.node === 'string'
      ? [{ node: line.node, time: line.time }]
      : [],
  );
}
