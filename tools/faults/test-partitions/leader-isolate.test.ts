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
 * The node of task_queue's quorum leader (n1: worker-1 declared the queue there) is cut
 * off from everything, the producer being connected to it. The followers on n2 and n3 no
 * longer hear their leader and elect a new one among themselves; until then nothing is
 * confirmed. The producer's unconfirmed messages (sent to n1, never confirmed) are sent
 * again once it has moved: in doubt, maybe twice, never lost.
 */
describe("scenario 2: the node holding task_queue's leader cut off, the producer on it", () => {
  it('loses no confirmed task: a new leader is elected on the majority and publishing resumes there', async () => {
    await requireWorkQueueApps();
    partition = await PartitionScenario.open("2. task_queue's leader node cut off, producer on it", 'part-leader');
    const { scenario, cluster } = partition;
    const { run } = scenario;
    const [n1, n2, n3] = scenario.nodes;

    // worker-1 first, on n1: it declares task_queue, whose leader is then on n1.
    const { worker1, worker2, producer, leaderBefore } = await partition.startWork({
      text: 'leader-isolate',
      first: 'worker-1',
    });

    await eventually(() => run.reported() >= MESSAGES * 0.2 || !producer.alive, 120_000, 'the producer at 20%', 20);
    const producerRunning = producer.alive && run.reported() < MESSAGES;
    const reportedAtCut = run.reported();
    const producerBefore = scenario.nodeOf(producer);
    const cutAt = Date.now();
    await cluster.isolate(n1);
    scenario.unreachable(n1);

    // Asked of n2: the leader the majority elected.
    const newLeader = await scenario.newLeader(n1, 120_000);
    const electedAt = Date.now();
    const reportedAtElection = run.reported();
    const [producerMove, worker1Move] = await scenario.movedOff(
      n1,
      cutAt,
      [
        { label: 'producer', log: () => producer.log() },
        { label: 'worker-1', log: () => worker1.log() },
      ],
      120_000,
    );
    await cluster.paused(n1, 120_000);
    const pausedAt = Date.now();

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
      `leader ${scenario.label(leaderBefore)} cut off at ${reportedAtCut} of ${MESSAGES} reported; ` +
        `new leader ${scenario.label(newLeader)} seen ${seconds(electedAt - cutAt)} after (${reportedAtElection} ` +
        `reported then); ` +
        `producer noticed ${seconds(partition.noticed(producer, cutAt))}, -> ` +
        `${partition.move(producerMove, cutAt)}; worker-1 -> ${partition.move(worker1Move, cutAt)}; ` +
        `n1 paused ${seconds(pausedAt - cutAt)} after the cut; healed at +${seconds(healedAt - cutAt)}, n1 running ` +
        `again ${whole.how} ${seconds(whole.ms)} after; ` +
        `partitions recorded: ${whole.partitions.join('; ') || 'none'}; ${recovery.note}`,
      doneTwice,
      recovery.seconds,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(producerRunning, 'the cut came while the producer was publishing').toBe(true);
    expect(leaderBefore, "task_queue's leader on n1 (worker-1 declared it)").toBe(n1);
    expect(producerBefore, 'the producer was on n1').toBe(n1);
    expect([n2, n3]).toContain(newLeader);
    expect(producerMove?.node).not.toBe(n1);
    expect(worker1Move?.node).not.toBe(n1);
    expect(whole.partitions).toEqual([]);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(
      run.reported() - reportedAtElection,
      'confirms after the election: only the new leader could give them',
    ).toBeGreaterThan(0);
    expect(settled.leftInQueue).toHaveLength(0);
    for (const worker of [worker1, worker2])
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
  });
});
