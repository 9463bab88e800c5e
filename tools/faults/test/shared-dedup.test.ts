import { setTimeout as sleep } from 'node:timers/promises';
import { deleteRedisKeys, eventually, inspectQueue, RabbitNode, RedisServer } from '@hello-rabbit/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireWorkQueueApps, type Worker } from '../src/apps.js';
import { dedupBook, workerTasks, type DedupBook } from '../src/dedup-books.js';
import { WORK_QUEUE, type Settled } from '../src/fault-run.js';
import { Scenario } from '../src/scenario.js';

const TASKS = 20_000;
/**
 * task_queue's own prefetch, said here too: one task in hand per worker, so each Done closes
 * the task received before it.
 */
const PREFETCH = 1;
/** One dot at 2 ms: a short task, so that a kill can land mid-task or just after its Done. */
const TEXT = 'dedup.';
/** A killed worker's claim frees after 3 s (the default, 30 s, would hold its task that long). */
const LEASE_MS = 3000;
const WORKER_ENV = { WORK_UNIT_MS: '2', CONSUMER_PREFETCH: String(PREFETCH), DEDUP_LEASE_MS: String(LEASE_MS) };
/** How long Redis stays down. */
const REDIS_DOWN_MS = 2000;

// The scenario's own node (never the suite's, never the shared broker), booted once for
// both runs; each run gets a fresh vhost on it.
let node: RabbitNode | undefined;
let redis: RedisServer | undefined;
let scenario: Scenario | undefined;

beforeAll(async () => {
  await requireWorkQueueApps();
  node = await RabbitNode.boot({ label: 'shared-dedup' });
});

afterEach(async () => {
  const vhost = scenario?.vhost.name;
  try {
    await scenario?.close();
  } finally {
    scenario = undefined;
    const server = redis;
    redis = undefined;
    if (server !== undefined) {
      // The keys the workers wrote (`hello-rabbit:<vhost>:consume:task_queue:<message-id>`),
      // then the server itself (it keeps nothing on disk).
      if (server.running && vhost !== undefined)
        await deleteRedisKeys(`hello-rabbit:${encodeURIComponent(vhost)}:`, server.url()).catch(() => 0);
      await server.dispose();
    }
  }
});

afterAll(async () => {
  await node?.stop();
  node = undefined;
});

type Store = 'redis' | 'memory';

interface Outcome {
  readonly settled: Settled;
  readonly dedup: DedupBook;
  readonly notes: string;
  /** Every worker, the killed one included. */
  readonly workers: readonly Worker[];
  readonly victim: Worker;
  /** For Redis: per worker alive through the Redis restart, its unreachable / answers-again lines after the stop. */
  readonly storeLines: ReadonlyMap<string, { readonly unreachable: number; readonly again: number }>;
  /** Tasks started (` [x] Received`) while Redis was down. */
  readonly startedWhileRedisDown: number;
  /** Confirmed tasks no worker printed Done for. */
  readonly neverDone: readonly string[];
}

/**
 * Three workers on task_queue, 20,000 tasks from the producer, and in turn: the broker
 * restarted (stopped cleanly, started again) while the producer publishes, the broker's VM
 * killed -9 and started again, a worker killed -9 mid-task (a replacement started), and,
 * with the Redis store, Redis stopped and started again. Then the books, and the dedup books.
 */
