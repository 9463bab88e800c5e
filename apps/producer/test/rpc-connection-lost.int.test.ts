import { eventually, inspectQueue, RPC_QUEUES, useTcpProxy, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

/**
 * `producer --rpc` when its connection is lost during the call: its link goes through a
 * proxy that can drop it; the server's (and the test's) go straight to the broker.
 */
const broker = useTestVhost('producer-rpc-lost', { queues: RPC_QUEUES });

/** The file's vhost, reached through a proxy that can cut the network. */
const proxied = useTcpProxy(() => broker.url);

const producer = async (args: string[], env: Record<string, string> = {}) =>
  broker.spawnApp('producer', args, {
    env: { AMQP_URL: await proxied.open(), LOG_LEVEL: 'warn', ...env },
    timeoutMs: 60_000,
  });

/** Its stderr without the JSON log lines: what a person reads. */
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));

const queued = async () => (await inspectQueue(broker.url, 'rpc_queue'))?.messageCount ?? 0;

describe('producer --rpc, when the connection is lost during the call', () => {
  it('sends the request again on the new connection and prints the reply the server gives to that one', async () => {
    // A server ran once: its queue is there; none runs while the connection drops.
    await withChannel(broker.url, (channel) => channel.assertQueue('rpc_queue', { durable: false }));
    const call = await producer(['--rpc', '30', '--timeout', '60000']);
    await eventually(async () => (await queued()) === 1, 30_000, 'the request queued');

    proxied.proxy?.reset();
    // The copy sent again, with the same correlation_id, waits beside the first one.
    await eventually(async () => (await queued()) === 2, 30_000, 'the request sent again');

    // The server computes the first (its reply goes to the lost channel, and is gone) and
    // keeps the reply with its mark of done; the second, the same call (same message-id),
    // gets the kept reply, to the producer, without a second computation.
    const server = broker.spawnApp('consumer', ['--from', 'rpc_queue'], {
      env: { AMQP_URL: broker.url, LOG_LEVEL: 'info' },
    });
    const result = await call.exited;
    expect(result.stdout).toBe(' [x] Requesting fib(30)\n [.] Got 832040\n');
    expect(result.code).toBe(0);
    expect(errorLines(result.stderr)).toEqual([]);
    await eventually(async () => (await queued()) === 0, 30_000, 'both copies handled');
    expect(server.stdout.split(' [.] fib(30)\n').length - 1).toBe(1);
    expect(server.stderr.split('\n').filter((line) => line.includes('"msg":"duplicate suppressed"'))).toHaveLength(1);
  });

  it('when the link stays down past --timeout: one line that says so, and exit 1', async () => {
    await withChannel(broker.url, (channel) => channel.assertQueue('rpc_queue', { durable: false }));
    const call = await producer(['--rpc', '5', '--timeout', '3000']);
    await eventually(async () => (await queued()) === 1, 30_000, 'the request queued');

    // The link drops, and every new one goes nowhere (a black hole).
    proxied.proxy?.cut();
    proxied.proxy?.reset();
    const result = await call.exited;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(' [x] Requesting fib(5)\n');
    expect(errorLines(result.stderr)).toEqual([
      "producer: fib(5): no reply from 'rpc_queue' within 3000 ms: the connection was lost during the call, " +
        'and the request was resent 0 times (no connection in time)',
    ]);
  });
});
