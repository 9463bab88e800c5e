import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { requireWorkQueueApps, type Worker } from '../src/apps.js';
import { Scenario } from '../src/scenario.js';

const TASKS = 8;
/** Eight dots at 250 ms a dot: each task takes two seconds, time enough to kill a worker halfway. */
const DOTS = '........';
const env = { WORK_UNIT_MS: '250', CONSUMER_PREFETCH: '1' };

/** Bodies a worker finished: with one task in hand at a time, each Done closes the Received before it. */
function finished(worker: Worker): string[] {
  const done: string[] = [];
  let current: string | undefined;
  for (const event of worker.events()) {
    if (event.kind === 'received') current = event.body;
    else if (current !== undefined) {
      done.push(current);
      current = undefined;
    }
  }
  return done;
}

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('a worker is killed (kill -9) in the middle of a task', () => {
  it('the task goes back to the queue, another worker does it, and nothing is lost', async () => {
    await requireWorkQueueApps();
    scenario = await Scenario.open('consumer kill -9 mid-task', { label: 'worker-crash' });
    const { run } = scenario;

    const victim = run.startWorker('worker-1', env);
    const other = run.startWorker('worker-2', env);
    await run.consumersReady(2);
    run.startProducer({ count: TASKS, text: `crash${DOTS}` });

    // Kill worker-1 halfway through a task it has started (Received, no Done yet).
    await eventually(
      () => victim.inHand() === 1 && victim.received().length >= 2,
      60_000,
      'worker-1 in the middle of a task',
      200,
    );
    await sleep(500);
    const inHand = victim.received().at(-1);
    expect(victim.inHand(), 'worker-1 is still on its task').toBe(1);
    await victim.stop('SIGKILL');
    // The crashed worker is started again, as a supervisor would.
    const restarted = run.startWorker('worker-1 (restarted)', env);

    const settled = await run.settle();
    const { books } = settled;
    const doneBy = [other, restarted].filter((worker) => inHand !== undefined && finished(worker).includes(inHand));
    run.record(
      books,
      `worker-1 killed during '${inHand ?? '?'}'; ` +
        `it was redelivered and done by ${doneBy.map((w) => w.label).join(', ') || 'nobody'}`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(books.confirmed).toBe(TASKS);
    expect(inHand).toBeDefined();
    expect(finished(victim)).not.toContain(inHand);
    expect(books.duplicated, 'the task in hand was delivered again').toContain(inHand);
    expect(doneBy.length, 'the task in hand was done after the crash').toBeGreaterThanOrEqual(1);
    // Every task was done by a worker that lived to finish it.
    const doneOverall = new Set([...finished(victim), ...finished(other), ...finished(restarted)]);
    expect(run.producers[0]?.bodies().filter((body) => !doneOverall.has(body))).toEqual([]);
    expect(settled.leftInQueue).toHaveLength(0);
    expect(settled.deadLetters).toHaveLength(0);
  });
});
