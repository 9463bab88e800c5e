import { FaultRun } from './fault-run.js';
import type { RabbitNode } from '@hello-rabbit/testkit';
import { ensureNodeUp, rowsFile, suiteNode } from './suite.js';
import { TcpProxy, type TcpProxyOptions } from '@hello-rabbit/testkit';

/**
 * What one scenario works with: a vhost of its own on the suite's node (so its task_queue
 * is fresh), a run to keep its books, and, for network faults, a proxy the apps go through.
 */
export class Scenario {
  private constructor(
    readonly node: RabbitNode,
    readonly vhost: { readonly name: string; readonly url: string; dispose(): Promise<void> },
    readonly run: FaultRun,
    readonly proxy: TcpProxy | undefined,
  ) {}

  /**
   * @param options.proxy a proxy between the apps and the node (the apps' default URL goes
   *   through it), with these options.
   * @param options.node a node of the scenario's own (booted and stopped by its test file)
   *   instead of the suite's. @default the suite's node
   */
  static async open(
    scenario: string,
    options: { label: string; proxy?: TcpProxyOptions; node?: RabbitNode },
  ): Promise<Scenario> {
    const node = options.node ?? suiteNode();
    await ensureNodeUp(node);
    const vhost = await node.addVhost(options.label);
    const proxy = options.proxy === undefined ? undefined : await TcpProxy.start(node.port, options.proxy);
    const run = new FaultRun({
      scenario,
      adminUrl: vhost.url,
      appUrl: proxy === undefined ? undefined : node.url(vhost.name, proxy.port),
      rowsFile: rowsFile(),
    });
    return new Scenario(node, vhost, run, proxy);
  }

  /** The broker's and the apps' state, for the log of a scenario that failed. */
  async diagnose(): Promise<string> {
    const ctl = (args: string[]) => this.node.ctl(args).catch((err: unknown) => `(${(err as Error).message})`);
    return [
      `[${this.run.options.scenario}] did not finish; state at the end:`,
      await ctl([
        'list_queues',
        '-p',
        this.vhost.name,
        'name',
        'type',
        'messages',
        'messages_ready',
        'messages_unacknowledged',
        'consumers',
      ]),
      await ctl(['list_consumers', '-p', this.vhost.name]),
      await ctl([
        'list_channels',
        'connection',
        'number',
        'consumer_count',
        'messages_unacknowledged',
        'messages_unconfirmed',
        'prefetch_count',
        'state',
      ]),
      this.run.describeApps(),
    ].join('\n');
  }

  /**
   * Kills what the scenario left running, brings the node back if the scenario left it
   * down, and deletes the vhost. A scenario that failed before recording its books still
   * gets a row, marked as such.
   */
  async close(): Promise<void> {
    if (!this.run.isRecorded) process.stderr.write(`${await this.diagnose()}\n`);
    this.run.recordUnfinished();
    await this.run.dispose();
    await this.proxy?.close();
    await ensureNodeUp(this.node);
    await this.vhost.dispose();
  }
}
