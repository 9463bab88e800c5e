import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { eventually, RabbitCluster, TcpProxy, type RabbitNode, type TcpProxyOptions } from '@hello-rabbit/testkit';
import { connections, type LogLine } from './app-output.js';
import type { Producer, ProducerRun, Worker } from './apps.js';
import { FaultRun, WORK_QUEUE } from './fault-run.js';

/** An app of the scenario, by what the suite reads of it: its log. */
export interface LoggingApp {
  log(): readonly LogLine[];
}

/** A node an app connected to, and when (epoch ms). */
export interface NodeConnection {
  readonly node: RabbitNode;
  readonly time: number;
}

/** The three nodes of the suite's cluster, in cluster order. */
export type ThreeNodes = readonly [RabbitNode, RabbitNode, RabbitNode];

/**
 * What one cluster scenario works with: the suite's three-node cluster (booted by the
 * global setup), a vhost of its own on it (so that its task_queue is fresh), a run to keep
 * its books and, for network faults, one test TCP proxy in front of each node's AMQP port.
 *
 * The apps are given every node (`AMQP_HOSTS`, through the proxies when there are some)
 * in an order the test chooses (`AMQP_HOST_ORDER=fixed`), so that the test knows where
 * each app connects first. The suite's own checks go to a node that is up at the time.
 */
export class ClusterScenario {
  private constructor(
    readonly cluster: RabbitCluster,
    readonly vhost: { readonly name: string; readonly url: string; dispose(): Promise<void> },
    readonly run: FaultRun,
    /** The proxy in front of each node, when the scenario has proxies. */
    readonly proxies: ReadonlyMap<RabbitNode, TcpProxy> | undefined,
    /** Nodes this scenario has killed or stopped and not yet brought back. */
    private readonly down: Set<RabbitNode>,
  ) {}

  /**
   * Opens a scenario once the cluster is whole (every node a running member).
   * @param options.proxy a proxy in front of each node, with these options; the apps reach
   *   the nodes only through them.
   */
  static async open(
    scenario: string,
    options: {
      label: string;
      proxy?: TcpProxyOptions;
      /** The cluster to use (the partition suite's). @default the cluster suite's, from its global setup */
      cluster?: RabbitCluster;
      /** Where the row goes. @default the cluster suite's rows file */
      rowsFile?: string;
    },
  ): Promise<ClusterScenario> {
    const cluster = options.cluster ?? RabbitCluster.attach(inject('faultCluster'));
    // A scenario that failed may have left a node down: bring it back first.
    await cluster.ensureRunning();
    const [creator] = await cluster.answeringNodes();
    if (creator === undefined) throw new Error('no node of the cluster answers');
    // A vhost is cluster-wide: made through one node, it exists on every one.
    const vhost = await creator.addVhost(options.label);
    const proxies =
      options.proxy === undefined
        ? undefined
        : new Map(
            await Promise.all(
              cluster.nodes.map(async (node) => [node, await TcpProxy.start(node.port, options.proxy)] as const),
            ),
          );
    const down = new Set<RabbitNode>();
    const run = new FaultRun({
      scenario,
      // The suite's checks and the books' drain go to a node the scenario has not taken down.
      adminUrl: () => {
        const up = cluster.nodes.find((node) => !down.has(node));
        if (up === undefined) throw new Error('every node of the cluster is down');
        return up.url(vhost.name);
      },
      rowsFile: options.rowsFile ?? inject('faultRows'),
    });
    return new ClusterScenario(cluster, vhost, run, proxies, down);
  }

  /** The cluster's nodes, as a triple. */
  get nodes(): ThreeNodes {
    const [a, b, c, ...more] = this.cluster.nodes;
    if (a === undefined || b === undefined || c === undefined || more.length > 0) {
      throw new Error(`the cluster suite needs three nodes, not ${this.cluster.nodes.length}`);
    }
    return [a, b, c];
  }

  /** A short name for a node in the table's notes: n1, n2, n3. */
  label(node: RabbitNode | undefined): string {
    if (node === undefined) return 'none';
    return `n${this.cluster.nodes.indexOf(node) + 1}`;
  }

