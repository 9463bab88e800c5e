import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a command and resolves with its stdout; rejects (with its stderr in the message) when it fails. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

const runCommand: CommandRunner = async (file, args) => {
  try {
    return (await exec(file, [...args], { timeout: 30_000 })).stdout;
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    const detail = (stderr ?? '').trim().split('\n')[0] ?? '';
    throw new Error(`${file} ${args.join(' ')}: ${detail !== '' ? detail : (err as Error).message}`, { cause: err });
  }
};

/** The rate of an htb class that does not slow anything (a bridge is faster than the machine). */
const FULL_SPEED = '10gbit';

/** Where the network lives, so that a later process can find (and remove) it. */
export interface NetnsNetworkDescriptor {
  /** Starts every namespace, link and directory of the network: the sweep removes what has it. */
  readonly prefix: string;
  /** The first three octets of the private /24 (`10.213.0`): the bridge is .1, node i is .(11 + i). */
  readonly subnet: string;
  /** How many node namespaces. */
  readonly size: number;
}

export interface NetnsNetworkOptions {
  /** @default 'hrp' (hello-rabbit partitions); at most 8 characters (Linux names a link in 15). */
  readonly prefix?: string;
  /** A /24 that exists only on this machine, inside the namespaces. @default '10.213.0' */
  readonly subnet?: string;
  /** @default 3 */
  readonly size?: number;
  /** @default runs the command (tests inject one) */
  readonly runner?: CommandRunner;
}

/**
 * Why this machine cannot build a NetnsNetwork, in one line, or undefined when it can. It
 * needs Linux, root (creating namespaces and links is CAP_NET_ADMIN), `ip` (iproute2) and
 * `tc`, and a kernel that lets it create a network namespace (some containers do not).
 */
export async function netnsUnavailable(
  options: { runner?: CommandRunner; uid?: number | undefined; platform?: NodeJS.Platform; prefix?: string } = {},
): Promise<string | undefined> {
  const { runner = runCommand, uid = process.getuid?.(), platform = process.platform, prefix = 'hrp' } = options;
  const why = 'the partition suite puts each RabbitMQ node in a network namespace of its own';
  if (platform !== 'linux') return `${why}, which needs Linux (this is ${platform})`;
  if (uid !== 0)
    return `${why}, which needs root (run it as root, as CI does; this process runs as uid ${String(uid)})`;
  for (const [tool, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['tc', ['-V'], 'iproute2'],
  ] as const) {
    try {
      await runner(tool, args);
    } catch (err) {
      return `${why}, which needs \`${tool}\` (${pkg}): ${oneLine(err)}`;
    }
  }
  const probe = `${prefix}-probe`;
  try {
    await runner('ip', ['netns', 'add', probe]);
  } catch (err) {
    return `${why}, and this machine refuses to create one: ${oneLine(err)}`;
  }
  await runner('ip', ['netns', 'del', probe]).catch(() => undefined);
  return undefined;
}

/** Throws an Error whose message is netnsUnavailable's one line, when there is one. */
export async function requireNetns(options: Parameters<typeof netnsUnavailable>[0] = {}): Promise<void> {
  const reason = await netnsUnavailable(options);
  if (reason !== undefined) throw new Error(reason);
}

function oneLine(err: unknown): string {
  return ((err as Error).message.split('\n')[0] ?? '').trim();
}

/**
 * A private network on this machine for a cluster whose nodes can be cut off from each
 * other for real: a bridge in the root namespace (`<prefix>-br0`, address `<subnet>.1`),
 * and per node a network namespace `<prefix>-n<i>` joined to it by a veth pair
 * (`<prefix>-v<i>` on the bridge, `<prefix>-e<i>` inside, address `<subnet>.1<i>`), its
 * `lo` up. Processes outside the namespaces (the apps) reach every node over the bridge.
 *
 * The faults it makes are the kernel's, no proxy in the way:
 * - `isolate(i)`: node i's link on the bridge down, a cable pulled (the node loses the
 *   other nodes AND its clients; packets vanish, a new connection to it fails once ARP
 *   gives up, "no route to host");
 * - `cut(i, j)`: a blackhole route each way between two nodes' addresses, so that only
 *   the link between those two nodes is gone (the clients keep both);
 * - `slowClients(i, kbit)`: an htb class for the traffic from the bridge's address (the
 *   apps) to node i, so that a run lasts long enough for a fault to land mid-run.
 *
 * Everything it creates carries the prefix; `NetnsNetwork.sweep(prefix)` removes all of it
 * (and kills what runs inside its namespaces), at the start of a run and at its end.
 */
