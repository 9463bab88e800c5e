import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetnsNetwork, requireNetns, type NetnsNetworkDescriptor } from './netns.js';
import { RabbitCluster, type ClusterDescriptor } from './rabbit-cluster.js';
import { RabbitNode, type BootOptions } from './rabbit-node.js';

/** Enough to reach a partition cluster, and its network, from another process. */
export interface PartitionClusterDescriptor extends ClusterDescriptor {
  readonly network: NetnsNetworkDescriptor;
  /** The nodes' `net_ticktime`: a silent peer is declared down after 0.75 to 1.25 times it. */
  readonly netTicktimeSeconds: number;
}

export interface PartitionClusterOptions extends Pick<BootOptions, 'label' | 'plugins' | 'config'> {
  /** @default 3 */
  readonly size?: number;
  /** The network's name prefix (NetnsNetwork). @default 'hrp' */
  readonly prefix?: string;
  /** The network's private /24 (NetnsNetwork). @default '10.213.0' */
  readonly subnet?: string;
  /**
   * The nodes' `net_ticktime`. RabbitMQ's default, 60 s, declares a silent peer down after
   * 45 to 75 s; the suite uses less so that a partition is seen within a run. @default 15
   */
  readonly netTicktimeSeconds?: number;
}

/**
 * A RabbitMQ cluster whose nodes can be partitioned for real: each node in a network
 * namespace of its own on a private bridge (testkit's NetnsNetwork), named by its address
 * (`<label><i>-5672-<hex>@10.213.0.1<i>`, long names), with
 * `cluster_partition_handling = pause_minority`. The apps, outside the namespaces, reach
 * node i at `10.213.0.1<i>:5672` (`urls()`, `AMQP_HOSTS`). Same API as RabbitCluster, plus
 * the cuts. Needs root: `start()` fails with one line saying why where it cannot run.
 */
export class PartitionCluster extends RabbitCluster {
  private constructor(
    nodes: readonly RabbitNode[],
    readonly network: NetnsNetwork,
    readonly netTicktimeSeconds: number,
  ) {
    super(nodes);
  }

  /**
   * Sweeps what an earlier run left under the prefix (namespaces, links, the processes in
   * them, their files), builds the network, boots and joins the nodes.
   */
  static async start(options: PartitionClusterOptions = {}): Promise<PartitionCluster> {
    const {
      size = 3,
      prefix = 'hrp',
      subnet = '10.213.0',
      netTicktimeSeconds = 15,
      label = prefix,
      config = [],
      plugins,
    } = options;
    await requireNetns({ prefix });
    const network = await NetnsNetwork.create({ prefix, subnet, size });
    try {
      const nodes = await RabbitCluster.bootNodes(size, {
        label,
        plugins,
        config: ['cluster_partition_handling = pause_minority', `net_ticktime = ${netTicktimeSeconds}`, ...config],
        perNode: (i) => ({
          host: network.address(i),
          netns: network.namespace(i),
          port: 5672,
          dir: path.join(network.dir, `n${i + 1}`),
        }),
      });
      return new PartitionCluster(nodes, network, netTicktimeSeconds);
    } catch (err) {
      await network.destroy();
      throw err;
    }
  }

  /** The cluster another process started. */
  static attachPartitioned(descriptor: PartitionClusterDescriptor): PartitionCluster {
    return new PartitionCluster(
      descriptor.nodes.map((node) => RabbitNode.attach(node)),
      NetnsNetwork.attach(descriptor.network),
      descriptor.netTicktimeSeconds,
    );
  }

  override get descriptor(): PartitionClusterDescriptor {
    return {
      nodes: this.nodes.map((node) => node.descriptor),
      network: this.network.descriptor,
      netTicktimeSeconds: this.netTicktimeSeconds,
    };
  }

  /** Node's cable pulled: it loses the other nodes and its clients. */
  async isolate(node: RabbitNode): Promise<void> {
    await this.network.isolate(this.indexOf(node));
  }

  /** Node's cable back in. */
  async reconnect(node: RabbitNode): Promise<void> {
    await this.network.reconnect(this.indexOf(node));
  }

  /** The links between `side` and the other nodes cut; the clients keep every node. */
  async split(side: readonly RabbitNode[]): Promise<void> {
    await this.network.split(side.map((node) => this.indexOf(node)));
  }

