import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps, type Producer } from '../src/apps.js';
import { ClusterScenario, type NodeConnection } from '../src/cluster-scenario.js';

/** Two producers of 10,000 each, one after the other: one stop lands in each. */
const PER_PRODUCER = 10_000;
const MESSAGES = 2 * PER_PRODUCER;

let scenario: ClusterScenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('a node is stopped and started again, twice, during a run', () => {
  it('loses no confirmed message: each time the clients on it move, and it rejoins', async () => {
    await requireWorkQueueApps();
    scenario = await ClusterScenario.open('node stop + start, twice', {
      label: 'node-restart',
      // A slow link from the apps to every node (the proxies only forward, never cut): a
      // producer then takes several seconds, so that rabbitmqctl, slow to start, lands its
      // stop in the middle of the run.
      proxy: { upstreamBytesPerSecond: 150_000 },
    });
    const { run } = scenario;
    const [n1, n2, n3] = scenario.nodes;

    const env = { WORK_UNIT_MS: '0' };
    const worker1 = scenario.startWorker('worker-1', [n1, n2, n3], env);
    await run.consumersReady(1);
    const worker2 = scenario.startWorker('worker-2', [n3, n2, n1], env);
    await run.consumersReady(2);

    const cycles: {
      producer: Producer;
      stoppedAt: number;
      reportedAtStop: number;
      producerRunning: boolean;
      on: ReturnType<ClusterScenario['nodeOf']>;
      move: NodeConnection | undefined;
      downSeconds: number;
    }[] = [];
    let worker1Move: NodeConnection | undefined;
    let worker1ReceivedAtMove = 0;
    for (const round of [1, 2]) {
      // Each producer tries n1 first: both start on it, the second after n1's first restart.
      const producer = scenario.startProducer(
        { count: PER_PRODUCER, text: `node-restart-${round}`, env: { PUBLISH_DEADLINE_MS: '180000' } },
        [n1, n2, n3],
      );
      await eventually(
        () => producer.report().length >= PER_PRODUCER * 0.1 || !producer.alive,
        120_000,
        `producer ${round} at 10%`,
        20,
      );
      const reportedAtStop = producer.report().length;
      const producerRunning = producer.alive && reportedAtStop < PER_PRODUCER;
      const on = scenario.nodeOf(producer);
      const stoppedAt = Date.now();
      // rabbitmqctl shutdown: the broker and its Erlang VM stop cleanly; the data stays.
      await scenario.shutdown(n1);
      const apps = [{ label: `producer ${round}`, log: () => producer.log() }];
      if (round === 1) apps.push({ label: 'worker-1', log: () => worker1.log() });
      const [move, workerMove] = await scenario.movedOff(n1, stoppedAt, apps);
      await scenario.consumers(2);
      if (round === 1) {
        worker1Move = workerMove;
        worker1ReceivedAtMove = worker1.received().length;
      }
      // Started again on its data, n1 rejoins; task_queue's member there catches up.
      await scenario.restart(n1);
      await scenario.cluster.waitForQuorum(scenario.vhost.name);
      cycles.push({
        producer,
        stoppedAt,
        reportedAtStop,
        producerRunning,
        on,
        move,
        downSeconds: (Date.now() - stoppedAt) / 1000,
      });
    }

    const producerResults = await run.producersDone();
    const settled = await run.settle();
    const { books } = settled;
    const label = (connection: NodeConnection | undefined) => scenario?.label(connection?.node) ?? '?';
    run.record(
      books,
      cycles
        .map(
          (cycle, i) =>
            `stop ${i + 1} of n1 at producer ${i + 1}'s ${cycle.reportedAtStop} of ${PER_PRODUCER}, ` +
            `it moved to ${label(cycle.move)}, n1 back after ${cycle.downSeconds.toFixed(0)} s`,
        )
        .join('; ') + `; nodes of worker-1/worker-2: ${[worker1, worker2].map((w) => scenario?.route(w)).join(' / ')}`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    for (const [i, cycle] of cycles.entries()) {
      expect(cycle.on, `producer ${i + 1} was on n1 (first of its AMQP_HOSTS)`).toBe(n1);
      expect(cycle.producerRunning, `stop ${i + 1} came while producer ${i + 1} was publishing`).toBe(true);
      expect(cycle.move?.node, `producer ${i + 1} moved off n1`).not.toBe(n1);
      expect(
        disconnects(cycle.producer.log()).some((line) => line.time >= cycle.stoppedAt),
        `producer ${i + 1} lost its connection`,
      ).toBe(true);
    }
    expect(worker1Move?.node, 'worker-1 moved off n1').not.toBe(n1);
    expect(worker1.received().length, 'worker-1 went on receiving on its new node').toBeGreaterThan(
      worker1ReceivedAtMove,
    );
    for (const [i, result] of producerResults.entries())
      expect(result.code, `producer ${i + 1}: ${result.stderr.slice(-2000)}`).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    for (const worker of [worker1, worker2]) {
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
    }
  });
});