  /** `host:port` the apps use for a node: its proxy's (on 127.0.0.1), or the node's own. */
  endpoint(node: RabbitNode): string {
    const proxy = this.proxies?.get(node);
    return proxy === undefined ? `${node.host}:${node.port}` : `127.0.0.1:${proxy.port}`;
  }

  /** The node behind an endpoint an app names (`host:port`, a proxy's or a node's). */
  nodeAt(endpoint: string): RabbitNode {
    const node = this.cluster.nodes.find((candidate) => this.endpoint(candidate) === endpoint);
    if (node === undefined)
      throw new Error(
        `${endpoint} is none of the cluster's endpoints ` +
          `(${this.cluster.nodes.map((n) => this.endpoint(n)).join(', ')})`,
      );
    return node;
  }

  /** The settings that give an app every node, tried in this order (the first one first). */
  hostSettings(order: readonly RabbitNode[]): { url: string; env: Record<string, string> } {
    const [first] = order;
    if (first === undefined || new Set(order).size !== this.cluster.nodes.length) {
      throw new Error('give every node of the cluster once, in the order the app tries them');
    }
    const port = this.proxies?.get(first)?.port ?? first.port;
    return {
      // AMQP_URL still gives the protocol, user, password and vhost.
      url: first.url(this.vhost.name, port),
      env: { AMQP_HOSTS: order.map((node) => this.endpoint(node)).join(','), AMQP_HOST_ORDER: 'fixed' },
    };
  }

  /** A worker (`--from task_queue`) given every node, in `order`. */
  startWorker(label: string, order: readonly RabbitNode[], env: Readonly<Record<string, string>> = {}): Worker {
    const hosts = this.hostSettings(order);
    return this.run.startWorker(label, { ...hosts.env, ...env }, hosts.url);
  }

  /** A producer (`--to task_queue --report`) given every node, in `order`. */
  startProducer(run: Omit<ProducerRun, 'reportFile'>, order: readonly RabbitNode[]): Producer {
    const hosts = this.hostSettings(order);
    return this.run.startProducer({ ...run, env: { ...hosts.env, ...run.env } }, hosts.url);
  }

  /** Every connection an app logged, with the node behind the endpoint it names. */
  connectionsOf(app: LoggingApp): NodeConnection[] {
    return connections(app.log()).map((connection) => ({ node: this.nodeAt(connection.node), time: connection.time }));
  }

  /** The node an app is connected to now, as its log says (its last connection). */
  nodeOf(app: LoggingApp): RabbitNode | undefined {
    return this.connectionsOf(app).at(-1)?.node;
  }

  /** The nodes an app was connected to, in order, for the table's notes: `n1 > n2`. */
  route(app: LoggingApp): string {
    return (
      this.connectionsOf(app)
        .map((connection) => this.label(connection.node))
        .join(' > ') || 'never connected'
    );
  }

  /** The app's first connection since `since` (epoch ms), if any. */
  connectionSince(app: LoggingApp, since: number): NodeConnection | undefined {
    return this.connectionsOf(app).find((connection) => connection.time >= since);
  }

  /**
   * Waits until each app has logged a connection, since `since`, to a node other than
   * `from`: it moved. Resolves with where each went.
   */
  async movedOff(
    from: RabbitNode,
    since: number,
    apps: readonly (LoggingApp & { readonly label: string })[],
    timeoutMs = 90_000,
  ): Promise<NodeConnection[]> {
    const moved = () =>
      apps.map((app) =>
        this.connectionsOf(app).find((connection) => connection.time >= since && connection.node !== from),
      );
    await eventually(
      () => moved().every((c) => c !== undefined),
      timeoutMs,
      `${apps.map((app) => app.label).join(' and ')} connected to a node other than ${this.label(from)}`,
      200,
    );
    return moved().filter((connection): connection is NodeConnection => connection !== undefined);
  }

  /** Waits until task_queue has `count` consumers again (each worker resubscribed). */
  async consumers(count: number, timeoutMs = 90_000): Promise<void> {
    await this.run.consumersReady(count, timeoutMs);
  }

  /** `kill -9` of a node's Erlang VM. */
  async kill9(node: RabbitNode): Promise<void> {
    this.down.add(node);
    await node.kill9();
  }

