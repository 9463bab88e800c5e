import { drainQueue, eventually, inspectQueue, RPC_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningConsumer } from '../src/consumer/engine.js';
import { startRpcServer, type RpcCompute } from '../src/consumer/rpc-server.js';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { createRpcClient } from '../src/rpc-client.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('rpc-server', { queues: RPC_QUEUES });
let broker: Broker | undefined;
let server: RunningConsumer | undefined;
let lines: string[] = [];

afterEach(async () => {
  await server?.stop();
  await broker?.shutdown();
  server = undefined;
  broker = undefined;
  lines = [];
});

/** Starts the RPC server of fib(n) with `compute` (by default n * 2), recording each request. */
async function serve(compute: RpcCompute<'rpc_queue'> = (n) => BigInt(n * 2)) {
  const requests: number[] = [];
  const log = memoryLogger();
  lines = log.lines;
  broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, memoryLogger().logger);
  server = await startRpcServer(
    broker,
    'rpc_queue',
    (n, context) => {
      requests.push(n);
      return compute(n, context);
    },
    { logger: log.logger, confirmTimeoutMs: 5000 },
  );
  return requests;
}

const dlq = async () => (await inspectQueue(vhost.url, 'rpc_queue.dlq'))?.messageCount ?? 0;
const requestsLeft = async () => (await inspectQueue(vhost.url, 'rpc_queue'))?.messageCount ?? 0;

describe('startRpcServer', () => {
  it("replies to the request's callback queue with its correlation_id, then acks the request", async () => {
    await serve();
    const reply = await withChannel(vhost.url, async (channel) => {
      const { queue } = await channel.assertQueue('', { exclusive: true });
      const replied = new Promise<{ body: string; correlationId: unknown; contentType: unknown }>((resolve) => {
        void channel.consume(
          queue,
          (message) => {
            if (message !== null)
              resolve({
                body: message.content.toString(),
                correlationId: message.properties.correlationId,
                contentType: message.properties.contentType,
              });
          },
          { noAck: true },
        );
      });
      channel.sendToQueue('rpc_queue', Buffer.from('21'), { replyTo: queue, correlationId: 'c-21' });
      return replied;
    });
    expect(reply).toEqual({ body: '42', correlationId: 'c-21', contentType: 'text/plain' });
    await eventually(async () => (await requestsLeft()) === 0);
    expect(await dlq()).toBe(0);
  });

  it("answers the transport's RPC client through direct reply-to (sent without the mandatory flag)", async () => {
    await serve();
    if (broker === undefined) throw new Error('no broker');
    const client = createRpcClient(broker, { logger: memoryLogger().logger });
    try {
      expect(await client.call('rpc_queue', 30, { timeoutMs: 10_000 })).toEqual({ status: 'replied', reply: 60n });
    } finally {
      await client.close();
    }
    expect(lines.join('\n')).not.toMatch(/the client is gone/);
  });

  // The same message-id, from a client that lost its connection.
  it('answers a repeat of a request with the kept reply, without computing it again', async () => {
    const requests = await serve();
    const replies = await withChannel(vhost.url, async (channel) => {
      const { queue } = await channel.assertQueue('', { exclusive: true });
      const got: { body: string; correlationId: unknown }[] = [];
      await channel.consume(
        queue,
        (message) => {
          if (message !== null)
            got.push({ body: message.content.toString(), correlationId: message.properties.correlationId });
        },
        { noAck: true },
      );
      channel.sendToQueue('rpc_queue', Buffer.from('21'), {
        replyTo: queue,
        correlationId: 'c-1',
        messageId: 'call-1',
      });
      await eventually(() => got.length === 1);
      // The same call again, as the client sends it on its new connection.
      channel.sendToQueue('rpc_queue', Buffer.from('21'), {
        replyTo: queue,
        correlationId: 'c-1',
        messageId: 'call-1',
      });
      await eventually(() => got.length === 2);
      return got;
    });
    expect(requests).toEqual([21]);
    expect(replies).toEqual([
      { body: '42', correlationId: 'c-1' },
      { body: '42', correlationId: 'c-1' },
    ]);
    expect(lines.join('\n')).toMatch(/duplicate suppressed/);
    expect(await requestsLeft()).toBe(0);
  });

  it('dead-letters a request without reply_to, with the reason, without computing it', async () => {
    const requests = await serve();
    await withChannel(vhost.url, async (channel) => {
      channel.sendToQueue('rpc_queue', Buffer.from('5'), { correlationId: 'c-5' });
      await channel.close();
    });
    await eventually(async () => (await dlq()) === 1);
    const [dead] = await drainQueue(vhost.url, 'rpc_queue.dlq');
    expect(dead?.body).toBe('5');
    expect(dead?.properties.headers).toMatchObject({
      'x-dead-letter-reason':
        'handler failed: the request has no reply_to: there is nowhere to send the answer (attempt 1 of 5)',
      'x-original-queue': 'rpc_queue',
      'x-attempts': 1,
    });
    expect(requests).toEqual([]);
  });

  it('logs and drops a reply whose client is gone (returned), and acks the request', async () => {
    const requests = await serve();
    await withChannel(vhost.url, async (channel) => {
      channel.sendToQueue('rpc_queue', Buffer.from('7'), {
        replyTo: 'amq.gen-no-such-callback-queue',
        correlationId: 'c-7',
      });
      await channel.close();
    });
    await eventually(() => lines.some((line) => line.includes('the client is gone: reply dropped')));
    expect(requests).toEqual([7]);
    await eventually(async () => (await requestsLeft()) === 0);
    expect(await dlq()).toBe(0);
    const gone = JSON.parse(lines.find((line) => line.includes('the client is gone')) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(gone).toMatchObject({ replyTo: 'amq.gen-no-such-callback-queue', correlationId: 'c-7' });
  });

  it('fails a request whose reply the broker nacks, and dead-letters it with the reason', async () => {
    const requests = await serve();
    await withChannel(vhost.url, async (channel) => {
      // A callback queue that refuses every message: the broker nacks the reply.
      const { queue } = await channel.assertQueue('', {
        exclusive: true,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      });
      channel.sendToQueue('rpc_queue', Buffer.from('4'), { replyTo: queue, correlationId: 'c-4' });
      await eventually(async () => (await dlq()) === 1);
    });
    const [dead] = await drainQueue(vhost.url, 'rpc_queue.dlq');
    expect(dead?.properties.headers?.['x-dead-letter-reason']).toBe(
      'handler failed: the reply was not confirmed: rejected by the broker (basic.nack) (attempt 1 of 5)',
    );
    expect(requests).toEqual([4]);
    expect(await requestsLeft()).toBe(0);
  });

  it('dead-letters a request whose computation fails (rpc_queue has no retries), and goes on', async () => {
    const requests = await serve((n) => {
      if (n === 13) throw new Error('unlucky');
      return BigInt(n);
    });
    await withChannel(vhost.url, async (channel) => {
      channel.sendToQueue('rpc_queue', Buffer.from('13'), { replyTo: 'amq.gen-whoever', correlationId: 'c-13' });
      await channel.close();
    });
    await eventually(async () => (await dlq()) === 1);
    const [dead] = await drainQueue(vhost.url, 'rpc_queue.dlq');
    expect(dead?.properties.headers?.['x-dead-letter-reason']).toBe('handler failed: unlucky (attempt 1 of 5)');
    expect(requests).toEqual([13]);
  });
});
