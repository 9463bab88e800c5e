import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { isAlive } from './process.js';

const run = promisify(execFile);

/**
 * Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq user and drops our
 * environment (our HOME, ports and paths), so the real scripts are called directly.
 */
const RABBITMQ_BIN = process.env.RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin';
/** RabbitMQ's own rule: a node's Erlang distribution port is its AMQP port + 20000. */
const DIST_PORT_OFFSET = 20_000;
/** AMQP ports are picked here, so that the distribution port stays below 50000. */
const PORT_RANGE = { from: 20_000, to: 30_000 } as const;
const BOOT_TIMEOUT_MS = 120_000;
/** Where a node listens unless told otherwise (BootOptions.host). */
const LOOPBACK = '127.0.0.1';
/** An AMQP 0-9-1 server answers this header with a connection.start method frame (type 1). */
const AMQP_091_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** How a private node is set up, beyond the defaults. */
export interface BootOptions {
  /** Starts the node's name and temporary directory, e.g. `faults`. @default 'node' */
  readonly label?: string;
  /** More lines of `rabbitmq.conf` (a TLS listener, limits, ...). */
  readonly config?: readonly string[];
  /** Plugins to enable, e.g. `rabbitmq_management`. @default none */
  readonly plugins?: readonly string[] | undefined;
  /** A TLS (amqps) listener too, on a free port of its own (`tlsPort`). @default none */
  readonly tls?: TlsListenerOptions;
  /** The Erlang cookie: the nodes of one cluster share it. @default Erlang makes one */
  readonly cookie?: string;
  /**
   * The AMQP port, on the node's host (its distribution port is port + 20000).
   * @default a free port from 20000 to 29999 (5672 in a network namespace)
   */
  readonly port?: number;
  /** The Erlang node name. @default `<label>-<port>-<6 random hex digits>@localhost` */
  readonly name?: string;
  /**
   * Where the node's data, logs, Erlang cookie and pid file live: a directory that outlasts
   * the node (created if missing, never removed by the node: not on a failed boot, not by
   * `stop()`'s clean-up of leftovers). @default a new temporary directory, removed by `stop()`
   */
  readonly dir?: string;
  /** The directory holding rabbitmq-server and rabbitmqctl. @default $RABBITMQ_BIN, else /usr/lib/rabbitmq/bin */
  readonly bin?: string;
  /**
   * The address the node listens on (AMQP and Erlang distribution) and is reached at. Any
   * other than 127.0.0.1 makes the node use long names (`<name>@<address>`) and lets guest
   * log in from other addresses (`loopback_users = none`). @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * A network namespace (`ip netns`) to run the node and its rabbitmqctl in: the
   * partition suite's nodes (testkit's NetnsNetwork). Needs root. @default none
   */
  readonly netns?: string;
}

/** The TLS listener of a private node (`ssl_options` of rabbitmq.conf). */
export interface TlsListenerOptions {
  /** PEM file of the CAs that sign client certificates. */
  readonly cacertfile: string;
  /** PEM file of the node's certificate. */
  readonly certfile: string;
  /** PEM file of that certificate's private key. */
  readonly keyfile: string;
  /** Refuse a client without a certificate (mutual TLS). A certificate sent is always verified. @default false */
  readonly failIfNoPeerCert?: boolean;
}

/** Everything that identifies a private node; enough to reach it from another process. */
export interface NodeDescriptor {
  /** Erlang node name, unique per boot, e.g. `faults-23456-1a2b3c@localhost`. */
  readonly name: string;
  /** AMQP port, on the node's host only (127.0.0.1 unless `host` says otherwise). */
  readonly port: number;
  /** Erlang distribution port (port + 20000), on the node's host only. */
  readonly distPort: number;
  /** Temporary directory holding the node's data, logs, Erlang cookie and pid file. */
  readonly dir: string;
  /** The TLS (amqps) port, on 127.0.0.1 only, when the node has a TLS listener. */
  readonly tlsPort?: number | undefined;
  /** The directory holding rabbitmq-server and rabbitmqctl. @default $RABBITMQ_BIN, else /usr/lib/rabbitmq/bin */
  readonly bin?: string | undefined;
  /** `dir` belongs to the caller (BootOptions.dir): `stop()` leaves it in place. @default false */
  readonly keepDir?: boolean;
  /** The address the node listens on and is reached at (BootOptions.host). @default '127.0.0.1' */
  readonly host?: string;
  /** The network namespace the node runs in (BootOptions.netns). @default none */
  readonly netns?: string | undefined;
}

