import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.js';
import { NetnsNetwork } from '../src/netns.js';
import { PartitionCluster } from '../src/partition-cluster.js';
import { probeAmqp } from '../src/rabbit-node.js';

/** Its own prefix and /24, so that it never sweeps the fault suite's network. */
const PREFIX = 'hrpkit';

let cluster: PartitionCluster | undefined;

beforeAll(async () => {
  // Fails (never skips) with one line saying why where it cannot run: not root, no `ip`, ...
  cluster = await PartitionCluster.start({ prefix: PREFIX, subnet: '10.213.1', label: 'kit' });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  // Nothing of it is left: no namespace, no link, no directory.
  const left = await NetnsNetwork.sweep(PREFIX);
  expect(left).toEqual([]);
}, 180_000);

const theCluster = () => {
  if (cluster === undefined) throw new Error('no cluster');
  return cluster;
};

describe('PartitionCluster: three nodes, each in its own network namespace, pause_minority', () => {
  it('joins every node, named by its address, and the apps reach each one over the bridge', async () => {
    const c = theCluster();
    expect(c.nodes.map((node) => node.host)).toEqual(['10.213.1.11', '10.213.1.12', '10.213.1.13']);
    expect(c.nodes.map((node) => node.name.split('@')[1])).toEqual(['10.213.1.11', '10.213.1.12', '10.213.1.13']);
    expect((await c.runningNodes()).sort()).toEqual(c.nodes.map((node) => node.name).sort());
    for (const node of c.nodes) expect(await probeAmqp(node.port, 2000, node.host)).toBe('amqp');
    const [n1] = c.nodes;
    expect(
      await n1?.ctl([
        'eval',
        'rabbit_mnesia:cluster_nodes(all), application:get_env(rabbit, cluster_partition_handling).',
      ]),
    ).toMatch(/pause_minority/);
    // What recoverAfterHeal reads and does on a node stuck booting, on healthy nodes:
    // every broker ready, every peer synced by global, so nothing to disconnect.
    for (const node of c.nodes) expect(await c.bootState(node)).toBe('ready');
    for (const node of c.nodes) expect(await c.unblockGlobal(node)).toEqual([]);
    expect((await c.runningNodes()).sort()).toEqual(c.nodes.map((node) => node.name).sort());
  });

  // Its cable pulled: the majority goes on, and it comes back by itself when healed.
  it('an isolated node pauses itself, and comes back when healed (by itself, or says what it took)', async () => {
    const c = theCluster();
    const [n1, n2, n3] = c.nodes;
    if (n1 === undefined || n2 === undefined || n3 === undefined) throw new Error('three nodes');
    await c.ensureRunning();
    // A quorum queue with a message, declared on n2 (its leader there).
    const connection = await amqplib.connect(n2.url());
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('kept', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    channel.sendToQueue('kept', Buffer.from('before'), { persistent: true });
    await channel.waitForConfirms();

    await c.isolate(n1);
    const pausedAfter = await c.paused(n1, (c.netTicktimeSeconds * 1.25 + 60) * 1000);
    // From outside the cable is out: the apps cannot reach n1 at all.
    expect(await probeAmqp(n1.port, 2000, n1.host)).toBe('none');
    await eventually(
      async () => (await c.runningNodes(n2)).sort().join() === [n2.name, n3.name].sort().join(),
      60_000,
      'n2 sees n2 and n3 running',
      500,
    );
    // The majority still takes confirmed messages into the quorum queue.
    channel.sendToQueue('kept', Buffer.from('during'), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();

    await c.heal();
    // pause_minority restarts the paused node once it sees the majority again; where it
    // does not within a minute (seen here, see docs/partitions.md), what an operator does.
    const operator = await c.recoverAfterHeal(60_000, 120_000);
    if (operator !== undefined) process.stderr.write(`NEEDED AN OPERATOR: ${operator}\n`);
    expect(await c.brokerRunning(n1)).toBe(true);
    for (const node of c.nodes) expect(await c.partitions(node)).toEqual({});
    const state = (await c.waitForQuorum('/', 'kept')).get('kept');
    expect(state?.online.length).toBe(3);
    const reader = await amqplib.connect(n1.url());
    const readChannel = await reader.createChannel();
    const bodies: string[] = [];
    for (;;) {
      const message = await readChannel.get('kept', { noAck: true });
      if (message === false) break;
      bodies.push(message.content.toString());
    }
    await reader.close();
    expect(bodies).toEqual(['before', 'during']);
    expect(pausedAfter).toBeLessThan((c.netTicktimeSeconds * 1.25 + 60) * 1000);
  }, 300_000);

  // Between the nodes only: the clients keep every node.
  it('a 1 | 2 split: the one pauses and closes its listener, then heals', async () => {
    const c = theCluster();
    const [n1, n2, n3] = c.nodes;
    if (n1 === undefined || n2 === undefined || n3 === undefined) throw new Error('three nodes');
    await c.ensureRunning();
    const client = await amqplib.connect(`${n1.url()}?heartbeat=2`);
    const closed = new Promise<string>((resolve) => {
      client.on('close', (err?: Error) => {
        resolve(err?.message ?? 'closed');
      });
      client.on('error', () => undefined);
    });
    await c.split([n1]);
    await c.paused(n1, (c.netTicktimeSeconds * 1.25 + 60) * 1000);
    // The clients still reach n1's address, but the paused broker has closed its connections and its listener.
    expect(await closed).toMatch(/CONNECTION_FORCED|shutdown|closed|heartbeat/i);
    expect(await probeAmqp(n1.port, 2000, n1.host)).toBe('none');
    for (const node of [n2, n3]) expect(await node.isAnswering()).toBe(true);
    await c.heal();
    const operator = await c.recoverAfterHeal(60_000, 120_000);
    if (operator !== undefined) process.stderr.write(`NEEDED AN OPERATOR: ${operator}\n`);
    expect(await c.brokerRunning(n1)).toBe(true);
  }, 300_000);
});
