import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from './eventually.js';
import { RabbitNode, type BootOptions, type NodeDescriptor } from './rabbit-node.js';

/** Enough to reach a cluster from another process (the `pnpm cluster:*` script's state). */
export interface ClusterDescriptor {
  readonly nodes: readonly NodeDescriptor[];
}

/** A quorum queue's Raft members, as the cluster reports them (`rabbitmqctl list_queues`). */
export interface QuorumQueueState {
  /** The node of the member that leads, when there is one (none during an election). */
  readonly leader: string | undefined;
  /** The nodes holding a member of the queue. */
  readonly members: readonly string[];
  /** Of those, the nodes where the member runs now. */
  readonly online: readonly string[];
}

/**
 * A real RabbitMQ cluster on this machine: `size` private nodes (RabbitNode: their own
 * ports, data and logs under temporary directories, never the shared broker), sharing one
 * Erlang cookie, joined to the first with `rabbitmqctl join_cluster`. Quorum queues
 * declared on it get a member on every node.
 */
export class RabbitCluster {
  protected constructor(readonly nodes: readonly RabbitNode[]) {}

  /**
   * Boots and joins the nodes; resolves once every node answers AMQP as a cluster member.
   * `options.perNode(i)` adds node i's own options (its address, network namespace, ...).
   */
  static async boot(
    size = 3,
    options: Pick<BootOptions, 'label' | 'plugins' | 'config'> & {
      perNode?: (i: number) => Omit<BootOptions, 'label' | 'cookie'>;
    } = {},
  ): Promise<RabbitCluster> {
    return new RabbitCluster(await RabbitCluster.bootNodes(size, options));
  }

  /** Boots `size` nodes joined into one cluster (see `boot`); stops them all when one fails. */
  protected static async bootNodes(
    size: number,
    options: Pick<BootOptions, 'label' | 'plugins' | 'config'> & {
      perNode?: (i: number) => Omit<BootOptions, 'label' | 'cookie'>;
    },
  ): Promise<RabbitNode[]> {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('a cluster has at least one node');
    const cookie = randomBytes(20).toString('hex').toUpperCase();
    const label = options.label ?? 'cluster';
    const nodes: RabbitNode[] = [];
    try {
      // One at a time: booting Erlang VMs at once on two cores takes longer than in turn.
      const { perNode, ...common } = options;
      for (let i = 0; i < size; i++)
        nodes.push(await RabbitNode.boot({ ...common, ...perNode?.(i), label: `${label}${i + 1}`, cookie }));
      const [first, ...others] = nodes as [RabbitNode, ...RabbitNode[]];
      for (const node of others) {
        await node.ctl(['stop_app']);
        await node.ctl(['join_cluster', first.name]);
        await node.startApp();
      }
      await new RabbitCluster(nodes).checkMembers();
      return nodes;
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

  /** The node of this cluster with that Erlang name. */
  nodeNamed(name: string): RabbitNode {
    const node = this.nodes.find((candidate) => candidate.name === name);
    if (node === undefined)
      throw new Error(`${name} is not a node of this cluster (${this.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** The nodes that answer AMQP now (VM up, broker application running), in cluster order. */
  async answeringNodes(): Promise<RabbitNode[]> {
    const answering = await Promise.all(this.nodes.map((node) => node.isAnswering()));
    return this.nodes.filter((_, i) => answering[i] === true);
  }

  /**
   * The running members of the cluster, as a node that answers sees them (`via`, or the
   * first node that answers: a killed node cannot be asked).
   */
  async runningNodes(via?: RabbitNode): Promise<string[]> {
    const node = via ?? (await this.someAnsweringNode());
    const status = JSON.parse(await node.ctl(['cluster_status', '--formatter', 'json'], 30_000)) as {
      running_nodes?: string[];
    };
    return status.running_nodes ?? [];
  }

  /**
   * Waits until every node answers AMQP and each of them sees every node as a running
   * member (after a restart, a node answers AMQP a moment before the others count it in).
   */
  async waitForRunning(timeoutMs = 180_000): Promise<void> {
    const names = this.nodes.map((node) => node.name).sort();
    let last = 'no node answered yet';
    await this.poll(
      'every node running in the cluster',
      async () => {
        const answering = await this.answeringNodes();
        if (answering.length < this.nodes.length) {
          // What a node that does not answer last wrote: why it stays away, in the failure.
          const silent = this.nodes.filter((node) => !answering.includes(node));
          last =
            `answering: ${answering.map((node) => node.name).join(', ') || 'none'}` +
            silent.map((node) => `\n--- the end of ${node.name}'s log:\n${node.logTail()}`).join('');
          return false;
        }
        for (const node of answering) {
          const running = (await this.runningNodes(node).catch(() => [])).sort();
          if (running.join() !== names.join()) {
            last = `${node.name} sees running: ${running.join(', ') || 'none'}`;
            return false;
          }
        }
        return true;
      },
      timeoutMs,
      () => last,
    );
  }

