import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps } from '../src/apps.js';
import { ClusterScenario } from '../src/cluster-scenario.js';

const MESSAGES = 20_000;

let scenario: ClusterScenario | undefined;
afterEach(async () => {
  // Restarts the killed node and waits until the cluster and its quorum queues are whole.
  await scenario?.close();
  scenario = undefined;
});

describe('the node a producer and a worker are connected to is killed (kill -9) during a run', () => {
  it('loses no confirmed message: both move to another node and go on, with no process restarted', async () => {
    await requireWorkQueueApps();
    scenario = await ClusterScenario.open('node kill -9 (producer + worker on it)', { label: 'node-kill' });
    const { run } = scenario;
    const [n1, n2, n3] = scenario.nodes;

    const env = { WORK_UNIT_MS: '0' };
    // worker-2 starts first, on n2: it declares task_queue, so the queue's leader is on n2
    // (RabbitMQ places it on the declaring client's node), not on the node killed. This
    // scenario is about clients moving; the leader's death is the leader-kill scenario.
    const worker2 = scenario.startWorker('worker-2', [n2, n3, n1], env);
    await run.consumersReady(1);
    const worker1 = scenario.startWorker('worker-1', [n1, n2, n3], env);
    await run.consumersReady(2);
    const leader = await scenario.leader();
    const producer = scenario.startProducer(
      { count: MESSAGES, text: 'node-kill', env: { PUBLISH_DEADLINE_MS: '180000' } },
      [n1, n2, n3],
    );

    await eventually(() => run.reported() >= MESSAGES * 0.1 || !producer.alive, 120_000, 'the producer at 10%', 20);
    const producerRunning = producer.alive && run.reported() < MESSAGES;
    const reportedAtKill = run.reported();
    const before = {
      producer: scenario.nodeOf(producer),
      worker1: scenario.nodeOf(worker1),
      worker2: scenario.nodeOf(worker2),
    };
    const killedAt = Date.now();
    await scenario.kill9(n1);

    // Each moves to a node that answers by itself; worker-1 subscribes again there.
    const [producerMove, worker1Move] = await scenario.movedOff(n1, killedAt, [
      { label: 'producer', log: () => producer.log() },
      { label: 'worker-1', log: () => worker1.log() },
    ]);
    await scenario.consumers(2);
    const workersAliveAfterMove = worker1.alive && worker2.alive;
    const worker1ReceivedAtMove = worker1.received().length;

    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    const moved = (move: typeof producerMove) =>
      move === undefined
        ? 'did not move'
        : `-> ${scenario?.label(move.node) ?? '?'} after ${((move.time - killedAt) / 1000).toFixed(1)} s`;
    run.record(
      books,
      `n1 killed at ${reportedAtKill} of ${MESSAGES} reported${producerRunning ? ' (producer publishing)' : ''}; ` +
        `producer ${moved(producerMove)}, worker-1 ${moved(worker1Move)} ` +
        `and received ${worker1.received().length - worker1ReceivedAtMove} more there; ` +
        `nodes of producer/worker-1/worker-2: ` +
        `${[producer, worker1, worker2].map((app) => scenario?.route(app)).join(' / ')}; ` +
        `queue leader ${scenario.label(leader)}; same 3 processes throughout`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    // The fault hit what the table says: the producer mid-run, and it and worker-1 on n1.
    expect(producerRunning, 'the kill came while the producer was publishing').toBe(true);
    expect(before.producer, 'the producer was on n1 (first of its AMQP_HOSTS)').toBe(n1);
    expect(before.worker1, 'worker-1 was on n1 (first of its AMQP_HOSTS)').toBe(n1);
    expect(before.worker2, 'worker-2 was on n2').toBe(n2);
    expect(leader, 'the leader was not on the node killed').not.toBe(n1);
    // Both moved to another node and went on in the same process.
    expect(producerMove?.node).not.toBe(n1);
    expect(worker1Move?.node).not.toBe(n1);
    expect(
      disconnects(producer.log()).some((line) => line.time >= killedAt),
      'the producer lost its connection',
    ).toBe(true);
    expect(workersAliveAfterMove, 'no worker died').toBe(true);
    expect(worker1.received().length, 'worker-1 went on receiving on its new node').toBeGreaterThan(
      worker1ReceivedAtMove,
    );
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    for (const worker of [worker1, worker2]) {
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
    }
  });
});
