import { eventually, inspectQueue, RPC_QUEUES, TcpProxy, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningConsumer } from '../src/consumer/engine.js';
import { startRpcServer } from '../src/consumer/rpc-server.js';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { createRpcClient, type RpcClient } from '../src/rpc-client.js';
import type { DeliveryContext } from '../src/start-consumer.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('rpc-client', { queues: RPC_QUEUES });
let proxy: TcpProxy | undefined;
let server: RunningConsumer | undefined;
let client: RpcClient | undefined;
const brokers: Broker[] = [];

afterEach(async () => {
  await client?.close();
  await server?.stop();
  // The proxy first: a broker reconnecting through a cut proxy would wait for its connect timeout.
  await proxy?.close();
  await Promise.all(brokers.splice(0).map((b) => b.shutdown().catch(() => undefined)));
  client = undefined;
  server = undefined;
  proxy = undefined;
});

/** A broker connection to the file's vhost, through a proxy that can cut it. */
async function clientThroughProxy(): Promise<{ client: RpcClient; lines: string[] }> {
  const through = await TcpProxy.inFrontOf(vhost.url);
  proxy = through.proxy;
  const log = memoryLogger();
  // The client declares nothing (rpc_queue is the server's), as the producer does.
  const broker = await openBroker(
    { endpoint: endpointOf(through.url), connectionName: 'rpc-client', connectTimeoutMs: 2000, use: {} },
    log.logger,
  );
  brokers.push(broker);
  client = createRpcClient(broker, { logger: log.logger });
  return { client, lines: log.lines };
}

/**
 * The RPC server of fib(n) (answering n * 2) on its own connection, not through the proxy;
 * each request waits for `release`.
 */
async function gatedServer() {
  const seen: DeliveryContext[] = [];
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const log = memoryLogger();
  const broker = await openBroker(
    { endpoint: endpointOf(vhost.url), connectionName: 'rpc-server' },
    memoryLogger().logger,
  );
  brokers.push(broker);
  server = await startRpcServer(
    broker,
    'rpc_queue',
    async (n, context) => {
      seen.push(context);
      await gate;
      return BigInt(n * 2);
    },
    { logger: log.logger, confirmTimeoutMs: 5000 },
  );
  return { seen, release: open, lines: log.lines };
}

/** A raw server on rpc_queue: records each request, and answers it with `answer` (none: no reply). */
function rawServer(answer: (request: { correlationId: string; index: number }) => string[] = () => []) {
  const requests: { correlationId: string; messageId: string; replyTo: string; expiration: string }[] = [];
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const running = withChannel(vhost.url, async (channel) => {
    await channel.assertQueue('rpc_queue', { durable: false });
    await channel.consume(
      'rpc_queue',
      (message) => {
        if (message === null) return;
        const { correlationId, messageId, replyTo, expiration } = message.properties as {
          correlationId?: unknown;
          messageId?: unknown;
          replyTo?: unknown;
          expiration?: unknown;
        };
        const request = {
          correlationId: String(correlationId),
          messageId: String(messageId),
          replyTo: String(replyTo),
          expiration: String(expiration),
        };
        requests.push(request);
        for (const body of answer({ correlationId: request.correlationId, index: requests.length - 1 })) {
          channel.sendToQueue(request.replyTo, Buffer.from(body), {
            correlationId: request.correlationId,
            contentType: 'text/plain',
          });
        }
      },
      { noAck: true },
    );
    await stopped;
  });
  return { requests, stop: () => (stop(), running) };
}

