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
 * A 1 | 2 split between the NODES only: blackhole routes between n1 and n2, n1 and n3;
 * the apps still reach every node. The producer and worker-1 are on n1 (the minority
 * side), worker-2 on n2 (the majority, where task_queue's leader is). Until the nodes
 * declare each other down (net_ticktime), n1 takes the producer's messages but cannot get
 * them to the leader: no confirm. Then n1 sees it is alone and pauses: it closes its
 * clients' connections (they still reach it: a close they hear) and its listener, and the
 * apps move to n2 or n3. Healed once n1 has paused.
 */
describe('scenario 3: a 1 | 2 split between the nodes while each side has clients, then healed', () => {
  // The minority pauses and closes its connections, its clients move, it rejoins by itself.
  it('loses no confirmed task: the minority pauses, its clients move, it rejoins', async () => {
    await requireWorkQueueApps();
    partition = await PartitionScenario.open('3. split n1 / n2+n3 (clients on both sides), healed', 'part-split');
    const { scenario, cluster } = partition;
    const { run } = scenario;
    const [n1, n2] = scenario.nodes;

    const { worker1, worker2, producer, leaderBefore } = await partition.startWork({
      text: 'split',
      first: 'worker-2',
    });

    await eventually(() => run.reported() >= MESSAGES * 0.2 || !producer.alive, 120_000, 'the producer at 20%', 20);
    const producerRunning = producer.alive && run.reported() < MESSAGES;
    const reportedAtCut = run.reported();
    const before = {
      producer: scenario.nodeOf(producer),
      worker1: scenario.nodeOf(worker1),
      worker2: scenario.nodeOf(worker2),
    };
    const cutAt = Date.now();
    await cluster.split([n1]);

    await cluster.paused(n1, 120_000);
    const pausedAt = Date.now();
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
    const worker2Moves = scenario.connectionsOf(worker2).filter((connection) => connection.time >= cutAt).length;
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
      `n1 / n2+n3 split at ${reportedAtCut} of ${MESSAGES} reported (leader ${scenario.label(leaderBefore)}; ` +
        `producer, worker-1 on n1, worker-2 on n2); ` +
        `n1 paused ${seconds(pausedAt - cutAt)} after the split; producer noticed ` +
        `${seconds(partition.noticed(producer, cutAt))} (${partition.move(producerMove, cutAt)}), ` +
        `worker-1 noticed ${seconds(partition.noticed(worker1, cutAt))} (${partition.move(worker1Move, cutAt)}); ` +
        `worker-2 reconnected ${worker2Moves} times; majority ${majority.nodes.join('+')} ` +
        `(n1 counted out ${seconds(majority.ms)} after the split); ` +
        `healed at +${seconds(healedAt - cutAt)}, n1 running again ${whole.how} ${seconds(whole.ms)} after; ` +
        `partitions recorded: ${whole.partitions.join('; ') || 'none'}; ${recovery.note}`,
      doneTwice,
      recovery.seconds,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(before).toEqual({ producer: n1, worker1: n1, worker2: n2 });
    expect(leaderBefore).toBe(n2);
    expect(producerMove?.node).not.toBe(n1);
    expect(worker1Move?.node).not.toBe(n1);
    expect(majority.nodes).toEqual(['n2', 'n3']);
    expect(whole.partitions).toEqual([]);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    expect(producerRunning || run.reported() === MESSAGES).toBe(true);
    for (const worker of [worker1, worker2])
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
  });
});