async function runScenario(store: Store): Promise<Outcome> {
  if (node === undefined) throw new Error('no node');
  scenario = await Scenario.open(`3 workers, shared dedup: ${store === 'redis' ? 'Redis' : 'in memory'}`, {
    label: `dedup-${store}`,
    node,
  });
  const { run } = scenario;
  if (store === 'redis') redis = await RedisServer.start();
  const env = { ...WORKER_ENV, ...(redis === undefined ? {} : { DEDUP_REDIS_URL: redis.url() }) };
  const doneLines = () =>
    run.workers.reduce((sum, worker) => sum + worker.events().filter((event) => event.kind === 'done').length, 0);
  const notes: string[] = [];
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  const workers = [
    run.startWorker('worker-1', env),
    run.startWorker('worker-2', env),
    run.startWorker('worker-3', env),
  ];
  await run.consumersReady(3);
  if (store === 'redis') {
    for (const worker of workers)
      expect(worker.log().some((line) => line.msg === 'dedup store: Redis, shared by every worker')).toBe(true);
  }
  // The node may take a while to come back, twice: give the resends time.
  const producer = run.startProducer({ count: TASKS, text: TEXT, env: { PUBLISH_DEADLINE_MS: '240000' } });

  // 1. The broker restarted (clean stop of the node, then a start on its data) while the producer publishes.
  await eventually(() => run.reported() >= TASKS * 0.1 || !producer.alive, 120_000, 'the producer at 10%', 20);
  const producerRunning = producer.alive;
  const reportedAtStop = run.reported();
  const stoppedAt = Date.now();
  await node.shutdown();
  await node.restart();
  const restartBack = await run.workersBack(stoppedAt, 120_000);
  notes.push(
    `broker restarted at ${reportedAtStop} of ${TASKS} reported${producerRunning ? ' (producer publishing)' : ''}, ` +
      `workers consuming again after ${seconds(restartBack)}`,
  );

  // 2. The broker's VM killed -9, then started again.
  await eventually(() => doneLines() >= TASKS * 0.3, 180_000, '30% of the tasks done', 100);
  const doneAtCrash = doneLines();
  const crashedAt = Date.now();
  await node.kill9();
  await sleep(500);
  await node.restart();
  const crashBack = await run.workersBack(crashedAt, 120_000);
  notes.push(`broker kill -9 at ${doneAtCrash} done, workers back after ${seconds(crashBack)}`);

  // 3. A worker killed -9 mid-task; a replacement started, as a supervisor would.
  const victim = workers[1] as Worker;
  await eventually(() => doneLines() >= TASKS * 0.5, 180_000, '50% of the tasks done', 100);
  await eventually(() => victim.inHand() > 0, 30_000, 'worker-2 on a task', 5);
  const doneAtKill = doneLines();
  await victim.stop('SIGKILL');
  const lastTask = workerTasks(victim.events()).at(-1);
  const replacement = run.startWorker('worker-2 (replacement)', env);
  // (consumersReady would count the killed one among those that must be alive.)
  await eventually(
    async () => {
      if (!replacement.alive) throw new Error(`the replacement exited while starting:\n${replacement.process.stderr}`);
      return ((await inspectQueue(run.adminUrl, WORK_QUEUE))?.consumerCount ?? 0) >= 3;
    },
    60_000,
    'the replacement consuming task_queue',
    200,
  );
  const lastState =
    lastTask === undefined
      ? 'with no task'
      : lastTask.done
        ? `just after its Done of '${lastTask.body}'`
        : `mid-task ('${lastTask.body}')`;
  notes.push(`worker-2 kill -9 at ${doneAtKill} done, ${lastState}`);

  // 4. Redis stopped, then started again (empty: it keeps nothing on disk).
  const storeLines = new Map<string, { unreachable: number; again: number }>();
  let startedWhileRedisDown = 0;
  if (redis !== undefined) {
    await eventually(() => doneLines() >= TASKS * 0.7, 180_000, '70% of the tasks done', 100);
    const doneAtRedisStop = doneLines();
    const live = run.workers.filter((worker) => worker.alive);
    const redisStoppedAt = Date.now();
    await redis.stop();
    // A claim answered just before the stop may still print its Received: count from a moment after.
    await sleep(300);
    const receivedBefore = run.workers.reduce((sum, worker) => sum + worker.received().length, 0);
    await sleep(REDIS_DOWN_MS - 300);
    startedWhileRedisDown = run.workers.reduce((sum, worker) => sum + worker.received().length, 0) - receivedBefore;
    await redis.resume();
    const resumedAt = Date.now();
    await eventually(
      () =>
        live.every((worker) =>
          worker.log().some((line) => line.msg === 'dedup store answers again' && line.time >= redisStoppedAt),
        ),
      30_000,
      'every worker says the dedup store answers again',
      100,
    );
    const answeredAfter = Date.now() - resumedAt;
    for (const worker of live) {
      const after = worker.log().filter((line) => line.time >= redisStoppedAt);
      storeLines.set(worker.label, {
        unreachable: after.filter((line) => line.msg.startsWith('dedup store unreachable')).length,
        again: after.filter((line) => line.msg === 'dedup store answers again').length,
      });
    }
    notes.push(
      `Redis stopped ${seconds(REDIS_DOWN_MS)} at ${doneAtRedisStop} done ` +
        `(${startedWhileRedisDown} tasks started meanwhile), ` +
        `every worker on it again ${seconds(answeredAfter)} after its start`,
    );
  } else {
    notes.push('no Redis (each worker remembers in its own memory)');
  }

  // Every task done, or the time up: a task waiting on a claim bounces through the first
  // retry queue without a line of output, so a quiet task_queue alone is not the end.
  const producerResult = await producer.process.exited;
  expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
  const confirmed = producer
    .report()
    .filter((line) => line.status === 'confirmed')
    .map((line) => line.body);
  const doneBodies = () =>
    new Set(
      run.workers.flatMap((worker) => workerTasks(worker.events()).flatMap((task) => (task.done ? [task.body] : []))),
    );
  await eventually(
    () => {
      const done = doneBodies();
      return confirmed.every((body) => done.has(body));
    },
    150_000,
    'every confirmed task done',
    500,
  ).catch(() => undefined);
  const settled = await run.settle({ quietMs: 2000 });

  const bodyOf = new Map(producer.report().map((line) => [line.messageId, line.body]));
  const dedup = dedupBook(
    run.workers.map((worker) => ({
      label: worker.label,
      events: worker.events(),
      log: worker.log(),
      killed: worker === victim,
    })),
    bodyOf,
    PREFETCH,
  );
  const finalDone = doneBodies();
  const neverDone = confirmed.filter((body) => !finalDone.has(body));
  const sample = (ids: Iterable<string>) =>
    [...ids]
      .slice(0, 5)
      .map((id) => `'${id}'`)
      .join(', ');
  notes.push(
    `done twice ${dedup.doneTwice.size}${dedup.doneTwice.size > 0 ? ` (${sample(dedup.doneTwice.keys())})` : ''}, ` +
      `in the window ${dedup.inWindow.length}${dedup.inWindow.length > 0 ? ` (${sample(dedup.inWindow)})` : ''}, ` +
      `suppressed ${dedup.suppressedTotal} deliveries of ${dedup.suppressed.size} tasks`,
  );
  run.record(settled.books, notes.join('; '), true, dedup.figures);
  process.stdout.write(
    `\n[${run.options.scenario}] ${JSON.stringify({
      ...dedup.figures,
      lost: settled.books.lost.length,
      duplicatedDeliveries: settled.books.duplicated.length,
      outsideWindow: dedup.outsideWindow,
      windowCandidates: Object.fromEntries(dedup.windowCandidates),
      unknownSuppressed: dedup.unknownSuppressed.length,
      neverDone: neverDone.length,
      seconds: Math.round((Date.now() - run.started) / 1000),
    })}\n`,
  );
  return {
    settled,
    dedup,
    notes: notes.join('; '),
    workers: run.workers,
    victim,
    storeLines,
    startedWhileRedisDown,
    neverDone,
  };
}