  /**
   * The quorum queues of a vhost, each with its leader and members, as a node that answers
   * reports them (`via`, or the first node that answers). `rabbitmqctl list_queues` reports
   * the leader, members and online members of a quorum queue (RabbitMQ 3.10; `leader` is
   * empty while the queue elects one). Queues of other types are left out.
   */
  async quorumQueues(vhost: string, via?: RabbitNode): Promise<Map<string, QuorumQueueState>> {
    const node = via ?? (await this.someAnsweringNode());
    const out = await node.ctl(
      ['list_queues', '-p', vhost, 'name', 'type', 'leader', 'members', 'online', '--formatter', 'json'],
      30_000,
    );
    const rows = JSON.parse(out) as {
      name: string;
      type?: string;
      leader?: unknown;
      members?: unknown;
      online?: unknown;
    }[];
    const names = (value: unknown) =>
      Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
    const queues = new Map<string, QuorumQueueState>();
    for (const row of rows) {
      if (row.type !== 'quorum') continue;
      const leader = typeof row.leader === 'string' && row.leader !== '' ? row.leader : undefined;
      queues.set(row.name, { leader, members: names(row.members), online: names(row.online) });
    }
    return queues;
  }

  /** One quorum queue's leader and members (see `quorumQueues`); undefined when there is no such quorum queue. */
  async quorumQueue(vhost: string, queue: string, via?: RabbitNode): Promise<QuorumQueueState | undefined> {
    return (await this.quorumQueues(vhost, via)).get(queue);
  }

  /** The node of a quorum queue's leader now, or undefined (no such queue, or an election). */
  async leaderOf(vhost: string, queue: string, via?: RabbitNode): Promise<RabbitNode | undefined> {
    const leader = (await this.quorumQueue(vhost, queue, via))?.leader;
    return leader === undefined ? undefined : this.nodeNamed(leader);
  }

  /**
   * Waits until a quorum queue (or, without `queue`, every quorum queue of the vhost) has a
   * member on every node, each of them online, and a leader among them: whole again after
   * a node came back. Resolves with the queues' states.
   */
  async waitForQuorum(vhost: string, queue?: string, timeoutMs = 120_000): Promise<Map<string, QuorumQueueState>> {
    const names = this.nodes.map((node) => node.name).sort();
    const whole = (state: QuorumQueueState) =>
      [...state.members].sort().join() === names.join() &&
      [...state.online].sort().join() === names.join() &&
      state.leader !== undefined &&
      state.online.includes(state.leader);
    let states = new Map<string, QuorumQueueState>();
    let last = 'not asked yet';
    await this.poll(
      `${queue === undefined ? 'every quorum queue' : `quorum queue '${queue}'`} ` +
        `of vhost '${vhost}' whole on ${names.length} nodes`,
      async () => {
        try {
          states = await this.quorumQueues(vhost);
        } catch (err) {
          last = (err as Error).message;
          return false;
        }
        const waited = queue === undefined ? [...states] : [[queue, states.get(queue)] as const];
        const missing = waited.filter(([, state]) => state === undefined || !whole(state));
        last = missing
          .map(([name, state]) => `${name}: ${state === undefined ? 'no such quorum queue' : JSON.stringify(state)}`)
          .join('; ');
        return missing.length === 0;
      },
      timeoutMs,
      () => last,
    );
    return states;
  }

  /**
   * Stops a node cleanly, the broker and its Erlang VM (`rabbitmqctl shutdown`, which
   * returns once the VM has exited), keeping its data: `node.restart()` starts it again
   * and it rejoins the cluster.
   */
  async shutdownNode(node: RabbitNode): Promise<void> {
    if (!this.nodes.includes(node)) throw new Error(`${node.name} is not a node of this cluster`);
    await node.ctl(['shutdown'], 120_000);
    for (let i = 0; i < 100 && node.pid() !== undefined; i++) await sleep(100);
    if (node.pid() !== undefined) throw new Error(`${node.name} still runs after rabbitmqctl shutdown`);
  }

  /**
   * Brings back every node a test left down (killed or shut down: started again on its
   * data; broker application stopped: started), then waits until all are running members.
   */
  async ensureRunning(timeoutMs = 180_000): Promise<void> {
    for (const node of this.nodes) {
      if (node.pid() === undefined) await node.restart();
      else if (!(await node.isAnswering())) await node.startApp().catch(() => undefined);
    }
    await this.waitForRunning(timeoutMs);
  }

  /** Stops every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  private async someAnsweringNode(): Promise<RabbitNode> {
    const [node] = await this.answeringNodes();
    if (node === undefined)
      throw new Error(`no node of the cluster answers (${this.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** `eventually`, every 500 ms, with the last state seen in the error. */
  protected async poll(
    what: string,
    condition: () => Promise<boolean>,
    timeoutMs: number,
    state: () => string,
  ): Promise<void> {
    await eventually(condition, timeoutMs, what, 500).catch((err: unknown) => {
      throw new Error(`${(err as Error).message} (${state()})`, { cause: err });
    });
  }

  private async checkMembers(): Promise<void> {
    const running = await this.runningNodes();
    const missing = this.nodes.filter((node) => !running.includes(node.name));
    if (missing.length > 0)
      throw new Error(`nodes not running in the cluster: ${missing.map((node) => node.name).join(', ')}`);
  }
}