/** A private node that did not come up. */
export class NodeBootError extends Error {
  override readonly name = 'NodeBootError';

  constructor(
    message: string,
    /** `stopped`: its processes went away while it booted; `timeout`: it did not answer in time. */
    readonly code: 'stopped' | 'timeout',
    /** The node's log directory (its `server.out` holds rabbitmq-server's own output). */
    readonly logDir: string,
    /**
     * How rabbitmq-server ended, when it did with an exit code other than 0, a signal or a
     * spawn error (its script exits 0 even when the VM fails to boot, so 0 says nothing).
     */
    readonly exit?: string,
  ) {
    super(message);
  }
}

/**
 * A throwaway RabbitMQ node of its own, on free ports, with everything under a temporary
 * directory: never the shared broker on 5672. The node keeps RabbitMQ's defaults (user
 * guest, who may log in from loopback only; vhost "/"; no plugins).
 *
 * Every method works from any process that knows the descriptor (vitest's global setup
 * boots the node, test files bounce, crash and restart it).
 */
export class RabbitNode {
  private constructor(readonly descriptor: NodeDescriptor) {}

  /** Boots a new node (on free ports, unless `options` names them); resolves once it answers AMQP. Takes 5 to 30 s. */
  static async boot(options: BootOptions = {}): Promise<RabbitNode> {
    const label = options.label ?? 'node';
    const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), `hello-rabbit-${label}-`)));
    const host = options.host ?? LOOPBACK;
    // In a network namespace of its own, every port is free: RabbitMQ's defaults.
    const port = options.port ?? (options.netns === undefined ? await freePortPair() : 5672);
    const tlsPort = options.tls === undefined ? undefined : await freePort([port, port + DIST_PORT_OFFSET]);
    const node = new RabbitNode({
      name:
        options.name ?? `${label}-${port}-${randomBytes(3).toString('hex')}@${host === LOOPBACK ? 'localhost' : host}`,
      port,
      distPort: port + DIST_PORT_OFFSET,
      dir,
      tlsPort,
      bin: options.bin,
      ...(options.dir === undefined ? {} : { keepDir: true }),
      ...(host === LOOPBACK ? {} : { host }),
      netns: options.netns,
    });
    node.writeFiles(options);
    try {
      await node.launch();
    } catch (err) {
      await node.stop();
      throw err;
    }
    return node;
  }

  /** The node another process booted. */
  static attach(descriptor: NodeDescriptor): RabbitNode {
    return new RabbitNode(descriptor);
  }

  get name(): string {
    return this.descriptor.name;
  }

  get port(): number {
    return this.descriptor.port;
  }

  /** The address the node listens on and is reached at. */
  get host(): string {
    return this.descriptor.host ?? LOOPBACK;
  }

  /** The pid file, which the node writes once its VM runs and removes when it stops cleanly. */
  get pidFile(): string {
    return path.join(this.descriptor.dir, 'pid');
  }

  /** The node's log directory. */
  get logDir(): string {
    return path.join(this.descriptor.dir, 'log');
  }

  /** The last `lines` lines of the node's own log (`<node name>.log`), for a failure's message. */
  logTail(lines = 15): string {
    try {
      const text = readFileSync(path.join(this.logDir, `${this.name}.log`), 'utf8');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return `(no log at ${path.join(this.logDir, `${this.name}.log`)})`;
    }
  }

  private get bin(): string {
    return this.descriptor.bin ?? RABBITMQ_BIN;
  }

  /** AMQP URL for a vhost of this node, as user guest. */
  url(vhost = '/', port = this.port): string {
    return `amqp://guest:guest@${this.host}:${port}/${encodeURIComponent(vhost)}`;
  }

  /** The TLS port; throws when the node was booted without a TLS listener. */
  get tlsPort(): number {
    const { tlsPort } = this.descriptor;
    if (tlsPort === undefined) throw new Error(`${this.name} has no TLS listener (boot it with the tls option)`);
    return tlsPort;
  }

  /**
   * amqps URL of the TLS listener for a vhost, as user guest, by a host name (the
   * listener is on 127.0.0.1: `localhost` reaches it). @default host 'localhost'
   */
  amqpsUrl(vhost = '/', host = 'localhost'): string {
    return `amqps://guest:guest@${host}:${this.tlsPort}/${encodeURIComponent(vhost)}`;
  }

  /**
   * Opens a connection to a vhost as `user` and a channel, runs `fn`, closes both. The
   * password is handed to amqplib as it is, not through a URL (amqplib decodes a URL's
   * password with `unescape`, which mangles anything beyond ASCII).
   */
  async withChannelAs<T>(
    login: { readonly user: string; readonly password: string; readonly vhost?: string },
    fn: (channel: amqplib.Channel) => Promise<T>,
  ): Promise<T> {
    const connection = await amqplib.connect(
      { protocol: 'amqp', hostname: this.host, port: this.port, vhost: login.vhost ?? '/' },
      {
        timeout: 5000,
        credentials: { mechanism: 'PLAIN', response: () => Buffer.from(`\0${login.user}\0${login.password}`, 'utf8') },
      },
    );
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      return await fn(channel);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  /** Runs `rabbitmqctl -n <node> ...args` and returns its stdout. */
  async ctl(args: readonly string[], timeoutMs = 90_000): Promise<string> {
    try {
      const [file, ...prefix] = this.inNetns(path.join(this.bin, 'rabbitmqctl'));
      const { stdout } = await run(file, [...prefix, '-n', this.name, ...args], {
        env: this.env(),
        timeout: timeoutMs,
      });
      return stdout;
    } catch (err) {
      throw new Error(`rabbitmqctl -n ${this.name} ${args.join(' ')} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** A fresh vhost, guest with full rights on it. */
  async addVhost(label: string): Promise<{ name: string; url: string; dispose(): Promise<void> }> {
    const name = `${label}-${randomBytes(3).toString('hex')}`;
    await this.ctl(['add_vhost', name]);
    await this.ctl(['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
    return {
      name,
      url: this.url(name),
      dispose: async () => {
        await this.ctl(['delete_vhost', name]);
      },
    };
  }

  /** `rabbitmqctl stop_app`: the broker application stops, every connection is closed; the VM stays. */
  async stopApp(): Promise<void> {
    await this.ctl(['stop_app']);
  }

  /**
   * `stop_app` at the moment the test chooses. rabbitmqctl takes a few hundred ms to start,
   * too long to land a stop at a precise point of a fast run; so this starts it now
   * (`rabbitmqctl eval`), connected to the node and waiting, and `fire()` makes it run what
   * `rabbitmqctl stop_app` runs (`rabbit:stop()`) within a few ms. `fire()` resolves once
   * the broker application has stopped.
   */
  async armStopApp(timeoutMs = 120_000): Promise<{ fire(): Promise<void> }> {
    const id = randomBytes(4).toString('hex');
    const armed = path.join(this.descriptor.dir, `stop-app-${id}.armed`);
    const go = path.join(this.descriptor.dir, `stop-app-${id}.go`);
    const polls = Math.ceil(timeoutMs / 2);
    const expression =
      `ok = file:write_file("${armed}", <<>>), ` +
      `Wait = fun W(0) -> not_fired; W(N) -> case filelib:is_file("${go}") of ` +
      `true -> rabbit:stop(); false -> timer:sleep(2), W(N - 1) end end, Wait(${polls}).`;
    const result = this.ctl(['eval', expression], timeoutMs + 60_000);
    result.catch(() => undefined);
    const deadline = Date.now() + 60_000;
    while (!existsSync(armed)) {
      if (Date.now() > deadline) throw new Error(`rabbitmqctl eval did not reach ${this.name} within 60 s`);
      await Promise.race([sleep(10), result]);
    }
    return {
      fire: async () => {
        writeFileSync(go, '');
        const outcome = (await result).trim();
        if (outcome !== 'ok') throw new Error(`the armed stop_app of ${this.name} answered ${outcome}`);
      },
    };
  }

  /** `rabbitmqctl start_app`; resolves once the node answers AMQP again. */
  async startApp(): Promise<void> {
    await this.ctl(['start_app']);
    await this.waitUntilAnswering();
  }

  /** The Erlang VM's pid, from the pid file, when that process is alive. */
  pid(): number | undefined {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  }

  /** `kill -9` of the Erlang VM: a crash, no clean shutdown; resolves once it is gone. */
  async kill9(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) throw new Error(`${this.name} has no live pid to kill`);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) throw new Error(`${this.name} (pid ${pid}) survived SIGKILL`);
    // The pid file is the node's "I am running" mark; a killed node leaves it behind.
    rmSync(this.pidFile, { force: true });
  }

  /** Starts the node again on the same data directory (after kill9 or stop). */
  async restart(): Promise<void> {
    if (this.pid() !== undefined) throw new Error(`${this.name} is still running`);
    await this.launch();
  }

  /** Whether the node answers AMQP now. */
  async isAnswering(): Promise<boolean> {
    return (await probeAmqp(this.port, 2000, this.host)) === 'amqp';
  }

  /**
   * Resolves once the node answers AMQP: for a node that another process is booting.
   * @throws NodeBootError when its VM is gone (no live pid), or after 120 s.
   */
  async whenAnswering(): Promise<void> {
    await this.waitUntilAnswering(() => this.pid() === undefined);
  }

  /**
   * `rabbitmqctl stop <pid file>`: the node stops cleanly, its data stays (`restart()`
   * boots it again); resolves once its VM has exited.
   * @throws when rabbitmqctl fails (the error's `cause` is execFile's, with its output).
   */
  async shutdown(timeoutMs = 120_000): Promise<void> {
    await this.ctl(['stop', this.pidFile], timeoutMs);
  }

  /**
   * Stops the node (rabbitmqctl stop), kills -9 whatever of it is left, removes its
   * directory (unless it was the caller's: `BootOptions.dir`). Safe to call more than
   * once, and on a node that is already gone.
   */
  async stop(): Promise<void> {
    if (this.pid() !== undefined) {
      await this.ctl(['stop', this.pidFile], 60_000).catch(() => undefined);
    }
    for (const pid of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && this.processes().length > 0; i++) await sleep(100);
    if (this.descriptor.keepDir !== true)
      rmSync(this.descriptor.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }

  /**
   * The processes of this node still alive (the server script, the VM and its helpers),
   * found by the node name in their environment. epmd is shared by every node on the
   * machine and is never one of them.
   */
  processes(): number[] {
    const mark = `RABBITMQ_NODENAME=${this.name}`;
    const found: number[] = [];
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return found; // no /proc (macOS): rabbitmqctl stop is all there is
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (comm === 'epmd') continue;
        const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
        if (environ.includes(mark)) found.push(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }
    return found;
  }

  /** A command line, run in the node's network namespace when it has one (`ip netns exec`). */
  private inNetns(command: string): [string, ...string[]] {
    const { netns } = this.descriptor;
    return netns === undefined ? [command] : ['ip', 'netns', 'exec', netns, command];
  }

  private env(): NodeJS.ProcessEnv {
    const { dir, name, port, distPort } = this.descriptor;
    const longNames = this.host !== LOOPBACK;
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RABBITMQ_')));
    return {
      ...inherited,
      // The Erlang cookie lives in HOME; rabbitmqctl needs the same one to reach the node.
      HOME: path.join(dir, 'home'),
      RABBITMQ_NODENAME: name,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: this.logDir,
      RABBITMQ_PID_FILE: this.pidFile,
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      // An empty file, so that the system's rabbitmq-env.conf (the shared node's) is not read.
      RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
      // Erlang distribution on the node's address only (loopback, unless told otherwise).
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-kernel inet_dist_use_interface {${this.host.split('.').join(',')}}`,
      // A node named by its address (`name@10.213.0.11`) needs long names, its rabbitmqctl too.
      ...(longNames ? { RABBITMQ_USE_LONGNAME: 'true' } : {}),
    };
  }

  private writeFiles(options: BootOptions): void {
    const { dir, port } = this.descriptor;
    for (const sub of ['home', 'mnesia', 'log']) mkdirSync(path.join(dir, sub), { recursive: true });
    writeFileSync(
      path.join(dir, 'rabbitmq.conf'),
      [
        "# A throwaway node, written by @hello-rabbit/testkit's RabbitNode.",
        `listeners.tcp.default = ${this.host}:${port}`,
        // guest may log in from loopback only, by default: a node reached at another address lets it in from anywhere.
        ...(this.host === LOOPBACK ? [] : ['loopback_users = none']),
        // The tests fill the disk with a few tens of MB of messages at most.
        'disk_free_limit.absolute = 50MB',
        ...(this.descriptor.tlsPort === undefined || options.tls === undefined
          ? []
          : [
              `listeners.ssl.default = 127.0.0.1:${this.descriptor.tlsPort}`,
              `ssl_options.cacertfile = ${options.tls.cacertfile}`,
              `ssl_options.certfile = ${options.tls.certfile}`,
              `ssl_options.keyfile = ${options.tls.keyfile}`,
              // A client certificate, when one is sent, must chain up to cacertfile.
              'ssl_options.verify = verify_peer',
              `ssl_options.fail_if_no_peer_cert = ${options.tls.failIfNoPeerCert === true ? 'true' : 'false'}`,
            ]),
        ...(options.config ?? []),
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'enabled_plugins'), `[${(options.plugins ?? []).join(',')}].\n`);
    // Erlang refuses a cookie file that others may read.
    if (options.cookie !== undefined)
      writeFileSync(path.join(dir, 'home', '.erlang.cookie'), options.cookie, { mode: 0o400 });
    writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
  }

  /**
   * Runs rabbitmq-server in the foreground, in a session of its own so that it outlives the
   * process that started it (a test file's worker), then waits until it answers AMQP. The
   * wrapper script exits 0 even when the VM fails to boot, so its exit only means "gone".
   */
  private async launch(): Promise<void> {
    const out = openSync(path.join(this.logDir, 'server.out'), 'a');
    let exited = false;
    let exit: string | undefined;
    try {
      const [file, ...args] = this.inNetns(path.join(this.bin, 'rabbitmq-server'));
      const child = spawn(file, args, {
        cwd: this.descriptor.dir,
        env: this.env(),
        detached: true,
        stdio: ['ignore', out, out],
      });
      child.once('exit', (code, signal) => {
        exited = true;
        exit = code !== null && code !== 0 ? `exit code ${code}` : (signal ?? undefined);
      });
      child.once('error', (err) => {
        exited = true;
        exit = err.message;
      });
      child.unref();
    } finally {
      closeSync(out);
    }
    await this.waitUntilAnswering(
      () => exited,
      () => exit,
    );
  }

  private async waitUntilAnswering(
    gone: () => boolean = () => false,
    exit: () => string | undefined = () => undefined,
  ): Promise<void> {
    const started = Date.now();
    for (;;) {
      if ((await probeAmqp(this.port, 2000, this.host)) === 'amqp') return;
      if (gone())
        throw new NodeBootError(
          `${this.name} stopped while booting; see ${this.bootLog()}`,
          'stopped',
          this.logDir,
          exit(),
        );
      if (Date.now() - started > BOOT_TIMEOUT_MS) {
        throw new NodeBootError(
          `${this.name} did not answer on port ${this.port} within ${BOOT_TIMEOUT_MS / 1000} s; see ${this.bootLog()}`,
          'timeout',
          this.logDir,
        );
      }
      await sleep(250);
    }
  }

  private bootLog(): string {
    const file = path.join(this.logDir, 'server.out');
    const tail = existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-20).join('\n') : '(no output)';
    return `${file}:\n${tail}`;
  }
}