/** What every run must show, whatever its store. */
function expectNothingLost(outcome: Outcome): void {
  const { settled, workers, victim } = outcome;
  const { books } = settled;
  expect(books.lost, 'confirmed but never delivered').toEqual([]);
  expect(books.unexpected).toEqual([]);
  expect(books.confirmed).toBe(TASKS);
  expect(outcome.neverDone, 'confirmed, never done').toEqual([]);
  expect(settled.leftInQueue).toHaveLength(0);
  expect(settled.deadLetters.map((message) => message.body)).toEqual([]);
  for (const worker of workers) {
    if (worker === victim) continue;
    expect(settled.exits.get(worker.label)?.code, `${worker.label}: ${worker.process.stderr.slice(-2000)}`).toBe(0);
  }
}

// Through broker restarts, a broker kill -9, a worker kill -9 and a Redis restart.
describe('three workers share a dedup store through failures of the broker, a worker and Redis', () => {
  it('with Redis: nothing lost, nothing done twice outside the counted window', { timeout: 420_000 }, async () => {
    const outcome = await runScenario('redis');
    expectNothingLost(outcome);
    expect(outcome.dedup.outsideWindow, 'done twice, with no kill -9 to explain it').toEqual([]);
    expect(outcome.dedup.unknownSuppressed, 'suppressed messageIds that no task has').toEqual([]);
    // While Redis is down, no task is started; each worker says so once, and once that it answers again.
    expect(outcome.startedWhileRedisDown).toBe(0);
    for (const [label, lines] of outcome.storeLines) expect(lines, label).toEqual({ unreachable: 1, again: 1 });
  });

  it(
    'with the in-memory store (each worker its own): nothing lost; tasks done twice across workers show',
    { timeout: 420_000 },
    async () => {
      const outcome = await runScenario('memory');
      expectNothingLost(outcome);
    },
  );
});