describe('createRpcClient, when the connection is lost during a call', () => {
  // The same correlation_id and messageId.
  it('sends the request again on the new connection, and resolves once with the reply', async () => {
    const rpc = await gatedServer();
    const { client, lines } = await clientThroughProxy();
    const outcome = client.call('rpc_queue', 21, { timeoutMs: 30_000 });
    await eventually(() => rpc.seen.length === 1, 20_000, 'the server got the request');

    // The client's link drops (both sides see it closed); Rascal reconnects through the proxy.
    proxy?.reset();
    await eventually(
      () => lines.some((line) => line.includes('RPC request published again on the new connection')),
      20_000,
      'the request resent',
    );
    rpc.release();

    expect(await outcome).toEqual({ status: 'replied', reply: 42n });
    // The server saw the call at most twice (the copy sent before the loss, and the resent
    // one), always with the same correlation_id and messageId.
    expect(rpc.seen.length).toBeGreaterThanOrEqual(1);
    expect(rpc.seen.length).toBeLessThanOrEqual(2);
    expect(new Set(rpc.seen.map((c) => c.correlationId)).size).toBe(1);
    expect(new Set(rpc.seen.map((c) => c.messageId)).size).toBe(1);
    const resent = lines
      .filter((line) => line.includes('RPC request published again'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(resent).toHaveLength(1);
    expect(resent[0]).toMatchObject({
      correlationId: rpc.seen[0]?.correlationId,
      messageId: rpc.seen[0]?.messageId,
      resent: 1,
    });
  });

  it('gives the resent request the time left as its expiration, and a reply to it resolves the call', async () => {
    // Answers only the copy sent after the loss.
    const raw = rawServer(({ index }) => (index === 1 ? ['42'] : []));
    try {
      await eventually(
        async () => (await inspectQueue(vhost.url, 'rpc_queue')) !== undefined,
        10_000,
        'rpc_queue declared',
      );
      const { client } = await clientThroughProxy();
      const outcome = client.call('rpc_queue', 21, { timeoutMs: 20_000 });
      await eventually(() => raw.requests.length === 1, 20_000, 'the first copy');
      const sentAt = Date.now();
      proxy?.reset();
      await eventually(() => raw.requests.length === 2, 20_000, 'the copy sent again');
      expect(await outcome).toEqual({ status: 'replied', reply: 42n });

      const [first, again] = raw.requests;
      expect(again?.correlationId).toBe(first?.correlationId);
      expect(again?.messageId).toBe(first?.messageId);
      // A new channel, so a new direct reply-to address.
      expect(again?.replyTo).not.toBe(first?.replyTo);
      expect(first?.expiration).toBe('20000');
      const left = Number(again?.expiration);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(20_000 - (Date.now() - sentAt) + 1000);
      expect(left).toBeLessThan(20_000);
    } finally {
      await raw.stop();
    }
  });

  it('ends as a timeout, saying the connection was lost, when the link is not back in time', async () => {
    await withChannel(vhost.url, (channel) => channel.assertQueue('rpc_queue', { durable: false }));
    const { client } = await clientThroughProxy();
    const outcome = client.call('rpc_queue', 5, { timeoutMs: 3000 });
    await eventually(
      async () => (await inspectQueue(vhost.url, 'rpc_queue'))?.messageCount === 1,
      20_000,
      'the request queued',
    );
    // The link drops, and every new one goes nowhere (a black hole).
    proxy?.cut();
    proxy?.reset();
    expect(await outcome).toEqual({
      status: 'timeout',
      reason:
        "no reply from 'rpc_queue' within 3000 ms: the connection was lost during the call, " +
        'and the request was resent 0 times (no connection in time)',
      connectionLost: true,
      resent: 0,
    });
  });
});

describe('createRpcClient, replies', () => {
  it('resolves a call once: a second reply with the same correlation_id is ignored', async () => {
    const raw = rawServer(() => ['42', '43']);
    try {
      await eventually(
        async () => (await inspectQueue(vhost.url, 'rpc_queue')) !== undefined,
        10_000,
        'rpc_queue declared',
      );
      const log = memoryLogger();
      const broker = await openBroker(
        { endpoint: endpointOf(vhost.url), connectionName: 'rpc-client', use: {} },
        log.logger,
      );
      brokers.push(broker);
      client = createRpcClient(broker, { logger: log.logger });
      expect(await client.call('rpc_queue', 21, { timeoutMs: 10_000 })).toEqual({ status: 'replied', reply: 42n });
      const [request] = raw.requests;
      await eventually(
        () => log.lines.some((line) => line.includes('ignored') && line.includes(request?.correlationId ?? '?')),
        10_000,
        'the second reply ignored',
      );
    } finally {
      await raw.stop();
    }
  });
});
