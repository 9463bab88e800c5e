/**
 * The cluster of the `e2e-cluster` scenario: three private RabbitMQ nodes on this machine,
 * booted by testkit's RabbitCluster (their own ports, data and logs in temporary
 * directories; never the broker at AMQP_URL), once per benchmark run, stopped at its end.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RabbitCluster, type RabbitNode } from '@hello-rabbit/testkit';
import { serverVersion } from './broker.js';
import type { Endpoints } from './scenarios.js';

export const CLUSTER_SIZE = 3;

/**
 * Which node (0-based) each side uses: the producer and the consumer on two different
 * nodes, the queue declared through the third. RabbitMQ 3.10 puts a quorum queue's leader
 * on the node of the client that declares it (`queue_leader_locator` is `client-local` by
 * default), so neither client is on the leader's node: every publish and every delivery
 * crosses the cluster, as it does for any client that is not next to the leader.
 */
const PLACEMENT = { producer: 0, consumer: 1, admin: 2 } as const;

/**
 * Starts the node names (and their temporary directories) of this process's cluster, so
 * that what a boot interrupted by Ctrl+C left running can be found and killed.
 */
const LABEL = `bench-${String(process.pid)}-node`;

/** Where the cluster's clients connect, by Erlang node name. */
export interface ClusterLayout {
  /** The nodes' product and version, as they announce them (this machine's RabbitMQ). */
  readonly broker: string;
  /** Every node, node 1 first. */
  readonly nodes: readonly string[];
  readonly producerNode: string;
  readonly consumerNode: string;
  /** The node the queue is declared through: its leader's, unless RabbitMQ placed it otherwise. */
  readonly declaredOn: string;
  /** Seconds from the first node's boot to three running members. */
  readonly bootSeconds: number;
}

/** A quorum queue's leader and members, as `rabbitmqctl list_queues` reports them. */
export interface QueueMembers {
  readonly leader: string;
  readonly members: readonly string[];
}

function nodeAt(nodes: readonly RabbitNode[], index: number): RabbitNode {
  const node = nodes[index];
  if (node === undefined) throw new Error(`the cluster has no node ${String(index + 1)}`);
  return node;
}

export class BenchCluster {
  private constructor(
    private readonly cluster: RabbitCluster,
    readonly layout: ClusterLayout,
  ) {}

  /** Boots and joins three nodes: tens of seconds on two cores. */
  static async boot(): Promise<BenchCluster> {
    const started = Date.now();
    const cluster = await RabbitCluster.boot(CLUSTER_SIZE, { label: LABEL });
    const bootSeconds = (Date.now() - started) / 1000;
    let broker: string;
    try {
      broker = await serverVersion(nodeAt(cluster.nodes, 0).url());
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return new BenchCluster(cluster, {
      broker,
      nodes: cluster.nodes.map((node) => node.name),
      producerNode: nodeAt(cluster.nodes, PLACEMENT.producer).name,
      consumerNode: nodeAt(cluster.nodes, PLACEMENT.consumer).name,
      declaredOn: nodeAt(cluster.nodes, PLACEMENT.admin).name,
      bootSeconds,
    });
  }

  /**
   * Runs `fn` in a vhost of its own on the cluster (vhosts are cluster-wide), with each side
   * on its node; deletes the vhost after.
   */
  async withVhost<T>(label: string, fn: (endpoints: Endpoints, vhost: string) => Promise<T>): Promise<T> {
    const nodes = this.cluster.nodes;
    const admin = nodeAt(nodes, PLACEMENT.admin);
    const vhost = await admin.addVhost(`bench-${label}`);
    try {
      return await fn(
        {
          admin: admin.url(vhost.name),
          producer: nodeAt(nodes, PLACEMENT.producer).url(vhost.name),
          consumer: nodeAt(nodes, PLACEMENT.consumer).url(vhost.name),
        },
        vhost.name,
      );
    } finally {
      await vhost.dispose();
    }
  }

  /** Where `queue`'s leader and members are now (a quorum queue). */
  async members(vhost: string, queue: string): Promise<QueueMembers> {
    const admin = nodeAt(this.cluster.nodes, PLACEMENT.admin);
    const out = await admin.ctl(['-p', vhost, 'list_queues', 'name', 'leader', 'members', '--formatter', 'json']);
    const queues = JSON.parse(out) as { name?: string; leader?: string; members?: string[] }[];
    const found = queues.find((one) => one.name === queue);
    // The leader is empty while the queue elects one.
    if (typeof found?.leader !== 'string' || found.leader === '')
      throw new Error(`rabbitmqctl list_queues shows no leader for ${queue} in ${vhost}`);
    return { leader: found.leader, members: found.members ?? [] };
  }

  /** Stops every node and removes its directory. */
  async stop(): Promise<void> {
    await this.cluster.stop();
  }
}

/** "node 2" for a node of the layout, its Erlang name otherwise. */
export function nodeLabel(layout: Pick<ClusterLayout, 'nodes'>, name: string): string {
  const index = layout.nodes.indexOf(name);
  return index < 0 ? name : `node ${String(index + 1)}`;
}

/**
 * The processes of this process's cluster nodes (found as testkit finds a node's: by its name
 * in their environment).
 */
function leftoverProcesses(): number[] {
  const mark = `RABBITMQ_NODENAME=${LABEL}`;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    // No /proc: testkit's nodes need Linux anyway.
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      // epmd is shared by every node on the machine.
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'epmd') continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.some((variable) => variable.startsWith(mark))) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

/**
 * Kills (SIGKILL) every process of this process's cluster nodes, waits until they are
 * gone, and removes their directories: for Ctrl+C during the boot, when there is no
 * BenchCluster to stop yet. The nodes run in sessions of their own, so the terminal's
 * signal never reaches them. Never throws.
 */
export async function killClusterLeftovers(): Promise<void> {
  for (const pid of leftoverProcesses()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // A dying node still writes its logs: its directory cannot be removed before it is gone.
  for (let i = 0; i < 50 && leftoverProcesses().length > 0; i++) await sleep(100);
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(`hello-rabbit-${LABEL}`)) continue;
    try {
      rmSync(join(tmpdir(), entry), { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      // left for the system's tmp cleaning; the nodes are dead
    }
  }
}
