import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { requireWorkQueueApps } from '../src/apps.js';
import { MESSAGES, PartitionScenario, seconds } from '../src/partition-scenario.js';

let partition: PartitionScenario | undefined;
afterEach(async () => {
  // Heals the network and waits until the cluster and its quorum queues are whole.
  await partition?.close();
  partition = undefined;
});

/*
 * n1's cable is pulled (its veth on the bridge down): n1 loses n2, n3 AND its clients; no
 * FIN, no reset, packets vanish. The producer and worker-1 are on n1. Expected: the apps
 * notice by heartbeats and move to the majority; n2 and n3 declare n1 down after
 * net_ticktime; n1, alone, sees it is a minority and pauses (pause_minority); task_queue's
 * leader is on n2, so the majority never stops taking work. Healed once n1 has paused:
 * n1 restarts its broker by itself and rejoins; nobody runs start_app.
 */
describe('scenario 1: one node cut off from the other two and from its clients, then healed', () => {
  // The apps on the cut node move to the majority; the node pauses, then comes back by itself.
  it('loses no confirmed task; the apps move; the cut node pauses and comes back', async () => {
    await requireWorkQueueApps();
    partition = await PartitionScenario.open('1. one node cut off (nodes and clients), healed', 'part-isolate');
    const { scenario, cluster } = partition;
    const { run } = scenario;
    const [n1, n2] = scenario.nodes;

    // worker-2 first, on n2: it declares task_queue, whose leader is then on n2.
    const { worker1, worker2, producer, leaderBefore } = await partition.startWork({
      text: 'isolate',
      first: 'worker-2',
    });

    await eventually(() => run.reported() >= MESSAGES * 0.2 || !producer.alive, 120_000, 'the producer at 20%', 20);
    const producerRunning = producer.alive && run.reported() < MESSAGES;
    const reportedAtCut = run.reported();
    const before = { producer: scenario.nodeOf(producer), worker1: scenario.nodeOf(worker1) };
    const cutAt = Date.now();
    await cluster.isolate(n1);
    scenario.unreachable(n1);

    const [producerMove, worker1Move] = await scenario.movedOff(
      n1,
      cutAt,
      [
        { label: 'producer', log: () => producer.log() },
        { label: 'worker-1', log: () => worker1.log() },
      ],
      120_000,
    );
    const pausedAfter = await cluster.paused(n1, 120_000);
    const pausedAt = Date.now();
    const majority = await partition.majorityWithout(n1, n2, cutAt);

    await cluster.heal();
    const healedAt = Date.now();
    const whole = await partition.wholeAgain(healedAt);
    scenario.reachable(n1);

    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    const recovery = partition.recovery(cutAt);
    const doneTwice = partition.doneTwice([producer], [worker1, worker2]);
    partition.record(
      books,
      `n1 cut off at ${reportedAtCut} of ${MESSAGES} reported (leader of task_queue: ` +
        `${scenario.label(leaderBefore)}); ` +
        `dead connection noticed: producer ${seconds(partition.noticed(producer, cutAt))}, worker-1 ` +
        `${seconds(partition.noticed(worker1, cutAt))}; ` +
        `producer -> ${partition.move(producerMove, cutAt)}, worker-1 -> ${partition.move(worker1Move, cutAt)}; ` +
        `n1 paused ${seconds(pausedAt - cutAt)} after the cut, majority ${majority.nodes.join('+')} ` +
        `(n1 counted out ${seconds(majority.ms)} after the cut); ` +
        `healed at +${seconds(healedAt - cutAt)}, n1 running again ${whole.how} ${seconds(whole.ms)} after; ` +
        `partitions recorded: ${whole.partitions.join('; ') || 'none'}; ` +
        recovery.note,
      doneTwice,
      recovery.seconds,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(producerRunning, 'the cut came while the producer was publishing').toBe(true);
    expect(before.producer, 'the producer was on n1').toBe(n1);
    expect(before.worker1, 'worker-1 was on n1').toBe(n1);
    expect(leaderBefore, "task_queue's leader on n2 (worker-2 declared it)").toBe(n2);
    expect(producerMove?.node).not.toBe(n1);
    expect(worker1Move?.node).not.toBe(n1);
    expect(pausedAfter).toBeGreaterThanOrEqual(0);
    expect(majority.nodes).toEqual(['n2', 'n3']);
    expect(whole.partitions, 'pause_minority leaves no partition to resolve').toEqual([]);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    expect(recovery.seconds, 'the work went on after the cut').toBeDefined();
    for (const worker of [worker1, worker2])
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
  });
});