export class NetnsNetwork {
  private constructor(
    readonly descriptor: NetnsNetworkDescriptor,
    private readonly runner: CommandRunner,
  ) {}

  /** Sweeps what an earlier run left under the prefix, then builds the network. Needs root. */
  static async create(options: NetnsNetworkOptions = {}): Promise<NetnsNetwork> {
    const { prefix = 'hrp', subnet = '10.213.0', size = 3, runner = runCommand } = options;
    if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix))
      throw new RangeError(`prefix '${prefix}': 1 to 8 lower-case letters and digits`);
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(subnet))
      throw new RangeError(`subnet '${subnet}': three octets, e.g. 10.213.0`);
    if (!Number.isInteger(size) || size < 1 || size > 9) throw new RangeError('from 1 to 9 nodes');
    await NetnsNetwork.sweep(prefix, runner);
    const network = new NetnsNetwork({ prefix, subnet, size }, runner);
    try {
      await network.build();
    } catch (err) {
      await NetnsNetwork.sweep(prefix, runner);
      throw err;
    }
    return network;
  }

  /** The network another process built. */
  static attach(descriptor: NetnsNetworkDescriptor, runner: CommandRunner = runCommand): NetnsNetwork {
    return new NetnsNetwork(descriptor, runner);
  }

  /** The directory for the nodes' files: the sweep removes it too. */
  static dirOf(prefix: string): string {
    return path.join(tmpdir(), `hello-rabbit-netns-${prefix}`);
  }

  /**
   * Removes everything of an earlier network with this prefix: kills every process in its
   * namespaces (the nodes, their epmd), deletes the namespaces and links whose names start
   * with `<prefix>-`, and its directory. Safe when there is nothing to remove.
   */
  static async sweep(prefix: string, runner: CommandRunner = runCommand): Promise<string[]> {
    const removed: string[] = [];
    const mine = (name: string) => name.startsWith(`${prefix}-`);
    const namespaces = (await runner('ip', ['netns', 'list']).catch(() => ''))
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter(mine);
    for (const ns of namespaces) {
      for (let round = 0; round < 20; round++) {
        const pids = await namespacePids(ns, runner);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await runner('ip', ['netns', 'del', ns]).catch(() => undefined);
      removed.push(`netns ${ns}`);
    }
    for (const link of await linkNames(runner)) {
      if (!mine(link)) continue;
      await runner('ip', ['link', 'del', link]).catch(() => undefined);
      removed.push(`link ${link}`);
    }
    rmSync(NetnsNetwork.dirOf(prefix), { recursive: true, force: true });
    return removed;
  }

  /**
   * The same sweep, synchronous: for a process that is exiting (SIGINT, SIGTERM, an
   * uncaught error), where nothing asynchronous runs any more.
   */
  static sweepSync(prefix: string): void {
    const run = (args: string[]) => {
      try {
        return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
      } catch {
        return '';
      }
    };
    const mine = (name: string) => name.startsWith(`${prefix}-`);
    for (const ns of run(['netns', 'list'])
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter(mine)) {
      for (const pid of run(['netns', 'pids', ns])
        .split(/\s+/)
        .filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
      run(['netns', 'del', ns]);
    }
    for (const link of parseLinkNames(run(['-o', 'link', 'show'])).filter(mine)) run(['link', 'del', link]);
    rmSync(NetnsNetwork.dirOf(prefix), { recursive: true, force: true });
  }

  get prefix(): string {
    return this.descriptor.prefix;
  }

  get size(): number {
    return this.descriptor.size;
  }

  get bridge(): string {
    return `${this.prefix}-br0`;
  }

  /** The bridge's address: where the apps' connections to the nodes come from. */
  get gateway(): string {
    return `${this.descriptor.subnet}.1`;
  }

  /** Node i's namespace (i from 0). */
  namespace(i: number): string {
    return `${this.prefix}-n${this.index(i) + 1}`;
  }

  /** Node i's address. */
  address(i: number): string {
    return `${this.descriptor.subnet}.${11 + this.index(i)}`;
  }

  /** The bridge's end of node i's veth pair (its cable). */
  hostLink(i: number): string {
    return `${this.prefix}-v${this.index(i) + 1}`;
  }

  /** The namespace's end of node i's veth pair. */
  nodeLink(i: number): string {
    return `${this.prefix}-e${this.index(i) + 1}`;
  }

  /** The directory for the nodes' files (removed by the sweep). */
  get dir(): string {
    return NetnsNetwork.dirOf(this.prefix);
  }

  /** Node i's cable pulled: its link on the bridge down. It loses every node and every client. */
  async isolate(i: number): Promise<void> {
    await this.ip(['link', 'set', this.hostLink(i), 'down']);
  }

  /** Node i's cable back in. */
  async reconnect(i: number): Promise<void> {
    await this.ip(['link', 'set', this.hostLink(i), 'up']);
  }

  /** Whether node i's link on the bridge is up. */
  async isConnected(i: number): Promise<boolean> {
    const out = await this.ip(['-o', 'link', 'show', this.hostLink(i)]);
    return /[<,]UP[,>]/.test(out);
  }

  /**
   * The link between nodes i and j gone, both ways (a blackhole route in each namespace
   * to the other's address): packets between them vanish, the clients keep both.
   */
  async cut(i: number, j: number): Promise<void> {
    if (this.index(i) === this.index(j)) throw new RangeError('a node is not cut from itself');
    await this.ip(['-n', this.namespace(i), 'route', 'replace', 'blackhole', `${this.address(j)}/32`]);
    await this.ip(['-n', this.namespace(j), 'route', 'replace', 'blackhole', `${this.address(i)}/32`]);
  }

  /** Cuts every link between the nodes of `side` and the others (the clients keep all of them). */
  async split(side: readonly number[]): Promise<void> {
    for (const i of side) {
      for (let j = 0; j < this.size; j++) if (!side.includes(j)) await this.cut(i, j);
    }
  }

  /** Every cut undone, every cable back in (the slowed client links stay slow). */
  async heal(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      await this.reconnect(i);
      const routes = await this.ip(['-n', this.namespace(i), 'route', 'show', 'type', 'blackhole']);
      for (const line of routes.split('\n')) {
        const target = line.trim().split(/\s+/)[1];
        if (target !== undefined && target !== '')
          await this.ip(['-n', this.namespace(i), 'route', 'del', 'blackhole', target]).catch(() => undefined);
      }
    }
  }

  /**
   * Slows the traffic from the apps (the bridge's address) to node i to `kbit` kbit/s (an
   * htb class on the bridge's end of its link, chosen by a u32 filter on the source
   * address); the nodes' own traffic to each other keeps full speed. 0 removes it.
   */
  async slowClients(i: number, kbit: number): Promise<void> {
    const dev = this.hostLink(i);
    await this.runner('tc', ['qdisc', 'del', 'dev', dev, 'root']).catch(() => undefined);
    if (kbit <= 0) return;
    await this.htbRoot(dev, 20);
    await this.htbClass('add', dev, 10, `${kbit}kbit`);
    await this.htbClass('add', dev, 20, FULL_SPEED);
    await this.runner('tc', [
      ...['filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ip', 'prio', '1'],
      ...['u32', 'match', 'ip', 'src', `${this.gateway}/32`, 'flowid', '1:10'],
    ]);
  }

  /**
   * Node i's whole link (both ways, the other nodes' traffic too) squeezed to `kbit`
   * kbit/s: an htb class on each end, whose queue delays packets and drops what overflows
   * it. This machine's kernel has no netem (`tc qdisc add ... netem` answers "Specified qdisc
   * kind is unknown"), so loss and delay come from a narrow link, not a random draw.
   * 0 removes it (the slowed client traffic stays as `slowClients` set it).
   */
  async impair(i: number, kbit: number): Promise<void> {
    const host = this.hostLink(i);
    const ns = this.namespace(i);
    await this.runner('tc', ['-n', ns, 'qdisc', 'del', 'dev', this.nodeLink(i), 'root']).catch(() => undefined);
    const hasRoot = (await this.runner('tc', ['qdisc', 'show', 'dev', host])).includes('htb 1:');
    if (kbit <= 0) {
      if (hasRoot) await this.htbClass('change', host, 20, FULL_SPEED);
      return;
    }
    if (!hasRoot) await this.slowClients(i, 10_000_000);
    await this.htbClass('change', host, 20, `${kbit}kbit`);
    await this.htbRoot(this.nodeLink(i), 10, ns);
    await this.htbClass('add', this.nodeLink(i), 10, `${kbit}kbit`, ns);
  }

  /** An htb root qdisc `1:` on `dev` (in namespace `ns` when given), unclassified traffic to `1:<defaultMinor>`. */
  private async htbRoot(dev: string, defaultMinor: number, ns?: string): Promise<void> {
    const where = ns === undefined ? [] : ['-n', ns];
    await this.runner('tc', [
      ...where,
      'qdisc',
      'add',
      'dev',
      dev,
      'root',
      'handle',
      '1:',
      'htb',
      'default',
      `${defaultMinor}`,
    ]);
  }

  /**
   * `tc class add|change` of the htb class `1:<minor>` under the root `1:` of `dev` (in
   * namespace `ns` when given), at `rate`; a narrowed class gets the same ceiling, so it
   * never borrows, while FULL_SPEED leaves the ceiling to htb (the rate).
   */
  private async htbClass(verb: 'add' | 'change', dev: string, minor: number, rate: string, ns?: string): Promise<void> {
    const where = ns === undefined ? [] : ['-n', ns];
    const ceil = rate === FULL_SPEED ? [] : ['ceil', rate];
    await this.runner('tc', [
      ...[...where, 'class', verb, 'dev', dev, 'parent', '1:', 'classid', `1:${minor}`],
      ...['htb', 'rate', rate, ...ceil],
    ]);
  }

  /** Removes the network (see `sweep`): every process in its namespaces is killed. */
  async destroy(): Promise<void> {
    await NetnsNetwork.sweep(this.prefix, this.runner);
  }

  private async build(): Promise<void> {
    await this.ip(['link', 'add', this.bridge, 'type', 'bridge']);
    await this.ip(['addr', 'add', `${this.gateway}/24`, 'dev', this.bridge]);
    await this.ip(['link', 'set', this.bridge, 'up']);
    for (let i = 0; i < this.size; i++) {
      const ns = this.namespace(i);
      await this.ip(['netns', 'add', ns]);
      await this.ip(['link', 'add', this.hostLink(i), 'type', 'veth', 'peer', 'name', this.nodeLink(i)]);
      await this.ip(['link', 'set', this.nodeLink(i), 'netns', ns]);
      await this.ip(['link', 'set', this.hostLink(i), 'master', this.bridge]);
      await this.ip(['link', 'set', this.hostLink(i), 'up']);
      await this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await this.ip(['-n', ns, 'addr', 'add', `${this.address(i)}/24`, 'dev', this.nodeLink(i)]);
      await this.ip(['-n', ns, 'link', 'set', this.nodeLink(i), 'up']);
    }
  }

  private index(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size)
      throw new RangeError(`node ${i}: the network has nodes 0 to ${this.size - 1}`);
    return i;
  }

  private ip(args: readonly string[]): Promise<string> {
    return this.runner('ip', args);
  }
}

async function namespacePids(ns: string, runner: CommandRunner): Promise<number[]> {
  const out = await runner('ip', ['netns', 'pids', ns]).catch(() => '');
  return out
    .split(/\s+/)
    .filter((pid) => /^\d+$/.test(pid))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

async function linkNames(runner: CommandRunner): Promise<string[]> {
  return parseLinkNames(await runner('ip', ['-o', 'link', 'show']).catch(() => ''));
}

/** The names in `ip -o link show`'s lines (`7: hrp-v1@if8: <...>` gives `hrp-v1`). */
export function parseLinkNames(out: string): string[] {
  return out
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}
