import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitCluster } from '../src/rabbit-cluster.js';

let cluster: RabbitCluster | undefined;

beforeAll(async () => {
  cluster = await RabbitCluster.boot(3, { label: 'testkit-cluster' });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

const theCluster = () => {
  if (cluster === undefined) throw new Error('no cluster');
  return cluster;
};
const nodes = () => theCluster().nodes;
const names = () =>
  nodes()
    .map((node) => node.name)
    .sort();

describe('RabbitCluster: three real nodes on one machine', () => {
  it('joins every node into one cluster', async () => {
    const running = await cluster?.runningNodes();
    expect(running?.sort()).toEqual(names());
  });

  it('a quorum queue gets a member on every node, and keeps its confirmed messages past a leader kill -9', async () => {
    const [first, second] = nodes();
    if (first === undefined || second === undefined) throw new Error('too few nodes');
    const connection = await amqplib.connect(first.url());
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('replicated', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (let i = 0; i < 100; i++) channel.sendToQueue('replicated', Buffer.from(`m${i}`), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();

    const members = await first.ctl(['list_queues', 'name', 'members', '--formatter', 'json']);
    const queue = (JSON.parse(members) as { name: string; members: string[] }[]).find((q) => q.name === 'replicated');
    expect(queue?.members.sort()).toEqual(names());
    const state = (await theCluster().waitForQuorum('/', 'replicated')).get('replicated');
    expect([...(state?.online ?? [])].sort()).toEqual(names());
    // Declared through the first node: the leader is there (RabbitMQ's client-local placement).
    const leader = await theCluster().leaderOf('/', 'replicated');
    expect(leader?.name).toBe(first.name);

    await first.kill9();
    try {
      // A majority (two of three) is left: the queue elects a new leader there. Until it
      // has, the broker refuses the read (and may close the connection): try again.
      const bodies: string[] = [];
      for (let attempt = 0; bodies.length < 100 && attempt < 300; attempt++) {
        const survivor = await amqplib.connect(second.url());
        survivor.on('error', () => undefined);
        try {
          const reader = await survivor.createChannel();
          reader.on('error', () => undefined);
          for (;;) {
            const message = await reader.get('replicated', { noAck: true });
            if (message === false) break;
            bodies.push(message.content.toString());
          }
        } catch {
          // not served yet
        } finally {
          await survivor.close().catch(() => undefined);
        }
        if (bodies.length < 100) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(bodies).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
      // The survivors elected a leader among themselves; the killed member is not online.
      const after = await theCluster().quorumQueue('/', 'replicated', second);
      expect(after?.leader).toBeDefined();
      expect(after?.leader).not.toBe(first.name);
      expect(after?.online).not.toContain(first.name);
      expect(await theCluster().answeringNodes()).not.toContain(first);
    } finally {
      await first.restart();
    }
    // Back in the cluster after its restart, and a member of the queue again.
    await theCluster().waitForRunning();
    await expect
      .poll(async () => (await cluster?.runningNodes(first))?.length, { timeout: 60_000, interval: 1000 })
      .toBe(3);
    const whole = (await theCluster().waitForQuorum('/', 'replicated')).get('replicated');
    expect([...(whole?.online ?? [])].sort()).toEqual(names());
  }, 300_000);

  it('shuts a node down cleanly, keeping its data, and brings it back into the cluster', async () => {
    const third = nodes()[2];
    if (third === undefined) throw new Error('too few nodes');
    await theCluster().shutdownNode(third);
    expect(third.pid()).toBeUndefined();
    expect(await theCluster().runningNodes()).not.toContain(third.name);
    await expect(theCluster().waitForRunning(2000)).rejects.toThrow(/timed out/);

    await theCluster().ensureRunning();
    expect((await theCluster().runningNodes(third)).sort()).toEqual(names());
    // Every quorum queue of the vhost (here the one) has its member on the node back.
    const whole = await theCluster().waitForQuorum('/');
    expect([...whole.keys()]).toEqual(['replicated']);
    expect([...(whole.get('replicated')?.online ?? [])].sort()).toEqual(names());
  }, 300_000);
});