  /** Every cut undone, every cable back in. */
  async heal(): Promise<void> {
    await this.network.heal();
  }

  /**
   * After a heal: waits up to `byItselfMs` for every node to be a running member again by
   * itself (pause_minority). A node that stays paused past it (seen here: docs/partitions.md)
   * gets what that page tells an operator to do, in its namespace: `rabbitmqctl stop_app`,
   * then `start_app`; then it waits again, up to `operatorMs`. Says what an operator had to
   * do, or undefined when the cluster came back by itself.
   */
  async recoverAfterHeal(byItselfMs = 60_000, operatorMs = 120_000): Promise<string | undefined> {
    try {
      await this.waitForRunning(byItselfMs);
      return undefined;
    } catch (err) {
      const silent: RabbitNode[] = [];
      for (const node of this.nodes) if (!(await node.isAnswering())) silent.push(node);
      for (const node of silent) {
        await node.ctl(['stop_app'], operatorMs).catch(() => undefined);
        await node.ctl(['start_app'], operatorMs).catch(() => undefined);
      }
      await this.waitForRunning(operatorMs);
      const names = silent.map((node) => node.name).join(', ') || 'no node (the members disagreed)';
      const why = (err as Error).message.split('\n')[0] ?? '';
      return `${names} not back ${byItselfMs / 1000} s after the heal (${why}); back after stop_app + start_app`;
    }
  }

  /** The apps' traffic to `node` slowed to `kbit` (0: full speed again). */
  async slowClients(node: RabbitNode, kbit: number): Promise<void> {
    await this.network.slowClients(this.indexOf(node), kbit);
  }

  /** `node`'s whole link squeezed to `kbit` kbit/s, both ways (NetnsNetwork.impair); 0: as before. */
  async impair(node: RabbitNode, kbit: number): Promise<void> {
    await this.network.impair(this.indexOf(node), kbit);
  }

  /**
   * Whether the broker application runs on `node` (its VM asked from inside its namespace):
   * false while pause_minority holds it paused; undefined when its VM does not answer.
   */
  async brokerRunning(node: RabbitNode): Promise<boolean | undefined> {
    const out = await node.ctl(['eval', 'rabbit:is_running().'], 30_000).catch(() => undefined);
    return out === undefined ? undefined : out.trim() === 'true';
  }

  /**
   * The partitions `node` has recorded (`cluster_status`'s `partitions`: node -> the nodes
   * it saw itself partitioned from); empty when there are none.
   */
  async partitions(node: RabbitNode): Promise<Record<string, string[]>> {
    const status = JSON.parse(await node.ctl(['cluster_status', '--formatter', 'json'], 30_000)) as {
      partitions?: Record<string, string[]> | unknown[];
    };
    return status.partitions !== undefined && !Array.isArray(status.partitions) ? status.partitions : {};
  }

  /** Waits until pause_minority has paused `node` (its broker stopped, its VM up); resolves with the ms it took. */
  async paused(node: RabbitNode, timeoutMs = 120_000): Promise<number> {
    const started = Date.now();
    await this.poll(
      'paused by pause_minority',
      async () => (await this.brokerRunning(node)) === false,
      timeoutMs,
      () => `${node.name} still runs its broker`,
    );
    return Date.now() - started;
  }

  /**
   * Heals the network, then waits for the nodes to come back by themselves (pause_minority
   * restarts a paused node once it sees a majority); only a node that has not after half
   * the time is started by hand (RabbitCluster.ensureRunning).
   */
  override async ensureRunning(timeoutMs = 180_000): Promise<void> {
    await this.network.heal();
    try {
      await this.waitForRunning(timeoutMs / 2);
    } catch {
      await sleep(1000);
      await super.ensureRunning(timeoutMs / 2);
    }
  }

  /** Stops every node, then removes the network (and whatever still runs in it) and the nodes' files. */
  override async stop(): Promise<void> {
    await this.network.heal().catch(() => undefined);
    await super.stop().catch(() => undefined);
    await this.network.destroy();
  }

  private indexOf(node: RabbitNode): number {
    const i = this.nodes.indexOf(node);
    if (i === -1) throw new Error(`${node.name} is not a node of this cluster`);
    return i;
  }
}
