import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { PartitionCluster, type RabbitNode } from '@hello-rabbit/testkit';
import type { Producer, Worker } from './apps.js';
import { disconnects } from './apps.js';
import type { Classification, DedupFigures } from './books.js';
import { ClusterScenario, type NodeConnection } from './cluster-scenario.js';
import { dedupBook } from './dedup-books.js';
import { describeStall, ProgressMonitor } from './progress.js';

/** Tasks in each scenario's run. */
export const MESSAGES = 20_000;
/** The apps' AMQP heartbeat: a connection that hears nothing is dead after about two of them. */
export const HEARTBEAT_SECONDS = 2;
/** The apps' traffic to each node, slowed so that the producer's run lasts long enough for a fault to land in it. */
export const CLIENT_KBIT = 4000;

/** Settings of every app of the suite. */
export const APP_ENV = { WORK_UNIT_MS: '0', AMQP_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) } as const;

/**
 * One partition scenario: the cluster suite's ClusterScenario (a vhost, a run, its books)
 * on the partition suite's cluster, with the client links slowed, and a monitor of the
 * work's progress for the time to recover.
 */
export class PartitionScenario {
  private monitor: ProgressMonitor | undefined;
  /** What an operator had to do for the cluster to be whole again after the heal, if anything. */
  private operator: string | undefined;

  private constructor(
    readonly scenario: ClusterScenario,
    readonly cluster: PartitionCluster,
  ) {}

  static async open(name: string, label: string): Promise<PartitionScenario> {
    const cluster = PartitionCluster.attachPartitioned(inject('faultPartitionCluster'));
    const scenario = await ClusterScenario.open(name, { label, cluster, rowsFile: inject('faultRows') });
    for (const node of cluster.nodes) await cluster.slowClients(node, CLIENT_KBIT);
    return new PartitionScenario(scenario, cluster);
  }

  get nodes(): readonly [RabbitNode, RabbitNode, RabbitNode] {
    return this.scenario.nodes;
  }

  label(node: RabbitNode | undefined): string {
    return this.scenario.label(node);
  }

  /**
   * The run every scenario makes: the worker that declares task_queue first (its node then
   * holds the queue's leader), then the other, then the producer of MESSAGES tasks on
   * n1, n2, n3 in that order; and the progress watched from then on.
   */
  async startWork(options: {
    readonly text: string;
    readonly first: 'worker-1' | 'worker-2';
    readonly worker1Nodes?: readonly RabbitNode[];
  }): Promise<{ worker1: Worker; worker2: Worker; producer: Producer; leaderBefore: RabbitNode | undefined }> {
    const { run } = this.scenario;
    const [n1, n2, n3] = this.nodes;
    const start = {
      'worker-1': () => this.scenario.startWorker('worker-1', options.worker1Nodes ?? [n1, n2, n3], APP_ENV),
      'worker-2': () => this.scenario.startWorker('worker-2', [n2, n3, n1], APP_ENV),
    };
    const second = options.first === 'worker-1' ? 'worker-2' : 'worker-1';
    const first = start[options.first]();
    await run.consumersReady(1);
    const other = start[second]();
    await run.consumersReady(2);
    const leaderBefore = await this.scenario.leader();
    const env = { ...APP_ENV, PUBLISH_DEADLINE_MS: '300000' };
    const producer = this.scenario.startProducer({ count: MESSAGES, text: options.text, env }, [n1, n2, n3]);
    this.watch();
    const [worker1, worker2] = options.first === 'worker-1' ? [first, other] : [other, first];
    return { worker1, worker2, producer, leaderBefore };
  }

  /** Starts sampling confirms and deliveries (for the time to recover). */
  watch(): void {
    this.monitor = new ProgressMonitor(() => ({
      confirms: this.scenario.run.reported(),
      deliveries: this.scenario.run.delivered(),
    }));
  }

  /** Stops sampling; the time to recover from a fault at `from`, and a note of the stalls. */
  recovery(from: number): { seconds: number | undefined; note: string } {
    const monitor = this.monitor;
    if (monitor === undefined) throw new Error('watch() first');
    monitor.stop();
    const { confirms, deliveries, seconds } = monitor.recovery(from, MESSAGES);
    return {
      seconds,
      note:
        `longest stall after the fault: confirms ${describeStall(confirms, from)}, ` +
        `deliveries ${describeStall(deliveries, from)}`,
    };
  }

