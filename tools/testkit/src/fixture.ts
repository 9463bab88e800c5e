import { afterAll, afterEach, beforeAll } from 'vitest';
import { spawnApp, type AppName, type AppOptions } from './app.js';
import { requireBroker, withChannel } from './broker.js';
import { RunningProcess, type ProcessOptions } from './process.js';
import { TcpProxy, type TcpProxyOptions } from './tcp-proxy.js';
import { createTestVhost, type TestVhost } from './vhost.js';

/** A test file's own corner of the broker, and the processes its tests start. */
export interface BrokerFixture {
  /** AMQP_URL of the file's vhost (set once its `beforeAll` has run). */
  readonly url: string;
  /** Starts a process that is killed (SIGKILL) after the test, if still running. */
  start(command: string, args: readonly string[], options?: ProcessOptions): RunningProcess;
  /** Starts a built app, as `spawnApp` does; it is killed (SIGKILL) after the test, if still running. */
  spawnApp(app: AppName, args?: readonly string[], options?: AppOptions): RunningProcess;
}

/** What `useTestVhost` cleans up after each test. */
export interface FixtureOptions {
  /** Queues deleted after each test, so each test starts from a broker without them. */
  readonly queues?: readonly string[];
  /** Exchanges deleted after each test (tutorials 3 to 5 declare them). */
  readonly exchanges?: readonly string[];
}

/**
 * Registers, for the calling test file: a vhost of its own before all tests (failing with
 * a clear message when no broker answers), the clean-up after each test, and the vhost's
 * deletion after all of them.
 */
export function useTestVhost(label: string, options: FixtureOptions = {}): BrokerFixture {
  let vhost: TestVhost | undefined;
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    await requireBroker();
    vhost = await createTestVhost(label);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
    const queues = options.queues ?? [];
    const exchanges = options.exchanges ?? [];
    if (vhost !== undefined && queues.length + exchanges.length > 0) {
      await withChannel(vhost.url, async (channel) => {
        for (const queue of queues) await channel.deleteQueue(queue);
        for (const exchange of exchanges) await channel.deleteExchange(exchange);
      });
    }
  });
  afterAll(async () => {
    await vhost?.dispose();
  });

  return {
    get url() {
      if (vhost === undefined) throw new Error('the test vhost is made in beforeAll: use it inside a test or a hook');
      return vhost.url;
    },
    start(command, args, processOptions) {
      const p = new RunningProcess(command, args, processOptions);
      running.push(p);
      return p;
    },
    spawnApp(app, args, appOptions) {
      const p = spawnApp(app, args, appOptions);
      running.push(p);
      return p;
    },
  };
}

/** The queues of the hello pattern and of the work queue, for `useTestVhost`'s clean-up. */
export const HELLO_QUEUES = ['hello', 'hello.dlq'] as const;
/** The queues of tutorial 6 (RPC). */
export const RPC_QUEUES = ['rpc_queue', 'rpc_queue.dlq'] as const;
/** The exchanges of tutorials 3 to 5. */
export const LOG_EXCHANGES = ['logs', 'direct_logs', 'topic_logs'] as const;
/** The queues of tutorial 2 (the work queue): task_queue, its dead letters and its retry steps. */
export const TASK_QUEUES = [
  'task_queue',
  'task_queue.dlq',
  'task_queue.retry.1',
  'task_queue.retry.2',
  'task_queue.retry.3',
] as const;

/** A proxy per test in front of a broker: see useTcpProxy. */
export interface ProxyFixture {
  /** Starts the proxy in front of the broker and gives the URL through it (login and vhost kept). */
  open(options?: TcpProxyOptions): Promise<string>;
  /** The proxy `open()` started in this test, to cut, restore or reset; undefined before. */
  readonly proxy: TcpProxy | undefined;
}

/**
 * A TcpProxy in front of the broker `amqpUrl()` names, for links a test must cut: each
 * test opens its own, and it is closed after the test.
 */
export function useTcpProxy(amqpUrl: () => string): ProxyFixture {
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  return {
    async open(options) {
      await proxy?.close();
      const through = await TcpProxy.inFrontOf(amqpUrl(), options);
      proxy = through.proxy;
      return through.url;
    },
    get proxy() {
      return proxy;
    },
  };
}
