import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { requireWorkQueueApps, type Worker } from '../src/apps.js';
import { Scenario } from '../src/scenario.js';

const TASKS = 300;
/** Two dots at 50 ms a dot: 100 ms a task; three in hand at once per worker. */
const env = { WORK_UNIT_MS: '50', CONSUMER_PREFETCH: '3' };

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('SIGTERM to workers under load', () => {
  it('each stopped worker finishes its tasks in hand, exits 0; nothing lost or done twice beyond those', async () => {
    await requireWorkQueueApps();
    scenario = await Scenario.open('SIGTERM under load', { label: 'sigterm' });
    const { run } = scenario;

    const first = [run.startWorker('worker-1', env), run.startWorker('worker-2', env)];
    await run.consumersReady(2);
    run.startProducer({ count: TASKS, text: 'term..' });

    // Stop each first worker in turn while the queue still has a backlog, and start a
    // replacement, as a rolling deploy would.
    const stops: { worker: Worker; inHand: string[]; code: number | null }[] = [];
    for (const [i, worker] of first.entries()) {
      await eventually(
        () => run.delivered() >= TASKS * (0.2 + 0.3 * i) && worker.inHand() > 0,
        120_000,
        `${worker.label} busy, backlog left`,
        200,
      );
      // What it has started and not finished when the signal comes: those unfinished now,
      // and any it started before the signal reached it.
      const unfinishedFrom = worker.received().length - worker.inHand();
      const result = await worker.stop('SIGTERM');
      stops.push({ worker, inHand: worker.received().slice(unfinishedFrom), code: result.code });
      run.startWorker(`${worker.label} (replacement)`, env);
    }

    const settled = await run.settle();
    const { books } = settled;
    const inHandAtSignal = new Set(stops.flatMap((stop) => stop.inHand));
    const beyondInHand = books.duplicated.filter((id) => !inHandAtSignal.has(id));
    run.record(
      books,
      '2 workers stopped by SIGTERM under load ' +
        `with ${stops.map((s) => s.inHand.length).join(' and ')} tasks in hand; ` +
        `exit codes ${stops.map((s) => String(s.code)).join(', ')}; done twice: ${books.duplicated.length}`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(books.confirmed).toBe(TASKS);
    expect(books.delivered).toBe(TASKS);
    for (const stop of stops) {
      expect(stop.code, stop.worker.process.stderr.slice(-2000)).toBe(0);
      // It finished every task it had started: a Done for each Received.
      expect(stop.worker.inHand(), `${stop.worker.label} left a task unfinished`).toBe(0);
    }
    expect(beyondInHand, 'done twice, though not in hand at a SIGTERM').toEqual([]);
    expect(books.duplicated.length).toBeLessThanOrEqual(inHandAtSignal.size);
    expect(settled.leftInQueue).toHaveLength(0);
    expect(settled.deadLetters).toHaveLength(0);
  });
});
