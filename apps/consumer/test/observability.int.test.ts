import {
  drainQueue,
  eventually,
  freePort,
  inspectQueue,
  type RunningProcess,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

const broker = useTestVhost('consumer-observability', { queues: TASK_QUEUES });

const worker = (port: number, env: Record<string, string> = {}) =>
  broker.spawnApp('consumer', ['--from', 'task_queue'], {
    env: {
      AMQP_URL: broker.url,
      LOG_LEVEL: 'warn',
      WORK_UNIT_MS: '0',
      HTTP_PORT: String(port),
      MAX_ATTEMPTS: '2',
      RETRY_DELAYS_MS: '100',
      FAIL_TASKS_MATCHING: '^boom',
      ...env,
    },
    timeoutMs: 90_000,
  });

const get = async (port: number, path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') ?? '' };
};

/** The value of one sample of the exposition text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

const send = (messages: readonly { body: string; messageId: string; contentType?: string }[]) =>
  withChannel(broker.url, async (channel) => {
    for (const { body, messageId, contentType } of messages) {
      channel.sendToQueue('task_queue', Buffer.from(body), {
        persistent: true,
        messageId,
        timestamp: Math.floor(Date.now() / 1000),
        ...(contentType === undefined ? {} : { contentType }),
      });
    }
    await channel.close();
  });

const doneCount = (p: RunningProcess) => p.stdout.split('\n').filter((line) => line === ' [x] Done').length;

describe('the consumer: metrics and health', () => {
  it('serves nothing over HTTP unless HTTP_PORT is set', async () => {
    const port = await freePort();
    const w = broker.spawnApp('consumer', ['--from', 'task_queue'], {
      env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' },
    });
    await w.waitForOutput(/Waiting for messages/);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    expect((await w.stop('SIGTERM')).code).toBe(0);
  });

  // Its metrics follow deliveries, acks, retries, dead letters and duplicates.
  it('is live and ready once subscribed, and its metrics follow what it does', async () => {
    const port = await freePort();
    const w = worker(port);
    await w.waitForOutput(/Waiting for messages/);
    expect(await get(port, '/health/live')).toMatchObject({ status: 200 });
    const ready = await get(port, '/health/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ status: 'ready' });

    const before = await get(port, '/metrics');
    expect(before.type).toMatch(/^text\/plain/);
    expect(sample(before.text, 'hello_rabbit_broker_connected')).toBe(1);
    expect(sample(before.text, 'hello_rabbit_messages_delivered_total', { queue: 'task_queue' })).toBe(0);
    // Node's own process metrics come along.
    expect(before.text).toContain('process_cpu_seconds_total');
    expect(before.text).toContain('nodejs_eventloop_lag_seconds');

    await send([
      { body: 'one.', messageId: 'ok-1' },
      { body: 'two.', messageId: 'ok-2' },
      { body: 'two.', messageId: 'ok-2' }, // the same message again: a duplicate
      { body: '{"task": 42}', messageId: 'bad-1', contentType: 'application/json' }, // breaks the contract
      { body: 'boom', messageId: 'fails-1' }, // the handler fails: retried once, then dead-lettered
    ]);
    await eventually(
      async () => (await inspectQueue(broker.url, 'task_queue.dlq'))?.messageCount === 2,
      20_000,
      'two dead letters',
    );
    await eventually(() => doneCount(w) === 2, 10_000, 'two tasks done');

    const after = (await get(port, '/metrics')).text;
    const q = { queue: 'task_queue' };
    // ok-1, ok-2, ok-2 again, bad-1, fails-1 twice (its retry comes back).
    expect(sample(after, 'hello_rabbit_messages_delivered_total', q)).toBe(6);
    expect(sample(after, 'hello_rabbit_messages_acked_total', q)).toBe(2);
    expect(sample(after, 'hello_rabbit_duplicates_suppressed_total', q)).toBe(1);
    expect(sample(after, 'hello_rabbit_messages_retried_total', q)).toBe(1);
    expect(sample(after, 'hello_rabbit_messages_dead_lettered_total', { ...q, reason: 'invalid' })).toBe(1);
    expect(sample(after, 'hello_rabbit_messages_dead_lettered_total', { ...q, reason: 'max_attempts' })).toBe(1);
    expect(sample(after, 'hello_rabbit_handler_duration_seconds_count', { ...q, outcome: 'success' })).toBe(2);
    expect(sample(after, 'hello_rabbit_handler_duration_seconds_count', { ...q, outcome: 'failure' })).toBe(2);
    expect(sample(after, 'hello_rabbit_end_to_end_latency_seconds_count', q)).toBe(6);
    expect(sample(after, 'hello_rabbit_in_flight_messages', { direction: 'consume' })).toBe(0);

    const dead = await drainQueue(broker.url, 'task_queue.dlq');
    expect(dead.map((m) => String(m.properties.messageId)).sort()).toEqual(['bad-1', 'fails-1']);
    expect((await w.stop('SIGTERM')).code).toBe(0);
  });

  it('on SIGTERM, readiness drops first, while the task in hand finishes; then it exits 0', async () => {
    const port = await freePort();
    const w = worker(port, { WORK_UNIT_MS: '400' });
    await w.waitForOutput(/Waiting for messages/);
    await send([{ body: 'long.....', messageId: 'long-1' }]);
    await w.waitForOutput(/Received 'long/);
    const exiting = w.stop('SIGTERM');
    await eventually(async () => (await get(port, '/health/ready')).status === 503, 5000, 'readiness down');
    const notReady = JSON.parse((await get(port, '/health/ready')).text) as { reasons: string[] };
    expect(notReady.reasons).toContain('shutting down');
    // Still live, and the task is not cut short.
    expect((await get(port, '/health/live')).status).toBe(200);
    const exit = await exiting;
    expect(exit.code).toBe(0);
    expect(w.stdout).toContain(' [x] Done');
    expect(await inspectQueue(broker.url, 'task_queue')).toMatchObject({ messageCount: 0 });
  });
});
