import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { drainQueue, eventually, inspectQueue, type DrainedMessage, type ProcessResult } from '@hello-rabbit/testkit';
import { Producer, reconnects, Worker, type ProducerRun } from './apps.js';
import { appendRow, Books, toRow, type Classification, type DedupFigures, type ProducerStatus } from './books.js';

export const WORK_QUEUE = 'task_queue';
export const DEAD_LETTER_QUEUE = 'task_queue.dlq';

export interface FaultRunOptions {
  /** The scenario's name, as the table shows it. */
  readonly scenario: string;
  /**
   * The vhost's URL on the node itself, for the suite's own checks (never through a proxy).
   * On a cluster, a function: the URL of a node that is up at the time of each check.
   */
  readonly adminUrl: string | (() => string);
  /** The URL the apps use (through the proxy, in the network scenarios). @default adminUrl */
  readonly appUrl?: string | undefined;
  /** Where the suite's table rows go. */
  readonly rowsFile: string;
}

export interface Settled {
  readonly books: Classification;
  /** How each worker ended, by label (SIGTERM at the end, unless it had died before). */
  readonly exits: ReadonlyMap<string, ProcessResult>;
  /** Messages left in task_queue once every worker had stopped (drained; none expected). */
  readonly leftInQueue: readonly DrainedMessage[];
  /** Everything task_queue.dlq held at the end (drained). */
  readonly deadLetters: readonly DrainedMessage[];
}

/**
 * One scenario's run: the apps it starts, and its books. `settle()` waits until the work
 * is done, stops the workers, and classifies every message.
 */
