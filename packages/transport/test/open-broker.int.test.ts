import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HELLO_QUEUES, inspectQueue, TASK_QUEUES, TcpProxy, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { BrokerError } from '../src/errors.js';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { createPublisher } from '../src/publisher.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('open-broker', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });
const opened: Broker[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((broker) => broker.shutdown()));
});

async function open(url = vhost.url, connectTimeoutMs = 5000, nodes?: readonly { host: string; port: number }[]) {
  const { logger, lines } = memoryLogger([endpointOf(url).password]);
  const endpoint = { ...endpointOf(url), nodes };
  const broker = await openBroker({ endpoint, connectionName: 'test', connectTimeoutMs, heartbeatSeconds: 1 }, logger);
  opened.push(broker);
  return { broker, lines };
}

/** Whether `queue` accepts this declaration (a 406 means it exists with other options). */
function declares(url: string, queue: string, options: object): Promise<boolean> {
  return withChannel(url, async (channel) => {
    channel.on('error', () => undefined);
    try {
      await channel.assertQueue(queue, options);
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === 406) return false;
      throw err;
    }
  });
}

describe('openBroker, when the queues do not exist', () => {
  it("declares 'hello' as the original tutorial does: classic, not durable", async () => {
    await open();
    expect(await inspectQueue(vhost.url, 'hello')).toBeDefined();
    // The exact declaration pika's queue_declare(queue='hello') makes is accepted...
    expect(await declares(vhost.url, 'hello', { durable: false, exclusive: false, autoDelete: false })).toBe(true);
    // ...and a durable one is not: the queue really is non-durable.
    expect(await declares(vhost.url, 'hello', { durable: true })).toBe(false);
  });

  it("declares the dead-letter queue 'hello.dlq' durable and quorum", async () => {
    await open();
    expect(await declares(vhost.url, 'hello.dlq', { durable: true, arguments: { 'x-queue-type': 'quorum' } })).toBe(
      true,
    );
  });
});

