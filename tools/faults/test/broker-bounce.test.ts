import { eventually, withChannel } from '@hello-rabbit/testkit';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps } from '../src/apps.js';
import { Scenario } from '../src/scenario.js';

const MESSAGES = 20_000;
/** How long the broker application stays stopped each time. */
const DOWN_MS = 1500;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe.each([
  { shape: 'classic', precreate: true },
  { shape: 'quorum', precreate: false },
])('broker stop_app/start_app during a 20k-message run, $shape task_queue', ({ shape, precreate }) => {
  it(`loses nothing, and both apps recover without a restart`, async () => {
    await requireWorkQueueApps();
    scenario = await Scenario.open(`broker stop_app/start_app x3, ${shape}`, { label: `bounce-${shape}` });
    const { node, run, vhost } = scenario;
    if (precreate) {
      // The tutorials' own queue: durable, classic. The apps adopt it as it is.
      await withChannel(vhost.url, async (channel) => {
        await channel.assertQueue('task_queue', { durable: true });
      });
    }

    const env = { WORK_UNIT_MS: '0' };
    const workers = [run.startWorker('worker-1', env), run.startWorker('worker-2', env)];
    await run.consumersReady(2);
    let stopApp = await node.armStopApp();
    const producer = run.startProducer({ count: MESSAGES, text: `bounce-${shape}` });

    // Bounce early in the producer's run, then halfway, then while the workers drain the
    // queue. The producer publishes 20k in about a second: each stop_app is armed ahead
    // (rabbitmqctl takes longer than that to start) and lands within ms of its moment; the
    // workers are checked after the bounces, so that the second still finds the producer.
    const triggers = [
      {
        what: 'the producer at 10%',
        ready: () => run.reported() >= MESSAGES * 0.1 || !producer.alive,
        thenWorkers: false,
      },
      {
        what: 'the producer at 50% (or done)',
        ready: () => run.reported() >= MESSAGES * 0.5 || !producer.alive,
        thenWorkers: true,
      },
      { what: 'the workers at 50%', ready: () => run.delivered() >= MESSAGES * 0.5, thenWorkers: true },
    ];
    const bounces: { producerHit: boolean }[] = [];
    const workersBackMs: number[] = [];
    for (const [i, trigger] of triggers.entries()) {
      await eventually(trigger.ready, 120_000, trigger.what, 10);
      const stoppedAt = Date.now();
      await stopApp.fire();
      const [next] = await Promise.all([i + 1 < triggers.length ? node.armStopApp() : undefined, sleep(DOWN_MS)]);
      const restartedAt = Date.now();
      await node.startApp();
      // Each worker reconnects and resubscribes by itself.
      if (trigger.thenWorkers) workersBackMs.push(await run.workersBack(restartedAt));
      bounces.push({ producerHit: disconnects(producer.log()).some((line) => line.time >= stoppedAt) });
      if (next !== undefined) stopApp = next;
    }

    const queueType = (
      await node.ctl(['list_queues', '-p', vhost.name, '--no-table-headers', '--quiet', 'name', 'type'])
    )
      .split('\n')
      .find((line) => line.startsWith('task_queue\t'))
      ?.split('\t')[1];
    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    const disconnected = [producer, ...workers].map((app) => disconnects(app.log()).length);
    run.record(
      books,
      `${bounces.length} bounces (${bounces.filter((b) => b.producerHit).length} cut the producer off mid-run), ` +
        'workers consuming again ' +
        `${workersBackMs.map((ms) => (ms / 1000).toFixed(1)).join('/')} s after the 2nd/3rd start_app; ` +
        `disconnect logs of producer/worker-1/worker-2: ${disconnected.join('/')}; queue stayed ${queueType ?? '?'}`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(queueType).toBe(shape);
    // The producer rode through the bounces in one process: every message confirmed.
    expect(bounces[0]?.producerHit, 'the first bounce cut the producer off while it was publishing').toBe(true);
    expect(bounces[1]?.producerHit, 'the second bounce cut the producer off while it was publishing').toBe(true);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    expect(settled.deadLetters).toHaveLength(0);
    // The workers rode through them too (each came back after every bounce, above) and
    // stopped cleanly on SIGTERM at the end.
    for (const worker of workers) {
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
    }
  });
});
