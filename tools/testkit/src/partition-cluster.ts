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
   * itself (pause_minority restarts a paused node once it sees a majority). A node still
   * silent then is asked how far its broker got: one stuck `booting` is most likely held
   * by RabbitMQ 3.10.8's global-hang workaround, which sends `global` messages that Erlang
   * 25.1 and later ignore (rabbitmq-server#6034, fixed in 3.10.9; docs/partitions.md), so
   * its boot waits forever in `global:sync()` on the peers `global` never synced with. It
   * gets what that page tells an operator to do: those peers disconnected from it
   * (`unblockGlobal`), after which its boot goes on and the peers reconnect. Then it waits
   * again, up to `operatorMs`; a node still away then fails with the end of its log.
   * Resolves with what an operator had to do, or undefined when the cluster came back by itself.
   */
  async recoverAfterHeal(byItselfMs = 60_000, operatorMs = 120_000): Promise<string | undefined> {
    try {
      await this.waitForRunning(byItselfMs);
      return undefined;
    } catch (err) {
      const done: string[] = [];
      for (const node of this.nodes) {
        if (await node.isAnswering()) continue;
        const state = await this.bootState(node);
        if (state === 'ready') continue; // its AMQP probe missed, under load: nothing to do
        if (state !== 'booting') {
          done.push(`${node.name} ${state ?? 'not answering rabbitmqctl'}: nothing done`);
          continue;
        }
        const released = await this.unblockGlobal(node);
        done.push(
          released.length === 0
            ? `${node.name} booting, no peer left unsynced by global: nothing done`
            : `${node.name} stuck booting (global:sync on ${released.join(', ')}): disconnected from it`,
        );
      }
      const why = (err as Error).message.split('\n')[0] ?? '';
      await this.waitForRunning(operatorMs).catch((again: unknown) => {
        throw new Error(`${(again as Error).message}\n(after the heal: ${why}; then ${done.join('; ')})`);
      });
      const what = done.join('; ') || 'nothing done';
      return `not whole ${byItselfMs / 1000} s after the heal (${why}); ${what}; whole after that`;
    }
  }

  /**
   * How far the broker application on `node` is (`rabbit_boot_state`: `booting`, `ready`,
   * `stopping`, `stopped`); undefined when its VM does not answer rabbitmqctl.
   */
  async bootState(node: RabbitNode): Promise<string | undefined> {
    const out = await node.ctl(['eval', 'rabbit_boot_state:get().'], 30_000).catch(() => undefined);
    return out?.trim();
  }

  /**
   * Disconnects `node` from every connected peer its `global` has not synced with (the
   * peers a `global:sync()` there waits for) and resolves with their names; a real
   * disconnect clears the half-made sync on both sides, and the next contact reconnects
   * them. What RabbitMQ's own workaround does when a sync hangs, by faking a nodedown and a
   * nodeup; 3.10.8 fakes them in the form from before Erlang 25.1, which `global` ignores
   * since (fixed in 3.10.9). Reads `global`'s state record (its 4th element: the synced
   * nodes, in OTP 25 and 26).
   */
  async unblockGlobal(node: RabbitNode): Promise<string[]> {
    const expression =
      'Blocked = nodes() -- element(4, sys:get_state(global_name_server)), ' +
      '[erlang:disconnect_node(N) || N <- Blocked], Blocked.';
    // A list of node names, each a quoted atom (they hold '@', '-' and '.').
    const out = await node.ctl(['eval', expression], 30_000);
    return [...out.matchAll(/'([^']+)'/g)].map((match) => match[1] ?? '');
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
   * restarts a paused node once it sees a majority), releasing a boot stuck in
   * `global:sync()` as `recoverAfterHeal` does; only a node still away after that is started
   * by hand (RabbitCluster.ensureRunning).
   */
  override async ensureRunning(timeoutMs = 180_000): Promise<void> {
    await this.network.heal();
    try {
      await this.recoverAfterHeal(timeoutMs / 4, timeoutMs / 4);
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
