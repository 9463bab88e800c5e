import {
  ctl,
  drainQueue,
  eventually,
  HELLO_QUEUES,
  inspectQueue,
  LOG_EXCHANGES,
  pikaPrograms,
  pythonWithPika,
  RPC_QUEUES,
  runProcess,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

/**
 * Tutorials 3 to 6 with the official Python programs publishing and our consumer (built
 * dist/, plain node) on the other end: pika's emit_log* to `consumer --from <exchange>`,
 * and pika's rpc_client to `consumer --from rpc_queue`.
 */
const broker = useTestVhost('consumer-patterns', {
  queues: [...HELLO_QUEUES, ...TASK_QUEUES, ...RPC_QUEUES],
  exchanges: LOG_EXCHANGES,
});

const consumer = (...args: string[]) =>
  broker.spawnApp('consumer', args, { env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' } });
const pika = (program: string, ...args: string[]) =>
  runProcess(pythonWithPika(), [program, ...args], { env: { AMQP_URL: broker.url } });

/** Starts our consumer on an exchange and waits until its queue is bound. */
async function subscriber(...args: string[]) {
  const c = consumer(...args);
  await c.waitForOutput(/^ \[\*\] Waiting for logs\. To exit press CTRL\+C$/);
  return c;
}

/** Runs a pika emitter and returns what it printed. */
async function emitted(program: string, ...args: string[]) {
  const sent = await pika(program, ...args);
  expect(sent.code, sent.stderr).toBe(0);
  return sent.stdout;
}

describe("tutorial 3, publish/subscribe: pika's emit_log.py and our consumer --from logs", () => {
  it('two consumers each get every message, then stop cleanly (their queues go with them)', async () => {
    const first = await subscriber('--from', 'logs');
    const second = await subscriber('--from', 'logs');

    expect(await emitted(pikaPrograms.emitLog)).toBe(" [x] Sent 'info: Hello World!'\n");
    await emitted(pikaPrograms.emitLog, 'warning: disk almost full');

    for (const c of [first, second]) {
      await c.waitForOutput(/^ \[x\] 'warning: disk almost full'$/);
      expect(c.stdout).toContain(" [x] 'info: Hello World!'\n [x] 'warning: disk almost full'\n");
      expect((await c.stop('SIGTERM')).code).toBe(0);
    }
    // Stopped, their queues are gone with them: a mandatory line is returned, bound to nothing.
    await withChannel(broker.url, async (channel) => {
      const returned = new Promise<boolean>((resolve) => {
        channel.once('return', () => {
          resolve(true);
        });
        setTimeout(() => {
          resolve(false);
        }, 2000);
      });
      channel.publish('logs', '', Buffer.from('nobody'), { mandatory: true });
      expect(await returned).toBe(true);
    });
  });

  it('a line that is not valid UTF-8 is logged and dropped; the next one is printed', async () => {
    const c = consumer('--from', 'logs');
    await c.waitForOutput(/Waiting for logs/);
    await withChannel(broker.url, async (channel) => {
      channel.publish('logs', '', Buffer.from([0xff, 0xfe]));
      channel.publish('logs', '', Buffer.from('info: after the bad one'));
      await channel.close();
    });
    await c.waitForOutput(/^ \[x\] 'info: after the bad one'$/);
    expect(c.stderr).toMatch(/invalid message dropped/);
    expect((await c.stop('SIGTERM')).code).toBe(0);
  });
});

describe('a subscriber whose connection is lost', () => {
  it('subscribes again, with a new queue and its bindings, once Rascal has reconnected', async () => {
    const c = await subscriber('--from', 'direct_logs', '--key', 'error');
    const vhost = decodeURIComponent(new URL(broker.url).pathname.slice(1));
    await ctl('close_all_connections', '--vhost', vhost, 'test: connection lost');
    // Lines published while it is away are lost (publish/subscribe keeps nothing): send until one arrives.
    await eventually(
      async () => {
        await emitted(pikaPrograms.emitLogDirect, 'error', 'after the reconnect');
        return c.stdout.includes(" [x] 'error':'after the reconnect'");
      },
      45_000,
      'a line delivered after the reconnect',
    );
    expect(c.stderr).toMatch(/subscribing again with a new queue/);
    expect((await c.stop('SIGTERM')).code).toBe(0);
  });
});

describe("tutorial 4, routing: pika's emit_log_direct.py and our consumer --from direct_logs --key", () => {
  it('a consumer bound to info and error gets those and not warning', async () => {
    const c = await subscriber('--from', 'direct_logs', '--key', 'info', '--key', 'error');
    expect(await emitted(pikaPrograms.emitLogDirect, 'error', 'Run. Run. Or it will explode.')).toBe(
      " [x] Sent 'error':'Run. Run. Or it will explode.'\n",
    );
    await emitted(pikaPrograms.emitLogDirect, 'warning', 'not for us');
    await emitted(pikaPrograms.emitLogDirect, 'info', 'all is well');

    await c.waitForOutput(/^ \[x\] 'info':'all is well'$/);
    expect(c.stdout).toContain(" [x] 'error':'Run. Run. Or it will explode.'\n [x] 'info':'all is well'\n");
    expect(c.stdout).not.toContain('not for us');
  });

  it('without --key it says how to bind, exit 64', async () => {
    const c = consumer('--from', 'direct_logs');
    const done = await c.exited;
    expect(done.code).toBe(64);
    expect(done.stderr).toMatch(
      /^consumer: 'direct_logs' needs at least one --key to bind with, e\.g\. --key info --key error$/m,
    );
  });
});

describe("tutorial 5, topics: pika's emit_log_topic.py and our consumer --from topic_logs --key", () => {
  it("binds with '*' and '#'", async () => {
    const c = await subscriber('--from', 'topic_logs', '--key', '*.critical', '--key', 'kern.#');
    expect(await emitted(pikaPrograms.emitLogTopic, 'kern.critical', 'A critical kernel error')).toBe(
      " [x] Sent 'kern.critical':'A critical kernel error'\n",
    );
    await emitted(pikaPrograms.emitLogTopic, 'cron.info', 'not for us');
    await emitted(pikaPrograms.emitLogTopic, 'kern.disk.info', 'disk mounted');
    await emitted(pikaPrograms.emitLogTopic, 'cron.critical', 'cron is down');

    await c.waitForOutput(/^ \[x\] 'cron\.critical':'cron is down'$/);
    // Bound by both keys, 'kern.critical' is still delivered once.
    expect(c.stdout).toContain(
      " [x] 'kern.critical':'A critical kernel error'\n" +
        " [x] 'kern.disk.info':'disk mounted'\n" +
        " [x] 'cron.critical':'cron is down'\n",
    );
    expect(c.stdout).not.toContain('not for us');
  });
});

describe("tutorial 6, RPC: pika's rpc_client.py and our consumer --from rpc_queue", () => {
  it('answers fib(30) to rpc_client.py, through its callback queue, with its correlation_id', async () => {
    const server = consumer('--from', 'rpc_queue');
    await server.waitForOutput(/^ \[x\] Awaiting RPC requests$/);

    const call = await pika(pikaPrograms.rpcClient, '30');
    expect(call.stdout).toBe(' [x] Requesting fib(30)\n [.] Got 832040\n');
    expect(call.code).toBe(0);
    await server.waitForOutput(/^ \[\.\] fib\(30\)$/);
    // Acked once answered: nothing left in the queue.
    await eventually(async () => (await inspectQueue(broker.url, 'rpc_queue'))?.messageCount === 0);
    expect((await server.stop('SIGTERM')).code).toBe(0);
  });

  it('dead-letters a request whose n breaks the contract, with the reason, and goes on', async () => {
    const server = consumer('--from', 'rpc_queue');
    await server.waitForOutput(/Awaiting RPC requests/);
    await withChannel(broker.url, async (channel) => {
      channel.sendToQueue('rpc_queue', Buffer.from('100000'), { replyTo: 'nowhere', correlationId: 'c1' });
      await channel.close();
    });
    await eventually(async () => (await inspectQueue(broker.url, 'rpc_queue.dlq'))?.messageCount === 1);
    const [dead] = await drainQueue(broker.url, 'rpc_queue.dlq');
    expect(dead?.body).toBe('100000');
    expect(String(dead?.properties.headers?.['x-dead-letter-reason'])).toMatch(/n must be at most 1000/);

    const call = await pika(pikaPrograms.rpcClient, '10');
    expect(call.stdout).toBe(' [x] Requesting fib(10)\n [.] Got 55\n');
  });
});
