import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps } from '../src/apps.js';
import { Scenario } from '../src/scenario.js';

const MESSAGES = 20_000;
/** Short, so that a dead connection shows quickly. */
const HEARTBEAT_SECONDS = 2;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('the network between the apps and the broker stops moving bytes (a black-hole proxy)', () => {
  it.each([
    { kind: 'shorter', cutMs: 1000 },
    { kind: 'longer', cutMs: 10_000 },
  ])('for $cutMs ms, $kind than the heartbeat: nothing is lost', async ({ kind, cutMs }) => {
    await requireWorkQueueApps();
    scenario = await Scenario.open(`network cut ${cutMs / 1000} s (heartbeat ${HEARTBEAT_SECONDS} s)`, {
      label: `cut-${kind}`,
      // A link slow enough for the producer to take a few seconds: the cut lands mid-run.
      proxy: { upstreamBytesPerSecond: 500_000 },
    });
    const { run } = scenario;
    const proxy = scenario.proxy;
    if (proxy === undefined) throw new Error('the scenario has no proxy');

    const env = { WORK_UNIT_MS: '0', AMQP_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) };
    const workers = [run.startWorker('worker-1', env), run.startWorker('worker-2', env)];
    await run.consumersReady(2);
    const producer = run.startProducer({ count: MESSAGES, text: `cut-${kind}`, env });
    const apps = [
      { name: 'producer', log: () => producer.log() },
      ...workers.map((worker) => ({ name: worker.label, log: () => worker.log() })),
    ];

    await eventually(() => run.reported() >= MESSAGES * 0.2 || !producer.alive, 120_000, 'the producer at 20%', 20);
    const producerRunning = producer.alive && run.reported() < MESSAGES;
    const reportedAtCut = run.reported();
    const cutAt = Date.now();
    proxy.cut();
    await sleep(cutMs);
    proxy.restore();

    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    // When each app noticed (its first "disconnected" log line after the cut), in ms.
    const noticed = apps.map((app) => {
      const first = disconnects(app.log()).find((line) => line.time >= cutAt);
      return { name: app.name, afterMs: first === undefined ? undefined : first.time - cutAt };
    });
    const noticedText = noticed
      .map(({ name, afterMs }) => `${name} ${afterMs === undefined ? 'never' : `${(afterMs / 1000).toFixed(1)} s`}`)
      .join(', ');
    run.record(
      books,
      `cut at ${producerRunning ? `producer ${reportedAtCut} of ${MESSAGES}` : 'producer done'}; ` +
        `dead connection noticed: ${noticedText}`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(producerRunning, 'the cut came while the producer was publishing').toBe(true);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    for (const worker of workers) {
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
    }
    if (cutMs < HEARTBEAT_SECONDS * 1000) {
      // Shorter than a heartbeat: the connections live through it.
      expect(
        noticed.filter(({ afterMs }) => afterMs !== undefined),
        'no app dropped its connection',
      ).toEqual([]);
    } else {
      // Longer: each app notices between two and three heartbeats of silence (amqplib
      // checks once per interval and gives up after two silent ones), well before the end.
      for (const { name, afterMs } of noticed) {
        expect(afterMs, `${name} noticed the dead connection`).toBeDefined();
        expect(afterMs, `${name} noticed within about two heartbeats`).toBeLessThanOrEqual(
          HEARTBEAT_SECONDS * 3000 + 1000,
        );
      }
    }
  });
});
