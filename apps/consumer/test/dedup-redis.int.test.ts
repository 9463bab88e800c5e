import {
  eventually,
  freePort,
  inspectQueue,
  type RunningProcess,
  TASK_QUEUES,
  useRedis,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

const broker = useTestVhost('consumer-dedup-redis', { queues: TASK_QUEUES });
/** The keys the consumers of this file's vhost write (`hello-rabbit:<vhost>:...`), deleted after each test. */
const redis = useRedis(() => `hello-rabbit:${new URL(broker.url).pathname.slice(1)}:`);

const worker = (env: Record<string, string> = {}) =>
  broker.spawnApp('consumer', ['--from', 'task_queue'], {
    env: {
      AMQP_URL: broker.url,
      LOG_LEVEL: 'warn',
      WORK_UNIT_MS: '0',
      RETRY_DELAYS_MS: '300',
      DEDUP_REDIS_URL: redis.url,
      ...env,
    },
    timeoutMs: 90_000,
  });

const send = (messages: readonly { body: string; messageId: string }[]) =>
  withChannel(broker.url, async (channel) => {
    for (const { body, messageId } of messages)
      channel.sendToQueue('task_queue', Buffer.from(body), { persistent: true, messageId });
    await channel.waitForConfirms();
  });

const lines = (text: string, line: string) => text.split('\n').filter((l) => l === line).length;

describe('the worker with DEDUP_REDIS_URL', () => {
  it('a bad DEDUP_REDIS_URL: one line, exit 78, no password', async () => {
    const result = await worker({ DEDUP_REDIS_URL: 'http://user:hunter2@127.0.0.1:6379' }).exited;
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([
      'consumer: DEDUP_REDIS_URL: scheme must be redis: or rediss:, not http:',
    ]);
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('a Redis that refuses the password: one line, exit 77, no password', async () => {
    const locked = await redis.start({ password: 'right-one' });
    const result = await worker({ DEDUP_REDIS_URL: locked.url('hunter2') }).exited;
    expect(result.code).toBe(77);
    const said = result.stderr.trim().split('\n');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^consumer: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/,
    );
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('a worker killed mid-task leaves a claim; another waits out its lease, then does the task, once', async () => {
    const env = { WORK_UNIT_MS: '1000', DEDUP_LEASE_MS: '2000' };
    const a = worker(env);
    await a.waitForOutput(/Waiting for messages/);
    await send([{ body: 'long........', messageId: 'long-1' }]);
    await a.waitForOutput(/Received 'long/);
    const b = worker(env);
    await b.waitForOutput(/Waiting for messages/);
    // kill -9: no release, no ack; the broker gives the task to b, which finds a's claim.
    await a.stop('SIGKILL');
    await b.waitForOutput(/Received 'long/, 30_000);
    await b.waitForOutput(/ \[x\] Done/, 30_000);
    expect(b.stderr).toMatch(/claimed by another worker: waiting for it/);
    expect(lines(b.stdout, " [x] Received 'long........'")).toBe(1);
    expect(lines(b.stdout, ' [x] Done')).toBe(1);
    await eventually(async () => (await inspectQueue(broker.url, 'task_queue'))?.messageCount === 0);
    // A resend of the task after it was done: suppressed, not done again.
    await send([{ body: 'long........', messageId: 'long-1' }]);
    await eventually(async () => (await inspectQueue(broker.url, 'task_queue'))?.messageCount === 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lines(b.stdout, ' [x] Done')).toBe(1);
    expect((await b.stop('SIGTERM')).code).toBe(0);
  });

  it('is not ready while Redis is away, starts no task meanwhile, and goes on by itself', async () => {
    const own = await redis.start();
    const port = await freePort();
    const w: RunningProcess = worker({ DEDUP_REDIS_URL: own.url(), HTTP_PORT: String(port) });
    await w.waitForOutput(/Waiting for messages/);
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
    expect(await ready()).toBe(200);
    await own.stop();
    await send([{ body: 'while away.', messageId: 'away-1' }]);
    await eventually(async () => (await ready()) === 503, 10_000, 'not ready while Redis is away');
    const body = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { reasons: string[] };
    expect(body.reasons).toContain('dedup store unreachable');
    expect(w.stdout).not.toMatch(/Received 'while away/);
    await own.resume();
    await w.waitForOutput(/ \[x\] Done/, 20_000);
    await eventually(async () => (await ready()) === 200, 10_000, 'ready again');
    expect(w.stderr.split('\n').filter((l) => l.includes('dedup store unreachable'))).toHaveLength(1);
    expect((await w.stop('SIGTERM')).code).toBe(0);
  });
});