  /** A clean stop of a node, broker and VM (`rabbitmqctl shutdown`), keeping its data. */
  async shutdown(node: RabbitNode): Promise<void> {
    this.down.add(node);
    await this.cluster.shutdownNode(node);
  }

  /**
   * The suite's own checks stop going to `node` (cut off, or paused by the cluster's
   * partition handling) until `reachable(node)`.
   */
  unreachable(node: RabbitNode): void {
    this.down.add(node);
  }

  /** The suite's checks may go to `node` again. */
  reachable(node: RabbitNode): void {
    this.down.delete(node);
  }

  /** Starts a node again on its data; resolves once every node is a running member. */
  async restart(node: RabbitNode): Promise<void> {
    await node.restart();
    await this.cluster.waitForRunning();
    this.down.delete(node);
  }

  /** A node the scenario has not taken down, to ask the cluster. */
  private upNode(): RabbitNode {
    const up = this.cluster.nodes.find((node) => !this.down.has(node));
    if (up === undefined) throw new Error('every node of the cluster is down');
    return up;
  }

  /** task_queue's leader now (undefined during an election), asked of a node that is up. */
  async leader(): Promise<RabbitNode | undefined> {
    return this.cluster.leaderOf(this.vhost.name, WORK_QUEUE, this.upNode());
  }

  /** Waits until task_queue has a leader on a node other than `old`; resolves with it. */
  async newLeader(old: RabbitNode, timeoutMs = 90_000): Promise<RabbitNode> {
    let leader: RabbitNode | undefined;
    await eventually(
      async () => {
        leader = await this.leader().catch(() => undefined);
        return leader !== undefined && leader !== old;
      },
      timeoutMs,
      `a new leader of ${WORK_QUEUE} (not ${this.label(old)})`,
      50,
    );
    if (leader === undefined) throw new Error('unreachable: the wait ended without a leader');
    return leader;
  }

  /** Whether `node` is a running member of the cluster, as a node that is up sees it. */
  async isRunningMember(node: RabbitNode): Promise<boolean> {
    return (await this.cluster.runningNodes(this.upNode())).includes(node.name);
  }

  /** The broker's and the apps' state, for the log of a scenario that failed. */
  async diagnose(): Promise<string> {
    const ask = async (what: () => Promise<string>) => what().catch((err: unknown) => `(${(err as Error).message})`);
    const node =
      this.cluster.nodes.find((candidate) => !this.down.has(candidate) && candidate.pid() !== undefined) ??
      this.upNode();
    const nodes = await Promise.all(
      this.cluster.nodes.map(
        async (n) =>
          `${this.label(n)} ${n.name} at ${this.endpoint(n)}` +
          `: ${(await n.isAnswering()) ? 'answers' : 'does not answer'}`,
      ),
    );
    return [
      `[${this.run.options.scenario}] did not finish; state at the end:`,
      ...nodes,
      await ask(async () => (await this.cluster.runningNodes(node)).join(', ')),
      await ask(() =>
        node.ctl(
          [
            'list_queues',
            '-p',
            this.vhost.name,
            'name',
            'type',
            'leader',
            'online',
            'messages',
            'messages_ready',
            'messages_unacknowledged',
            'consumers',
          ],
          30_000,
        ),
      ),
      await ask(() => node.ctl(['list_consumers', '-p', this.vhost.name], 30_000)),
      this.run.describeApps(),
    ].join('\n');
  }

  /**
   * Kills what the scenario left running and restores the cluster for the next one: the
   * proxies closed, every node started again and a running member, and every quorum queue
   * of the vhost with its three members back; then deletes the vhost. A scenario that
   * failed before recording its books still gets a row, marked as such.
   */
  async close(): Promise<void> {
    if (!this.run.isRecorded) process.stderr.write(`${await this.diagnose()}\n`);
    this.run.recordUnfinished();
    await this.run.dispose();
    for (const proxy of this.proxies?.values() ?? []) await proxy.close();
    await this.cluster.ensureRunning();
    this.down.clear();
    await this.cluster.waitForQuorum(this.vhost.name);
    // delete_vhost through a node that answers (the one that made it may have been restarted).
    await this.vhost.dispose().catch(async () => {
      await sleep(1000);
      await this.vhost.dispose();
    });
  }
}
