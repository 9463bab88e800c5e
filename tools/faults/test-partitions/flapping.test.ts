import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps } from '../src/apps.js';
import { MESSAGES, PartitionScenario, seconds } from '../src/partition-scenario.js';

/** n1's cable out for these many seconds, in turn, each time back for UP_SECONDS: about a minute. */
const DOWN_SECONDS = [1, 3, 6, 2, 8, 1, 4, 2];
const UP_SECONDS = 4;
/** While it is in, n1's whole link is this narrow (both ways): queueing delay, and drops when it overflows. */
const NARROW_KBIT = 1000;

let partition: PartitionScenario | undefined;
afterEach(async () => {
  await partition?.close();
  partition = undefined;
});

/*
 * A flapping link: n1's cable out and in for a minute (out 1 to 8 s at a time, in 4 s),
 * its link narrowed to 1 Mbit/s both ways while in (delay, and drops when the queue
 * overflows). The kernel here has no netem, so loss and delay are a narrow link's, not a
 * random draw. Short outages stay under net_ticktime (the nodes may never declare n1 down)
 * but over the apps' heartbeat (2 s): the apps on n1 may move back and forth.
 */
describe('scenario 4: a flapping link on one node (out and in, narrow) for a minute', () => {
  it('loses no confirmed task, and the cluster is whole and unpartitioned at the end', async () => {
    await requireWorkQueueApps();
    partition = await PartitionScenario.open(
      '4. flapping link on n1 (out 1-8 s / in 4 s, 1 Mbit/s) for a minute',
      'part-flap',
    );
    const { scenario, cluster } = partition;
    const { run } = scenario;
    const [n1, n2] = scenario.nodes;

    const { worker1, worker2, producer, leaderBefore } = await partition.startWork({
      text: 'flapping',
      first: 'worker-2',
    });

    await eventually(() => run.reported() >= MESSAGES * 0.1 || !producer.alive, 120_000, 'the producer at 10%', 20);
    const reportedAtStart = run.reported();
    const startedAt = Date.now();
    scenario.unreachable(n1);
    await cluster.impair(n1, NARROW_KBIT);
    let paused = 0;
    for (const down of DOWN_SECONDS) {
      await cluster.isolate(n1);
      await sleep(down * 1000);
      await cluster.reconnect(n1);
      await sleep(UP_SECONDS * 1000);
      if ((await cluster.brokerRunning(n1)) === false) paused++;
    }
    await cluster.impair(n1, 0);
    const endedAt = Date.now();
    const reportedAtEnd = run.reported();

    const whole = await partition.wholeAgain(endedAt);
    scenario.reachable(n1);
    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    const recovery = partition.recovery(startedAt);
    const doneTwice = partition.doneTwice([producer], [worker1, worker2]);
    const lossesOf = (app: { log: typeof producer.log }) =>
      disconnects(app.log()).filter((line) => line.time >= startedAt).length;
    partition.record(
      books,
      `flapping from ${reportedAtStart} of ${MESSAGES} reported for ${seconds(endedAt - startedAt)} ` +
        `(${reportedAtEnd} reported at its end; leader ${scenario.label(leaderBefore)}); ` +
        `connections lost: producer ${lossesOf(producer)} (route ${scenario.route(producer)}), worker-1 ` +
        `${lossesOf(worker1)} (${scenario.route(worker1)}), worker-2 ${lossesOf(worker2)} (errors: ` +
        `${partition.errors(worker2, startedAt)}); ` +
        `n1 seen paused after ${paused} of ${DOWN_SECONDS.length} outages; whole ${seconds(whole.ms)} after the ` +
        `end; partitions recorded: ${whole.partitions.join('; ') || 'none'}; ${recovery.note}`,
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
