import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { disconnects, requireWorkQueueApps } from '../src/apps.js';
import { ClusterScenario } from '../src/cluster-scenario.js';

const MESSAGES = 20_000;
/** Short, so that a dead connection shows quickly. */
const HEARTBEAT_SECONDS = 2;

let scenario: ClusterScenario | undefined;
afterEach(async () => {
  // Closes the proxies (the cut one too) and checks the cluster is whole.
  await scenario?.close();
  scenario = undefined;
});

/*
 * What is cut, honestly: the apps reach each node through a test TCP proxy, and the proxy
 * of n1 becomes a black hole (no byte, FIN or reset crosses; new connections are accepted
 * and then hear nothing). That cuts the CLIENTS off n1, not n1 off the cluster: the Erlang
 * distribution links between the nodes do not go through the proxies, so n1 stays a
 * running member (the test checks it) and keeps its quorum queue member. What this shows
 * is the apps' side of a minority partition: they notice by heartbeats and move.
 */
describe('a minority node is cut off from the clients by a black-hole proxy during a run', () => {
  it('loses no confirmed message: the clients on it notice by heartbeats and move to another node', async () => {
    await requireWorkQueueApps();
    scenario = await ClusterScenario.open(`minority node cut off (proxy; heartbeat ${HEARTBEAT_SECONDS} s)`, {
      label: 'minority-cut',
      // A link slow enough for the producer to take a few seconds: the cut lands mid-run.
      proxy: { upstreamBytesPerSecond: 500_000 },
    });
    const { run } = scenario;
    const [n1, n2, n3] = scenario.nodes;
    const n1Proxy = scenario.proxies?.get(n1);
    if (n1Proxy === undefined) throw new Error('the scenario has no proxy for n1');

    const env = { WORK_UNIT_MS: '0', AMQP_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) };
    const worker2 = scenario.startWorker('worker-2', [n2, n3, n1], env);
    await run.consumersReady(1);
    const worker1 = scenario.startWorker('worker-1', [n1, n2, n3], env);
    await run.consumersReady(2);
    const producer = scenario.startProducer(
      { count: MESSAGES, text: 'minority-cut', env: { ...env, PUBLISH_DEADLINE_MS: '180000' } },
      [n1, n2, n3],
    );

    await eventually(() => run.reported() >= MESSAGES * 0.2 || !producer.alive, 120_000, 'the producer at 20%', 20);
    const producerRunning = producer.alive && run.reported() < MESSAGES;
    const reportedAtCut = run.reported();
    const before = { producer: scenario.nodeOf(producer), worker1: scenario.nodeOf(worker1) };
    const cutAt = Date.now();
    // n1's proxy stays cut until the scenario's end: nothing of the apps reaches n1 again.
    n1Proxy.cut();

    const apps = [
      { label: 'producer', log: () => producer.log() },
      { label: 'worker-1', log: () => worker1.log() },
    ];
    const [producerMove, worker1Move] = await scenario.movedOff(n1, cutAt, apps);
    await scenario.consumers(2);
    const worker1ReceivedAtMove = worker1.received().length;
    // The cut is between the clients and n1 only: n1 is still a running member.
    const n1StillMember = await scenario.isRunningMember(n1);

    const producerResult = await producer.process.exited;
    const settled = await run.settle();
    const { books } = settled;
    const noticed = apps.map((app) => {
      const first = disconnects(app.log()).find((line) => line.time >= cutAt);
      return { name: app.label, afterMs: first === undefined ? undefined : first.time - cutAt };
    });
    const seconds = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
    run.record(
      books,
      `n1's proxy cut at ${reportedAtCut} of ${MESSAGES} reported; dead connection noticed: ` +
        `${noticed.map(({ name, afterMs }) => `${name} ${seconds(afterMs)}`).join(', ')}; ` +
        `producer -> ${scenario.label(producerMove?.node)} ` +
        `after ${seconds(producerMove === undefined ? undefined : producerMove.time - cutAt)}, ` +
        `worker-1 -> ${scenario.label(worker1Move?.node)} ` +
        `after ${seconds(worker1Move === undefined ? undefined : worker1Move.time - cutAt)}; ` +
        `worker-1 received ${worker1.received().length - worker1ReceivedAtMove} more there; ` +
        `n1 ${n1StillMember ? 'still' : 'NOT'} a running member (only the clients were cut)`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(producerRunning, 'the cut came while the producer was publishing').toBe(true);
    expect(before.producer, 'the producer was on n1 (first of its AMQP_HOSTS)').toBe(n1);
    expect(before.worker1, 'worker-1 was on n1 (first of its AMQP_HOSTS)').toBe(n1);
    for (const { name, afterMs } of noticed) expect(afterMs, `${name} noticed the dead connection`).toBeDefined();
    expect(producerMove?.node).not.toBe(n1);
    expect(worker1Move?.node).not.toBe(n1);
    expect(worker1.received().length, 'worker-1 went on receiving on its new node').toBeGreaterThan(
      worker1ReceivedAtMove,
    );
    expect(n1StillMember, 'n1 stayed a running member: the proxy cut only the clients').toBe(true);
    expect(producerResult.code, producerResult.stderr.slice(-2000)).toBe(0);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.delivered).toBe(MESSAGES);
    expect(settled.leftInQueue).toHaveLength(0);
    for (const worker of [worker1, worker2]) {
      expect(settled.exits.get(worker.label)?.code, worker.process.stderr.slice(-2000)).toBe(0);
    }
  });
});
