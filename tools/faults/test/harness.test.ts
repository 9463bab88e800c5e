import { TcpProxy, withChannel } from '@hello-rabbit/testkit';
import amqplib from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureNodeUp, suiteNode } from '../src/suite.js';

// The harness itself, against the suite's node with a plain AMQP client, before any app.
const node = suiteNode();
let vhost: Awaited<ReturnType<typeof node.addVhost>>;

beforeAll(async () => {
  vhost = await node.addVhost('harness');
});
afterEach(async () => {
  await ensureNodeUp(node);
});
afterAll(async () => {
  await vhost.dispose();
});

describe('the private node', () => {
  it('is not the shared broker, and listens on loopback only', () => {
    expect(node.port).not.toBe(5672);
    expect(node.name).not.toBe('rabbit@localhost');
    expect(node.url()).toMatch(/^amqp:\/\/guest:guest@127\.0\.0\.1:/);
  });

  // stop_app/start_app both plain and armed.
  it('keeps a persistent message on a durable queue through stop_app/start_app, kill -9 and a restart', async () => {
    await withChannel(vhost.url, async (channel) => {
      await channel.assertQueue('harness', { durable: true });
      channel.sendToQueue('harness', Buffer.from('kept'), { persistent: true });
      await channel.checkQueue('harness');
    });
    await sleep(200);

    await node.stopApp();
    expect(await node.isAnswering()).toBe(false);
    await node.startApp();
    expect(await node.isAnswering()).toBe(true);

    // The same, armed ahead and fired at a chosen moment.
    const stopApp = await node.armStopApp();
    expect(await node.isAnswering()).toBe(true);
    await stopApp.fire();
    expect(await node.isAnswering()).toBe(false);
    await node.startApp();

    const before = node.pid();
    await node.kill9();
    expect(await node.isAnswering()).toBe(false);
    await node.restart();
    expect(node.pid()).not.toBe(before);

    const message = await withChannel(vhost.url, (channel) => channel.get('harness', { noAck: true }));
    expect(message === false ? undefined : message.content.toString()).toBe('kept');
  });
});

describe('the proxy between a client and the node', () => {
  async function connectThrough(proxy: TcpProxy, heartbeat: number) {
    const url = `${node.url(vhost.name, proxy.port)}?heartbeat=${heartbeat}`;
    const connection = await amqplib.connect(url, { timeout: 5000 });
    let failedAt: number | undefined;
    connection.on('error', () => {
      failedAt ??= Date.now();
    });
    connection.on('close', () => {
      failedAt ??= Date.now();
    });
    return { connection, failedAt: () => failedAt };
  }

  it('a cut shorter than the heartbeat goes unnoticed; a longer one is noticed in about two heartbeats', async () => {
    const proxy = await TcpProxy.start(node.port);
    try {
      const { connection, failedAt } = await connectThrough(proxy, 1);
      proxy.cut();
      await sleep(500);
      proxy.restore();
      await sleep(3000);
      expect(failedAt()).toBeUndefined();

      const cutAt = Date.now();
      proxy.cut();
      await sleep(5000);
      const noticed = failedAt();
      expect(noticed).toBeDefined();
      // amqplib checks every interval and gives up after two silent ones: 2 to 3 intervals.
      expect((noticed ?? Infinity) - cutAt).toBeLessThanOrEqual(4000);
      await connection.close().catch(() => undefined);
    } finally {
      await proxy.close();
    }
  });
});
