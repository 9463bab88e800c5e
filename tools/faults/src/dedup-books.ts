import type { LogLine, WorkerEvent } from './app-output.js';
import type { DedupFigures } from './books.js';

/** One worker's output, as the dedup books read it. */
export interface WorkerTrace {
  readonly label: string;
  /** Its ` [x] Received` and ` [x] Done` lines, in order. */
  readonly events: readonly WorkerEvent[];
  /** Its JSON log (`duplicate suppressed` lines, with the messageId). */
  readonly log: readonly LogLine[];
  /** The scenario killed it (kill -9) mid-run: its last tasks may be done and not yet marked. */
  readonly killed: boolean;
}

/** A task a worker started (` [x] Received`), and whether it printed ` [x] Done` for it. */
export interface Task {
  readonly body: string;
  readonly done: boolean;
}

/**
 * The tasks a worker started, in order, each with whether it finished. Each ` [x] Done`
 * closes the oldest task started and not yet done: the handler prints Received first and
 * Done last, and the scenario's tasks all take the same time, so they end in the order they
 * started (with one delivery in hand at a time, prefetch 1, it is exact).
 */
export function workerTasks(events: readonly WorkerEvent[]): Task[] {
  const tasks: { body: string; done: boolean }[] = [];
  let oldestOpen = 0;
  for (const event of events) {
    if (event.kind === 'received') {
      tasks.push({ body: event.body, done: false });
      continue;
    }
    while (oldestOpen < tasks.length && tasks[oldestOpen]?.done === true) oldestOpen++;
    const task = tasks[oldestOpen];
    if (task !== undefined) {
      task.done = true;
      oldestOpen++;
    }
  }
  return tasks;
}

/** The dedup books of a run: tasks done twice, the counted window, duplicates suppressed. */
export interface DedupBook {
  /** Tasks done (` [x] Done`) more than once over every worker, with how many times. */
  readonly doneTwice: ReadonlyMap<string, number>;
  /** Of those, the ones whose every extra Done is a killed worker's task done and maybe not marked. */
  readonly inWindow: readonly string[];
  /** Done twice with no kill to explain it: what a shared store must never let happen. */
  readonly outsideWindow: readonly string[];
  /** For each killed worker: its tasks done that may not have been marked done (see `dedupBook`). */
  readonly windowCandidates: ReadonlyMap<string, readonly string[]>;
  /** Deliveries suppressed as done already, per task (by body). */
  readonly suppressed: ReadonlyMap<string, number>;
  /** `duplicate suppressed` lines in all. */
  readonly suppressedTotal: number;
  /** messageIds of `duplicate suppressed` lines that no producer report names. */
  readonly unknownSuppressed: readonly string[];
  /** The figures of the suite's table. */
  readonly figures: DedupFigures;
}

/**
 * Settles the dedup books. A task is done twice when its handler printed Done more than
 * once, over every worker. The counted window: a worker killed -9 after its handler printed
 * Done and before the mark of done reached the store (the mark comes before the ack) leaves
 * a task done and not marked; its redelivery is done again once the killed worker's claim
 * runs out, and no store can tell. Such a task is among the killed worker's last
 * `inHandLimit` tasks started (it had at most that many deliveries unacked: its prefetch),
 * and finished. A task done twice is in the window when every Done beyond the first is
 * explained that way; otherwise it is outside it.
 *
 * @param bodyOf the task (body) of each messageId, from the producers' reports
 */
export function dedupBook(
  workers: readonly WorkerTrace[],
  bodyOf: ReadonlyMap<string, string>,
  inHandLimit: number,
): DedupBook {
  const doneCount = new Map<string, number>();
  const windowCandidates = new Map<string, readonly string[]>();
  const windowDones = new Map<string, number>();
  for (const worker of workers) {
    const tasks = workerTasks(worker.events);
    for (const task of tasks) if (task.done) doneCount.set(task.body, (doneCount.get(task.body) ?? 0) + 1);
    if (!worker.killed) continue;
    const candidates = tasks
      .slice(-inHandLimit)
      .filter((task) => task.done)
      .map((task) => task.body);
    windowCandidates.set(worker.label, candidates);
    for (const body of candidates) windowDones.set(body, (windowDones.get(body) ?? 0) + 1);
  }
  const doneTwice = new Map([...doneCount].filter(([, count]) => count > 1));
  const inWindow = [...doneTwice].filter(([body, count]) => {
    const explained = windowDones.get(body) ?? 0;
    return explained > 0 && count - explained <= 1;
  });
  const inWindowBodies = new Set(inWindow.map(([body]) => body));

  const suppressed = new Map<string, number>();
  const unknownSuppressed: string[] = [];
  let suppressedTotal = 0;
  for (const worker of workers) {
    for (const line of worker.log) {
      if (line.msg !== 'duplicate suppressed') continue;
      suppressedTotal++;
      const messageId = typeof line.messageId === 'string' ? line.messageId : '';
      const body = bodyOf.get(messageId);
      if (body === undefined) unknownSuppressed.push(messageId);
      else suppressed.set(body, (suppressed.get(body) ?? 0) + 1);
    }
  }

  return {
    doneTwice,
    inWindow: [...inWindowBodies],
    outsideWindow: [...doneTwice.keys()].filter((body) => !inWindowBodies.has(body)),
    windowCandidates,
    suppressed,
    suppressedTotal,
    unknownSuppressed,
    figures: { doneTwice: doneTwice.size, inWindow: inWindowBodies.size, suppressed: suppressedTotal },
  };
}