/**
 * 'amqp' when an AMQP 0-9-1 server answers the protocol header with a method frame,
 * 'none' when nothing does (refused, or no answer in time), 'other' otherwise.
 */
export function probeAmqp(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<'amqp' | 'none' | 'other'> {
  return new Promise((resolve) => {
    let connected = false;
    const socket = net.connect({ host, port });
    const finish = (result: 'amqp' | 'none' | 'other') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish(connected ? 'other' : 'none');
    }, timeoutMs);
    socket.once('connect', () => {
      connected = true;
      socket.write(AMQP_091_HEADER);
    });
    socket.once('data', (chunk: Buffer) => {
      finish(chunk[0] === 1 ? 'amqp' : 'other');
    });
    socket.once('end', () => {
      finish(connected ? 'other' : 'none');
    });
    socket.once('error', () => {
      finish('none');
    });
  });
}

/** Whether a TCP port on 127.0.0.1 can be listened on now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** A port free on 127.0.0.1, in the range of AMQP ports, other than those given. */
async function freePort(taken: readonly number[]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (!taken.includes(port) && (await isPortFree(port))) return port;
  }
  throw new Error('no free port for a TLS listener');
}

/** A port P free on 127.0.0.1 whose distribution port P + 20000 is free too. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if ((await isPortFree(port)) && (await isPortFree(port + DIST_PORT_OFFSET))) return port;
  }
  throw new Error(`no free pair of ports (P, P + ${DIST_PORT_OFFSET}) for a RabbitMQ node`);
}
