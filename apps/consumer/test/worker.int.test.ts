import {
  drainQueue,
  eventually,
  inspectQueue,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
  type RunningProcess,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

const broker = useTestVhost('worker', { queues: TASK_QUEUES });

/** Starts `consumer --from task_queue`: tutorial 2's worker. */
const worker = (env: Record<string, string> = {}) =>
  broker.spawnApp('consumer', ['--from', 'task_queue'], {
    env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn', WORK_UNIT_MS: '100', ...env },
    timeoutMs: 90_000,
  });

const sendTasks = (...bodies: string[]) =>
  withChannel(broker.url, async (channel) => {
    for (const body of bodies) channel.sendToQueue('task_queue', Buffer.from(body), { persistent: true });
    await channel.close();
  });

const received = (p: RunningProcess) =>
  p.stdout
    .split('\n')
    .filter((line) => line.startsWith(' [x] Received'))
    .map((line) => line.slice(" [x] Received '".length, -1));

describe('the worker (consumer --from task_queue)', () => {
  it("prints ' [x] Received', works one unit per '.', prints ' [x] Done', then acks", async () => {
    const w = worker();
    await w.waitForOutput(/Waiting for messages/);
    await sendTasks('First message.', 'Second message..');
    await w.waitForOutput(/Received 'Second message\.\.'/);
    await eventuallyDone(w, 2);
    expect(w.stdout.split('\n').filter(Boolean)).toEqual([
      ' [*] Waiting for messages. To exit press CTRL+C',
      " [x] Received 'First message.'",
      ' [x] Done',
      " [x] Received 'Second message..'",
      ' [x] Done',
    ]);
    expect((await w.stop('SIGTERM')).code).toBe(0);
    expect(await inspectQueue(broker.url, 'task_queue')).toMatchObject({ messageCount: 0 });
  });

  it('shares the queue fairly: a long task on one worker does not hold back the others', async () => {
    const a = worker();
    const b = worker();
    await Promise.all([a.waitForOutput(/Waiting/), b.waitForOutput(/Waiting/)]);
    // One long task, then quick ones: with one task at a time per worker (prefetch 1),
    // the worker that is free takes every quick one. The long task (5 s) must outlast the
    // quick ones even on a loaded machine: once it is done, its worker may take one too.
    const long = `long${'.'.repeat(50)}`;
    await sendTasks(long, 'q1', 'q2', 'q3', 'q4');
    const slow = await Promise.race([
      a.waitForOutput(/Received 'long/).then(() => a),
      b.waitForOutput(/Received 'long/).then(() => b),
    ]);
    const fast = slow === a ? b : a;
    await fast.waitForOutput(/Received 'q4'/);
    expect(received(fast)).toEqual(['q1', 'q2', 'q3', 'q4']);
    expect(received(slow)).toEqual([long]);
  });

  it('three competing workers: every task done once, the work spread, a slow task holding back no one', async () => {
    const workers = [worker({ WORK_UNIT_MS: '20' }), worker({ WORK_UNIT_MS: '20' }), worker({ WORK_UNIT_MS: '20' })];
    await Promise.all(workers.map((w) => w.waitForOutput(/Waiting/)));
    // One slow task first, then 60 of one to three units.
    const tasks = [
      'slow' + '.'.repeat(100),
      ...Array.from({ length: 60 }, (_, i) => `task ${i}${'.'.repeat(1 + (i % 3))}`),
    ];
    await sendTasks(...tasks);
    await eventually(
      () => workers.reduce((done, w) => done + doneLines(w), 0) === tasks.length,
      60_000,
      'every task done',
    );

    const byWorker = workers.map((w) => received(w));
    // Exactly once: every task received once, by one worker, and done.
    expect(byWorker.flat().sort()).toEqual([...tasks].sort());
    // The worker with the slow task (2 s) did only that; the other two shared the 60 quick ones.
    const slow = byWorker.findIndex((bodies) => bodies.some((b) => b.startsWith('slow')));
    expect(byWorker[slow]?.length).toBeLessThan(10);
    for (const [i, bodies] of byWorker.entries()) if (i !== slow) expect(bodies.length).toBeGreaterThan(15);
    expect(await inspectQueue(broker.url, 'task_queue')).toMatchObject({ messageCount: 0 });
    for (const w of workers) expect((await w.stop('SIGTERM')).code).toBe(0);
  });

  it.each([
    ['quorum (created by the worker)', undefined],
    ['classic (as the tutorials declare it, adopted)', { durable: true }],
  ])(
    'stops a task that kills the worker every time: after the attempts it is in task_queue.dlq, on %s',
    async (_, shape) => {
      if (shape !== undefined) await withChannel(broker.url, (channel) => channel.assertQueue('task_queue', shape));
      const env = { MAX_ATTEMPTS: '2', WORK_UNIT_MS: '10000' };
      let w = worker(env);
      await w.waitForOutput(/Waiting/);
      await sendTasks('deadly.');
      // The task takes 10 s; the worker is killed in the middle of it, twice.
      for (let crash = 0; crash < 2; crash++) {
        await w.waitForOutput(/Received 'deadly\.'/);
        await w.stop('SIGKILL');
        w = worker(env);
        await w.waitForOutput(/Waiting/);
      }
      await eventually(async () => (await inspectQueue(broker.url, 'task_queue.dlq'))?.messageCount === 1);
      expect(received(w)).toEqual([]);
      const [dead] = await drainQueue(broker.url, 'task_queue.dlq');
      expect(dead?.body).toBe('deadly.');
      expect(String(dead?.properties.headers?.['x-dead-letter-reason'])).toMatch(/^gave up after 2 attempts/);
    },
  );

  it('comes back by itself after the broker cancels its subscription (queue deleted, then made again)', async () => {
    // A classic queue: RabbitMQ 3.10 does not always notify the consumers of a quorum queue
    // deleted under them.
    await withChannel(broker.url, (channel) => channel.assertQueue('task_queue', { durable: true }));
    const w = worker({ LOG_LEVEL: 'info' });
    await w.waitForOutput(/Waiting/);
    await withChannel(broker.url, (channel) => channel.deleteQueue('task_queue'));
    await eventually(() => /cancelled the subscription/.test(w.stderr)).catch((e: unknown) => {
      throw new Error(`${String(e)}; the worker said:\n${w.stderr}`);
    });
    // While the queue is missing the worker keeps trying to subscribe again.
    await withChannel(broker.url, (channel) => channel.assertQueue('task_queue', { durable: true }));
    await sendTasks('after the cancel');
    await w.waitForOutput(/Received 'after the cancel'/, 60_000);
  });

  it('on SIGTERM finishes the task in hand and leaves the waiting ones in the queue', async () => {
    const w = worker({ WORK_UNIT_MS: '300' });
    await w.waitForOutput(/Waiting/);
    await sendTasks('in hand...', 'waiting 1', 'waiting 2');
    await w.waitForOutput(/Received 'in hand\.\.\.'/);
    const result = await w.stop('SIGTERM');
    expect(result.code).toBe(0);
    expect(received(w)).toEqual(['in hand...']);
    expect(result.stdout).toMatch(/Received 'in hand\.\.\.'\n \[x\] Done\n/);
    expect((await drainQueue(broker.url, 'task_queue')).map((m) => m.body)).toEqual(['waiting 1', 'waiting 2']);
  });

  it('does not hang on a task stuck past the shutdown deadline: it exits and the task goes back', async () => {
    const w = worker({ WORK_UNIT_MS: '60000', SHUTDOWN_TIMEOUT_MS: '500' });
    await w.waitForOutput(/Waiting/);
    await sendTasks('stuck.');
    await w.waitForOutput(/Received 'stuck\.'/);
    const result = await w.stop('SIGTERM');
    expect(result.signal).toBeNull();
    expect(result.stdout).not.toContain('Done');
    expect((await drainQueue(broker.url, 'task_queue')).map((m) => m.body)).toEqual(['stuck.']);
  });
});

const doneLines = (p: RunningProcess) => p.stdout.split('\n').filter((line) => line === ' [x] Done').length;

function eventuallyDone(p: RunningProcess, n: number) {
  return eventually(() => p.stdout.split('\n').filter((line) => line === ' [x] Done').length >= n);
}