export class FaultRun {
  readonly workers: Worker[] = [];
  readonly producers: Producer[] = [];
  readonly started = Date.now();
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'hello-rabbit-faults-run-'));
  private recorded = false;

  /** Messages sent by a client other than the producer app (id and outcome). */
  private readonly otherSends = new Map<string, ProducerStatus | undefined>();

  constructor(readonly options: FaultRunOptions) {}

  /** Books a message that a client other than the producer app sent. */
  sentBy(id: string, status: ProducerStatus | undefined): void {
    this.otherSends.set(id, status);
  }

  /**
   * The books as they stand: the producers' reports, every worker's deliveries so far (a
   * message's id is its body), and the dead letters given.
   */
  tally(deadLetterIds: readonly string[] = []): Books {
    const books = new Books(this.options.scenario);
    for (const producer of this.producers) {
      for (const body of producer.bodies()) books.send(body);
      for (const line of producer.report()) books.settle(line.body, line.status);
    }
    for (const [id, status] of this.otherSends) {
      books.send(id);
      if (status !== undefined) books.settle(id, status);
    }
    for (const worker of this.workers) for (const body of worker.received()) books.deliver(body);
    for (const id of deadLetterIds) books.deadLetter(id);
    return books;
  }

  /** Where the suite's own checks go now (a node that is up). */
  get adminUrl(): string {
    const { adminUrl } = this.options;
    return typeof adminUrl === 'string' ? adminUrl : adminUrl();
  }

  get appUrl(): string {
    return this.options.appUrl ?? this.adminUrl;
  }

  startWorker(label: string, env: Readonly<Record<string, string>> = {}, url = this.appUrl): Worker {
    const worker = new Worker(label, url, env);
    this.workers.push(worker);
    return worker;
  }

  startProducer(run: Omit<ProducerRun, 'reportFile'>, url = this.appUrl): Producer {
    const reportFile = path.join(this.dir, `report-${this.producers.length + 1}.jsonl`);
    const producer = new Producer(url, { ...run, reportFile });
    this.producers.push(producer);
    return producer;
  }

  /** Messages the producers have settled so far (report lines). */
  reported(): number {
    return this.producers.reduce((sum, producer) => sum + producer.report().length, 0);
  }

  /** Deliveries (` [x] Received` lines) so far, over every worker, repeats included. */
  delivered(): number {
    return this.workers.reduce((sum, worker) => sum + worker.received().length, 0);
  }

  /** Waits until every producer has exited; returns their results in order. */
  async producersDone(): Promise<ProcessResult[]> {
    return Promise.all(this.producers.map((producer) => producer.process.exited));
  }

  /** Waits until `task_queue` is declared and has `consumers` consumers. */
  async consumersReady(consumers: number, timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => {
        for (const worker of this.workers) {
          if (!worker.alive) throw new Error(`worker ${worker.label} exited while starting:\n${worker.process.stderr}`);
        }
        const state = await inspectQueue(this.adminUrl, WORK_QUEUE).catch(() => undefined);
        return state !== undefined && state.consumerCount >= consumers;
      },
      timeoutMs,
      `${consumers} consumer(s) on ${WORK_QUEUE}`,
      200,
    );
  }

  /**
   * After a fault: waits until every live worker has logged that it is connected again
   * (after `since`, epoch ms) and task_queue has that many consumers again, i.e. each
   * worker came back and resubscribed by itself. Resolves with the ms it took from `since`.
   */
  async workersBack(since: number, timeoutMs = 60_000): Promise<number> {
    const live = this.workers.filter((worker) => worker.alive);
    await eventually(
      async () => {
        if (!live.every((worker) => reconnects(worker.log()).some((line) => line.time >= since))) return false;
        const state = await inspectQueue(this.adminUrl, WORK_QUEUE).catch(() => undefined);
        return state !== undefined && state.consumerCount >= live.length;
      },
      timeoutMs,
      `${live.map((worker) => worker.label).join(' and ')} connected and consuming ${WORK_QUEUE} again`,
      200,
    );
    return Date.now() - since;
  }

  /**
   * Waits until the work is done: every producer exited, task_queue holds no ready message,
   * no worker has a message in hand, and no delivery came for `quietMs`. Then stops the
   * workers still running with SIGTERM, drains what is left in task_queue (nothing, if
   * nothing is stuck) and task_queue.dlq, and fills the books.
   */
  async settle(
    options: {
      timeoutMs?: number;
      quietMs?: number;
      /** A dead letter's message id. @default its body */
      deadLetterId?: (message: DrainedMessage) => string;
    } = {},
  ): Promise<Settled> {
    const { timeoutMs = 180_000, quietMs = 2000, deadLetterId = (message: DrainedMessage) => message.body } = options;
    const producerResults = await this.producersDone();
    for (const [i, result] of producerResults.entries()) {
      if (result.code !== 0) {
        const summary = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
        process.stderr.write(
          `[${this.options.scenario}] producer ${i + 1} exited ${String(result.code)}: ${summary.join(' / ')}\n`,
        );
      }
    }

    let lastCount = -1;
    let lastChange = Date.now();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const count = this.delivered();
      if (count !== lastCount) {
        lastCount = count;
        lastChange = Date.now();
      }
      const live = this.workers.filter((worker) => worker.alive);
      const state = await inspectQueue(this.adminUrl, WORK_QUEUE).catch(() => undefined);
      const idle = state?.messageCount === 0 && live.every((worker) => worker.inHand() <= 0);
      if (idle && Date.now() - lastChange >= quietMs) break;
      if (Date.now() > deadline || live.length === 0) break;
      await sleep(250);
    }

    const exits = new Map<string, ProcessResult>();
    await Promise.all(
      this.workers.map(async (worker) => {
        exits.set(worker.label, worker.alive ? await worker.stop('SIGTERM') : await worker.process.exited);
      }),
    );
    const leftInQueue = await drainIfExists(this.adminUrl, WORK_QUEUE);
    const deadLetters = await drainIfExists(this.adminUrl, DEAD_LETTER_QUEUE);
    return { books: this.tally(deadLetters.map(deadLetterId)).classify(), exits, leftInQueue, deadLetters };
  }

  /** Adds the scenario's row to the suite's table (once), with a dedup scenario's figures. */
  record(books: Classification, notes: string, finished = true, dedup?: DedupFigures, recovery?: number): void {
    if (this.recorded) return;
    this.recorded = true;
    appendRow(
      this.options.rowsFile,
      toRow(books, (Date.now() - this.started) / 1000, notes, finished, dedup, recovery),
    );
  }

  get isRecorded(): boolean {
    return this.recorded;
  }

  /** What each app was doing: for the log of a scenario that failed. */
  describeApps(): string {
    const tail = (text: string) =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .slice(-12)
        .map((line) => `      ${line.slice(0, 400)}`)
        .join('\n');
    return [
      ...this.producers.map(
        (producer, i) =>
          `  producer ${i + 1}: ${producer.alive ? 'running' : 'exited'}, ` +
          `${producer.report().length} reported\n${tail(producer.process.stderr)}`,
      ),
      ...this.workers.map(
        (worker) =>
          `  ${worker.label} (pid ${String(worker.pid)}): ${worker.alive ? 'running' : 'exited'}, ` +
          `${worker.received().length} received, ${worker.inHand()} in hand\n${tail(worker.process.stderr)}`,
      ),
    ].join('\n');
  }

  /** Records the books as they stand, when the scenario failed before recording them. */
  recordUnfinished(): void {
    this.record(this.tally().classify(), 'DID NOT FINISH: the scenario failed before the end (see its error)', false);
  }

  /** Kills whatever is still running and removes the run's files. */
  async dispose(): Promise<void> {
    await Promise.all([
      ...this.workers.map((worker) => worker.stop('SIGKILL')),
      ...this.producers.map((producer) => producer.process.stop('SIGKILL')),
    ]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function drainIfExists(url: string, queue: string): Promise<DrainedMessage[]> {
  return (await inspectQueue(url, queue)) === undefined ? [] : drainQueue(url, queue);
}