  /**
   * The tasks done twice (a worker printed ` [x] Done` for it more than once), over both
   * workers, and the duplicates the workers' dedup store suppressed.
   */
  doneTwice(producers: readonly Producer[], workers: readonly Worker[]): DedupFigures {
    const bodyOf = new Map(
      producers.flatMap((producer) => producer.report().map((line) => [line.messageId, line.body] as const)),
    );
    return dedupBook(
      workers.map((worker) => ({ label: worker.label, events: worker.events(), log: worker.log(), killed: false })),
      bodyOf,
      1,
    ).figures;
  }

  /** How long after `since` an app first logged a lost connection. */
  noticed(app: { log(): ReturnType<Producer['log']> }, since: number): number | undefined {
    const first = disconnects(app.log()).find((line) => line.time >= since);
    return first === undefined ? undefined : first.time - since;
  }

  /** The distinct errors an app logged (`broker error` lines) since `since`, for the notes. */
  errors(app: { log(): ReturnType<Producer['log']> }, since: number): string {
    const messages = app
      .log()
      .filter((line) => line.msg === 'broker error' && line.time >= since)
      .map((line) => {
        const err = line.err as { message?: unknown } | undefined;
        return typeof err?.message === 'string' ? err.message.slice(0, 120) : 'unknown';
      });
    return [...new Set(messages)].join(' / ') || 'none';
  }

  /** Where an app went after `since`: `n2 after 6.1 s`. */
  move(connection: NodeConnection | undefined, since: number): string {
    return connection === undefined
      ? 'nowhere'
      : `${this.label(connection.node)} after ${seconds(connection.time - since)}`;
  }

  /**
   * The running members as `via` (a majority node) sees them, once it has counted `cut` out:
   * each node declares a peer down by its own ticks (0.75 to 1.25 x net_ticktime after the
   * cut), so the majority may still count the minority in for a few seconds after the
   * minority has paused. Resolves with its view (labels, sorted) and how long after `since`
   * it took; if `cut` is still counted in after `timeoutMs`, with the view it had then.
   */
  async majorityWithout(
    cut: RabbitNode,
    via: RabbitNode,
    since: number,
    timeoutMs = 60_000,
  ): Promise<{ nodes: string[]; ms: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = await this.cluster.runningNodes(via);
      if (!running.includes(cut.name) || Date.now() > deadline) {
        const nodes = running.map((name) => this.label(this.cluster.nodeNamed(name))).sort();
        return { nodes, ms: Date.now() - since };
      }
      await sleep(250);
    }
  }

  /**
   * Waits until the cluster is whole after a heal at `healedAt`: by itself (pause_minority
   * restarts the paused node: no start_app), else with what PartitionCluster.recoverAfterHeal
   * does for a node stuck booting (RabbitMQ 3.10.8 on Erlang 25.1+; recorded, and said first
   * in the notes). Resolves with how long it took, how, and the partitions each node
   * recorded (none expected).
   */
  async wholeAgain(healedAt: number): Promise<{ ms: number; how: string; partitions: string[] }> {
    this.operator = await this.cluster.recoverAfterHeal(60_000, 120_000);
    const ms = Date.now() - healedAt;
    const how = this.operator === undefined ? 'by itself' : 'with an operator';
    const partitions: string[] = [];
    for (const node of this.cluster.nodes) {
      const recorded = await this.cluster.partitions(node);
      if (Object.keys(recorded).length > 0) partitions.push(`${this.label(node)}: ${JSON.stringify(recorded)}`);
    }
    return { ms, how, partitions };
  }

  /** Records the row: books, notes, tasks done twice, time to recover. */
  record(books: Classification, notes: string, doneTwice: DedupFigures, recovery: number | undefined): void {
    // Said first, in capitals: the cluster did not heal by itself.
    const operator = this.operator === undefined ? '' : `NEEDED AN OPERATOR: ${this.operator}; `;
    this.scenario.run.record(books, operator + notes, true, doneTwice, recovery);
  }

  /** Restores the cluster (healed, whole, queues whole), the client links at full speed, and deletes the vhost. */
  async close(): Promise<void> {
    this.monitor?.stop();
    await this.cluster.heal();
    for (const node of this.cluster.nodes) {
      await this.cluster.impair(node, 0).catch(() => undefined);
      await this.cluster.slowClients(node, 0).catch(() => undefined);
    }
    await this.scenario.close();
  }
}

export function seconds(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`;
}
