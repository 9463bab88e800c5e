import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps } from '../src/apps.js';
import { ClusterScenario } from '../src/cluster-scenario.js';

const MESSAGES = 20_000;
/** The producer's unconfirmed messages at most (PUBLISH_WINDOW, set here as it is by default). */
const WINDOW = 1000;

let scenario: ClusterScenario | undefined;
afterEach(async () => {
  // Restarts the killed node and waits until the cluster and its quorum queues are whole.
  await scenario?.close();
  scenario = undefined;
});

describe("the node of task_queue's leader is killed (kill -9) during a run", () => {
  it('loses no confirmed message: the survivors elect a new leader and publishing resumes', async () => {
    await requireWorkQueueApps();
    scenario = await ClusterScenario.open('quorum leader kill -9', { label: 'leader-kill' });
    const { run } = scenario;
    const [n1, n2, n3] = scenario.nodes;

    const env = { WORK_UNIT_MS: '0' };
    // worker-1 starts first, on n1, and declares task_queue: its leader is on n1 (RabbitMQ
    // places it on the declaring client's node). The producer is on n3, a follower's node,
    // so what it waits for is the election, not a connection of its own.
    const worker1 = scenario.startWorker('worker-1', [n1, n2, n3], env);
    await run.consumersReady(1);
    const worker2 = scenario.startWorker('worker-2', [n2, n3, n1], env);
    await run.consumersReady(2);
    const leaderBefore = await scenario.leader();
    const producer = scenario.startProducer(
      { count: MESSAGES, text: 'leader-kill', env: { PUBLISH_DEADLINE_MS: '180000', PUBLISH_WINDOW: String(WINDOW) } },
      [n3, n1, n2],
    );

    await eventually(() => run.reported() >= MESSAGES * 0.1 || !producer.alive, 120_000, 'the producer at 10%', 20);
    const producerRunning = producer.alive && run.reported() < MESSAGES;
    const reportedAtKill = run.reported();
    const producerNode = scenario.nodeOf(producer);
    const killedAt = Date.now();
    await scenario.kill9(n1);

    // The survivors (a majority, two of three) elect a leader among themselves.
    const leaderAfter = await scenario.newLeader(n1);
    const electedAfterMs = Date.now() - killedAt;
    const reportedAtElection = run.reported();
    const [worker1Move] = await scenario.movedOff(n1, killedAt, [{ label: 'worker-1', log: () => worker1.log() }]);
    await scenario.consumers(2);

    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    run.record(
      books,
      `leader n1 killed at ${reportedAtKill} of ${MESSAGES} reported; new leader ${scenario.label(leaderAfter)} seen ` +
        `${(electedAfterMs / 1000).toFixed(1)} s after (${reportedAtElection} reported then); producer on ` +
        `${scenario.label(producerNode)} (${disconnects(producer.log()).length} disconnects) confirmed the other ` +
        `${MESSAGES - reportedAtKill} after the kill; worker-1 -> ${scenario.label(worker1Move?.node)}`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(leaderBefore, "task_queue's leader was on n1, the node killed").toBe(n1);
    expect(producerNode, 'the producer was on n3, not on the leader').toBe(n3);
    expect(producerRunning, 'the kill came while the producer was publishing').toBe(true);
    // More than a window of messages was left to publish at the kill: every one of them was
    // confirmed after it, which only a new leader could do.
    expect(reportedAtKill + WINDOW, 'the kill left more than a window to publish').toBeLessThan(MESSAGES);
    expect(leaderAfter).not.toBe(n1);
    // Publishing resumed on the producer's own connection: the election is all it waited for.
    expect(disconnects(producer.log()), 'the producer kept its connection to n3').toEqual([]);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    expect(worker1Move?.node).not.toBe(n1);
    for (const worker of [worker1, worker2]) {
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
    }
  });
});
