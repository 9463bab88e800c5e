import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps } from '../src/apps.js';
import { Scenario } from '../src/scenario.js';

const MESSAGES = 10_000;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('broker kill -9 and restart during a run', () => {
  it('loses no confirmed message: the producer resends, the workers reconnect', async () => {
    await requireWorkQueueApps();
    scenario = await Scenario.open('broker kill -9 + restart', { label: 'crash' });
    const { node, run } = scenario;

    const env = { WORK_UNIT_MS: '0' };
    const workers = [run.startWorker('worker-1', env), run.startWorker('worker-2', env)];
    await run.consumersReady(2);
    // The node may take up to half a minute to boot again: give the resends time.
    const producer = run.startProducer({ count: MESSAGES, text: 'crash', env: { PUBLISH_DEADLINE_MS: '180000' } });

    await eventually(() => run.reported() >= MESSAGES * 0.1 || !producer.alive, 120_000, 'the producer at 10%', 20);
    const producerRunning = producer.alive;
    const reportedAtCrash = run.reported();
    const pidBefore = node.pid();
    const crashedAt = Date.now();
    await node.kill9();
    await sleep(1000);
    const restartedAt = Date.now();
    await node.restart();
    const downSeconds = (Date.now() - crashedAt) / 1000;
    // Each worker reconnects and resubscribes by itself.
    const backAfterMs = await run.workersBack(restartedAt);

    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    run.record(
      books,
      `VM killed at ${reportedAtCrash} of ${MESSAGES} reported${producerRunning ? ' (producer publishing)' : ''}, ` +
        `down ${downSeconds.toFixed(0)} s, ` +
        `workers consuming again ${(backAfterMs / 1000).toFixed(1)} s after the restart began; ` +
        `disconnect logs of producer/worker-1/worker-2: ` +
        [producer, ...workers].map((app) => disconnects(app.log()).length).join('/'),
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(node.pid()).not.toBe(pidBefore);
    expect(producerRunning, 'the crash came while the producer was publishing').toBe(true);
    expect(
      disconnects(producer.log()).some((line) => line.time >= crashedAt),
      'the producer lost its connection',
    ).toBe(true);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    for (const worker of workers) {
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
    }
  });
});
