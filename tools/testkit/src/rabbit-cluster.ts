import { randomBytes } from 'node:crypto';
import { RabbitNode, type BootOptions, type NodeDescriptor } from './rabbit-node.js';

/** Enough to reach a cluster from another process (the `pnpm cluster:*` script's state). */
export interface ClusterDescriptor {
  readonly nodes: readonly NodeDescriptor[];
}

/**
 * A real RabbitMQ cluster on this machine: `size` private nodes (RabbitNode: their own
 * ports, data and logs under temporary directories, never the shared broker), sharing one
 * Erlang cookie, joined to the first with `rabbitmqctl join_cluster`. Quorum queues
 * declared on it get a member on every node.
 */
export class RabbitCluster {
  private constructor(readonly nodes: readonly RabbitNode[]) {}

  /** Boots and joins the nodes; resolves once every node answers AMQP as a cluster member. */
  static async boot(size = 3, options: Pick<BootOptions, 'label' | 'plugins' | 'config'> = {}): Promise<RabbitCluster> {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('a cluster has at least one node');
    const cookie = randomBytes(20).toString('hex').toUpperCase();
    const label = options.label ?? 'cluster';
    const nodes: RabbitNode[] = [];
    try {
      // One at a time: booting Erlang VMs at once on two cores takes longer than in turn.
      for (let i = 0; i < size; i++) nodes.push(await RabbitNode.boot({ ...options, label: `${label}${i + 1}`, cookie }));
      const [first, ...others] = nodes as [RabbitNode, ...RabbitNode[]];
      for (const node of others) {
        await node.ctl(['stop_app']);
        await node.ctl(['join_cluster', first.name]);
        await node.startApp();
      }
      const cluster = new RabbitCluster(nodes);
      await cluster.checkMembers();
      return cluster;
    } catch (err) {
      await Promise.all(nodes.map((node) => node.stop().catch(() => undefined)));
      throw err;
    }
  }

  /** The cluster another process booted. */
  static attach(descriptor: ClusterDescriptor): RabbitCluster {
    return new RabbitCluster(descriptor.nodes.map((node) => RabbitNode.attach(node)));
  }

  get descriptor(): ClusterDescriptor {
    return { nodes: this.nodes.map((node) => node.descriptor) };
  }

  /** One AMQP URL per node, for a vhost, as user guest. */
  urls(vhost = '/'): string[] {
    return this.nodes.map((node) => node.url(vhost));
  }

  /** Every node, as the first one sees them: running members of one cluster. */
  async runningNodes(): Promise<string[]> {
    const status = JSON.parse(await (this.nodes[0] as RabbitNode).ctl(['cluster_status', '--formatter', 'json'])) as {
      running_nodes?: string[];
    };
    return status.running_nodes ?? [];
  }

  /** Stops every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  private async checkMembers(): Promise<void> {
    const running = await this.runningNodes();
    const missing = this.nodes.filter((node) => !running.includes(node.name));
    if (missing.length > 0) throw new Error(`nodes not running in the cluster: ${missing.map((node) => node.name).join(', ')}`);
  }
}
