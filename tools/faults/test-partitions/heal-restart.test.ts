import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { requireWorkQueueApps } from '../src/apps.js';
import { MESSAGES, PartitionScenario, seconds } from '../src/partition-scenario.js';

let partition: PartitionScenario | undefined;
afterEach(async () => {
  await partition?.close();
  partition = undefined;
});

/*
 * n1 cut off (cable) until pause_minority has paused it; then, at once, the network healed
 * AND n3 stopped cleanly (`rabbitmqctl shutdown`: broker and VM) and started again on its
 * data. The producer is on n1, worker-1 on n3, worker-2 on n2 (task_queue's leader). While
 * n3 is down, n1 (paused, coming back) and n2 must make a majority between them.
 */
describe('scenario 5: a partition healed while another node restarts', () => {
  it('loses no confirmed task, and all three nodes end up running members, with no operator', async () => {
    await requireWorkQueueApps();
    partition = await PartitionScenario.open('5. partition healed while n3 restarts', 'part-heal-restart');
    const { scenario, cluster } = partition;
    const { run } = scenario;
    const [n1, n2, n3] = scenario.nodes;

    const { worker1, worker2, producer, leaderBefore } = await partition.startWork({
      text: 'heal-restart',
      first: 'worker-2',
      worker1Nodes: [n3, n2, n1],
    });

    await eventually(() => run.reported() >= MESSAGES * 0.2 || !producer.alive, 120_000, 'the producer at 20%', 20);
    const reportedAtCut = run.reported();
    const cutAt = Date.now();
    await cluster.isolate(n1);
    scenario.unreachable(n1);
    await cluster.paused(n1, 120_000);
    const pausedAt = Date.now();

    // At once: the cable back in, and n3 stopped.
    const healedAt = Date.now();
    await Promise.all([cluster.heal(), scenario.shutdown(n3)]);
    const n3DownAt = Date.now();
    const n2Running = await cluster.brokerRunning(n2);
    await scenario.restart(n3);
    const n3BackAt = Date.now();
    const whole = await partition.wholeAgain(healedAt);
    scenario.reachable(n1);

    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    const recovery = partition.recovery(cutAt);
    const doneTwice = partition.doneTwice([producer], [worker1, worker2]);
    partition.record(
      books,
      `n1 cut off at ${reportedAtCut} of ${MESSAGES} reported (leader ${scenario.label(leaderBefore)}), paused ` +
        `${seconds(pausedAt - cutAt)} after; ` +
        `healed and n3 stopped at +${seconds(healedAt - cutAt)} (n3 down ${seconds(n3DownAt - healedAt)} later, n2 ` +
        `${n2Running === true ? 'still running' : 'NOT running'} then), n3 back ${seconds(n3BackAt - healedAt)} ` +
        `after the heal; ` +
        `all three running members ${seconds(whole.ms)} after the heal; routes: producer ` +
        `${scenario.route(producer)}, worker-1 ${scenario.route(worker1)}, worker-2 ${scenario.route(worker2)}; ` +
        `partitions recorded: ${whole.partitions.join('; ') || 'none'}; ${recovery.note}`,
      doneTwice,
      recovery.seconds,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(leaderBefore).toBe(n2);
    expect(whole.partitions).toEqual([]);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    for (const worker of [worker1, worker2])
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
  });
});