describe('openBroker, when the queues exist with other properties', () => {
  it("adopts a durable quorum 'hello', as the current tutorials declare it, instead of failing", async () => {
    await withChannel(vhost.url, (channel) =>
      channel.assertQueue('hello', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
    const { lines } = await open();
    expect(lines.join('\n')).toMatch(/queue 'hello' exists with other properties; using it as it is/);
    // Still the quorum queue it was.
    expect(await declares(vhost.url, 'hello', { durable: true, arguments: { 'x-queue-type': 'quorum' } })).toBe(true);
  });

  it('adopts a queue with arguments of its own (here a length limit)', async () => {
    await withChannel(vhost.url, (channel) =>
      channel.assertQueue('hello', { durable: false, arguments: { 'x-max-length': 5 } }),
    );
    await open();
    expect(await declares(vhost.url, 'hello', { durable: false, arguments: { 'x-max-length': 5 } })).toBe(true);
  });
});

describe('openBroker, when the broker cannot be used', () => {
  let silent: Server;
  let silentPort = 0;
  let chatty: Server;
  let chattyPort = 0;

  beforeAll(async () => {
    // One server that accepts connections and never answers, one that answers in HTTP.
    silent = createServer(() => undefined);
    chatty = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    silentPort = await listen(silent);
    chattyPort = await listen(chatty);
  });
  afterAll(() => {
    silent.close();
    chatty.close();
  });

  const failure = async (url: string, timeoutMs = 5000) => {
    const started = Date.now();
    let error: unknown = new Error('connected after all');
    try {
      await open(url, timeoutMs);
    } catch (err) {
      error = err;
    }
    if (!(error instanceof BrokerError)) throw new Error(`expected a BrokerError, got ${String(error)}`);
    return { error, elapsedMs: Date.now() - started };
  };

  it('reports wrong credentials without the password', async () => {
    const url = new URL(vhost.url);
    url.password = 'not-the-password';
    const { error } = await failure(url.toString());
    expect(error.code).toBe('ACCESS_REFUSED');
    expect(error.message).not.toContain('not-the-password');
  });

  it('reports a vhost that does not exist', async () => {
    const url = new URL(vhost.url);
    url.pathname = '/no-such-vhost';
    const { error } = await failure(url.toString());
    expect(error.code).toBe('VHOST_NOT_FOUND');
    expect(error.message).toContain("vhost 'no-such-vhost'");
  });

  it('reports a port where nothing listens', async () => {
    const closed = createServer();
    const port = await listen(closed);
    closed.close();
    const { error } = await failure(`amqp://guest:guest@127.0.0.1:${port}`);
    expect(error.code).toBe('BROKER_UNREACHABLE');
  });

  it('gives up on a server that never answers after the connect timeout, not later', async () => {
    const { error, elapsedMs } = await failure(`amqp://guest:guest@127.0.0.1:${silentPort}`, 1500);
    expect(error.code).toBe('CONNECT_TIMEOUT');
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('reports a server that does not speak AMQP', async () => {
    const { error } = await failure(`amqp://guest:guest@127.0.0.1:${chattyPort}`);
    expect(error.code).toBe('HANDSHAKE_FAILED');
  });
});

describe('openBroker on several nodes (AMQP_HOSTS)', () => {
  const brokerPort = () => Number(new URL(vhost.url).port || 5672);
  /** The `node` of each 'connected to the broker' log line, in order. */
  const connectedTo = (lines: readonly string[]) =>
    lines
      .map((line) => JSON.parse(line) as { msg: string; node?: string })
      .filter(
        (line) => line.msg === 'connected to the broker' || line.msg === 'connected to the broker; topology ready',
      )
      .map((line) => line.node);

  async function closedPort(): Promise<number> {
    const closed = createServer();
    const port = await listen(closed);
    closed.close();
    return port;
  }

  it('passes over a node that cannot be reached and connects to the next', async () => {
    const down = await closedPort();
    const { lines } = await open(vhost.url, 5000, [
      { host: '127.0.0.1', port: down },
      { host: '127.0.0.1', port: brokerPort() },
    ]);
    const log = lines.join('\n');
    expect(log).toContain(`"node":"127.0.0.1:${down}"`);
    expect(log).toContain('cannot reach this broker node; trying the next');
    expect(connectedTo(lines).at(-1)).toBe(`127.0.0.1:${brokerPort()}`);
  });

  it('moves to another node when its connection is lost, and publishes there', async () => {
    const proxy = await TcpProxy.start(brokerPort());
    try {
      const { broker, lines } = await open(vhost.url, 2000, [
        { host: '127.0.0.1', port: proxy.port },
        { host: '127.0.0.1', port: brokerPort() },
      ]);
      expect(connectedTo(lines)).toEqual([`127.0.0.1:${proxy.port}`]);
      const publisher = createPublisher(broker, { logger: memoryLogger().logger });
      expect(
        (await publisher.publish('task_queue', Buffer.from('before'), { messageId: 'm-1', timeoutMs: 5000 })).status,
      ).toBe('confirmed');

      // The first node goes away for good: its connection drops and it refuses new ones.
      await proxy.close();
      const deadline = Date.now() + 30_000;
      while (connectedTo(lines).length < 2 && Date.now() < deadline) await sleep(50);
      expect(lines.join('\n')).toContain('disconnected from the broker; reconnecting');
      expect(connectedTo(lines)).toEqual([`127.0.0.1:${proxy.port}`, `127.0.0.1:${brokerPort()}`]);

      // The publisher's channel came back with the connection, on the other node.
      let outcome = await publisher.publish('task_queue', Buffer.from('after'), { messageId: 'm-2', timeoutMs: 5000 });
      for (let i = 0; outcome.status !== 'confirmed' && i < 50; i++) {
        await sleep(100);
        outcome = await publisher.publish('task_queue', Buffer.from('after'), { messageId: 'm-2', timeoutMs: 5000 });
      }
      expect(outcome.status).toBe('confirmed');
      expect((await inspectQueue(vhost.url, 'task_queue'))?.messageCount).toBe(2);
      await publisher.close();
    } finally {
      await proxy.close().catch(() => undefined);
    }
  });

  it('tries the next node first after a loss: a node gone silent costs no connect timeout', async () => {
    const proxy = await TcpProxy.start(brokerPort());
    try {
      // A connect timeout far longer than the wait below: trying the silent node again
      // first would hold the reconnection for 30 s.
      const { lines } = await open(vhost.url, 30_000, [
        { host: '127.0.0.1', port: proxy.port },
        { host: '127.0.0.1', port: brokerPort() },
      ]);
      expect(connectedTo(lines)).toEqual([`127.0.0.1:${proxy.port}`]);
      // A black hole: the heartbeats (1 s) tell the connection is dead.
      proxy.cut();
      const deadline = Date.now() + 20_000;
      while (connectedTo(lines).length < 2 && Date.now() < deadline) await sleep(50);
      expect(connectedTo(lines)).toEqual([`127.0.0.1:${proxy.port}`, `127.0.0.1:${brokerPort()}`]);
    } finally {
      await proxy.close().catch(() => undefined);
    }
  });

  it('names every node when none can be reached', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    let error: unknown;
    try {
      await open(vhost.url, 2000, [
        { host: '127.0.0.1', port: a },
        { host: '127.0.0.1', port: b },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe('BROKER_UNREACHABLE');
    expect((error as BrokerError).message).toMatch(
      new RegExp(
        `^cannot reach any of the 2 broker nodes of AMQP_HOSTS: .*127\\.0\\.0\\.1:${a}.*; .*127\\.0\\.0\\.1:${b}`,
      ),
    );
  });

  it('stops at a wrong login instead of trying the other nodes (it would be wrong on every node)', async () => {
    const url = new URL(vhost.url);
    url.password = 'not-the-password';
    let error: unknown;
    const down = await closedPort();
    try {
      await open(url.toString(), 2000, [
        { host: '127.0.0.1', port: brokerPort() },
        { host: '127.0.0.1', port: down },
      ]);
    } catch (err) {
      error = err;
    }
    expect((error as BrokerError).code).toBe('ACCESS_REFUSED');
    expect((error as BrokerError).message).not.toContain('not-the-password');
  });
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}
