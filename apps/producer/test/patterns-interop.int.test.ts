import {
  HELLO_QUEUES,
  LOG_EXCHANGES,
  pikaPrograms,
  pythonWithPika,
  RPC_QUEUES,
  spawnApp,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

/**
 * Tutorials 3 to 6 with our producer on one end and the official Python programs on the
 * other: our producer (built dist/, plain node) to pika's receive_logs*, and our RPC client
 * to pika's rpc_server.
 */
const broker = useTestVhost('producer-patterns', {
  queues: [...HELLO_QUEUES, ...TASK_QUEUES, ...RPC_QUEUES],
  exchanges: LOG_EXCHANGES,
});

const producer = (...args: string[]) =>
  spawnApp('producer', args, { env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' } }).exited;
const pika = (program: string, ...args: string[]) =>
  broker.start(pythonWithPika(), [program, ...args], { env: { AMQP_URL: broker.url } });

/** Starts a pika receiver and waits until its queue is bound. */
async function receiver(program: string, ...args: string[]) {
  const p = pika(program, ...args);
  await p.waitForOutput(/^ \[\*\] Waiting for logs\. To exit press CTRL\+C$/);
  return p;
}

describe("tutorial 3, publish/subscribe: our producer --to logs and pika's receive_logs.py", () => {
  it('every running receive_logs.py gets every message, each through its own queue', async () => {
    const first = await receiver(pikaPrograms.receiveLogs, '--max', '2');
    const second = await receiver(pikaPrograms.receiveLogs, '--max', '2');

    const sent = await producer('--to', 'logs');
    expect(sent.stdout).toBe(" [x] Sent 'info: Hello World!'\n");
    expect(sent.code).toBe(0);
    const again = await producer('--to', 'logs', 'warning: disk almost full');
    expect(again.code).toBe(0);

    for (const r of [first, second]) {
      const done = await r.exited;
      expect(done.code).toBe(0);
      expect(done.stdout).toContain(" [x] 'info: Hello World!'\n [x] 'warning: disk almost full'\n");
    }
  });

  it('with no receiver running, the message is returned: reported on one line, exit 1', async () => {
    const sent = await producer('--to', 'logs', 'info: nobody listens');
    expect(sent.code).toBe(1);
    expect(sent.stdout).toBe('');
    expect(sent.stderr).toMatch(
      new RegExp(
        /^producer: 'info: nobody listens' was not sent: returned by the broker: /.source +
          /NO_ROUTE \(no queue bound to exchange 'logs' for routing key ''\); no subscriber is listening/.source,
        'm',
      ),
    );
  });

  it("adopts a 'logs' that exists with other properties (durable), instead of failing with 406", async () => {
    await withChannel(broker.url, (channel) => channel.assertExchange('logs', 'fanout', { durable: true }));
    const r = await receiver(pikaPrograms.receiveLogs, '--max', '1').catch((err: unknown) => err as Error);
    // pika itself cannot declare it as the tutorial does; our producer still publishes to it.
    expect(r).toBeInstanceOf(Error);
    await withChannel(broker.url, async (channel) => {
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, 'logs', '');
      const sent = await producer('--to', 'logs', 'info: adopted');
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
      const got = await channel.get(queue, { noAck: true });
      expect(got === false ? undefined : got.content.toString()).toBe('info: adopted');
    });
  });

  it("refuses a 'logs' of another type with one line and exit 78, not a crash", async () => {
    await withChannel(broker.url, (channel) => channel.assertExchange('logs', 'direct', { durable: false }));
    const sent = await producer('--to', 'logs');
    expect(sent.code).toBe(78);
    expect(sent.stderr).toMatch(
      /^producer: exchange 'logs' exists with other properties than the contract's: .*inequivalent arg 'type'/m,
    );
  });
});

describe("tutorial 4, routing: our producer --to direct_logs --key and pika's receive_logs_direct.py", () => {
  it('a receiver bound to several severities gets those and only those', async () => {
    const r = await receiver(pikaPrograms.receiveLogsDirect, 'warning', 'error', '--max', '2');

    const error = await producer('--to', 'direct_logs', '--key', 'error', 'Run. Run. Or it will explode.');
    expect(error.stdout).toBe(" [x] Sent 'error':'Run. Run. Or it will explode.'\n");
    expect(error.code).toBe(0);
    // No queue is bound with 'info': returned, reported, exit 1.
    const info = await producer('--to', 'direct_logs', 'nobody wants info');
    expect(info.code).toBe(1);
    expect(info.stderr).toMatch(/no queue bound to exchange 'direct_logs' for routing key 'info'/);
    const warning = await producer('--to', 'direct_logs', '--key', 'warning', 'disk almost full');
    expect(warning.code).toBe(0);

    const done = await r.exited;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(" [x] 'error':'Run. Run. Or it will explode.'\n [x] 'warning':'disk almost full'\n");
    expect(done.stdout).not.toContain('nobody wants info');
  });
});

describe("tutorial 5, topics: our producer --to topic_logs --key and pika's receive_logs_topic.py", () => {
  it("routes by '*' (one word) and '#' (zero or more words)", async () => {
    const critical = await receiver(pikaPrograms.receiveLogsTopic, '*.critical', '--max', '2');
    const kernel = await receiver(pikaPrograms.receiveLogsTopic, 'kern.#', '--max', '2');

    const sends: [string, string][] = [
      ['kern.critical', 'A critical kernel error'],
      ['cron.critical', 'cron is down'],
      ['kern.disk.info', 'disk mounted'],
    ];
    for (const [key, text] of sends) {
      const sent = await producer('--to', 'topic_logs', '--key', key, text);
      expect(sent.stdout).toBe(` [x] Sent '${key}':'${text}'\n`);
      expect(sent.code).toBe(0);
    }

    const c = await critical.exited;
    expect(c.stdout).toContain(" [x] 'kern.critical':'A critical kernel error'\n [x] 'cron.critical':'cron is down'\n");
    const k = await kernel.exited;
    expect(k.stdout).toContain(
      " [x] 'kern.critical':'A critical kernel error'\n [x] 'kern.disk.info':'disk mounted'\n",
    );
    expect(k.stdout).not.toContain('cron');
  });

  it('refuses a routing key with a wildcard before connecting (exit 64)', async () => {
    const sent = await producer('--to', 'topic_logs', '--key', 'kern.*', 'x');
    expect(sent.code).toBe(64);
    expect(sent.stderr).toMatch(/^producer: --key 'kern\.\*' cannot route to 'topic_logs': '\*' is not a word/m);
  });
});

describe("tutorial 6, RPC: our producer --rpc and pika's rpc_server.py", () => {
  it('asks fib(30) and prints the answer, as rpc_client.py does', async () => {
    const server = pika(pikaPrograms.rpcServer, '--max', '1');
    await server.waitForOutput(/^ \[x\] Awaiting RPC requests$/);

    const call = await producer('--rpc', '30');
    expect(call.stdout).toBe(' [x] Requesting fib(30)\n [.] Got 832040\n');
    expect(call.code).toBe(0);
    expect((await server.exited).stdout).toContain(' [.] fib(30)\n');
  });

  it('with no server running, gives up after --timeout with one line and exit 1', async () => {
    // A server ran once: its queue is there, nobody consumes it.
    await withChannel(broker.url, (channel) => channel.assertQueue('rpc_queue', { durable: false }));
    const call = await producer('--rpc', '5', '--timeout', '500');
    expect(call.stdout).toBe(' [x] Requesting fib(5)\n');
    expect(call.code).toBe(1);
    expect(call.stderr).toMatch(
      new RegExp(
        /^producer: fib\(5\): no reply from 'rpc_queue' within 500 ms /.source +
          /\(is a server running\? consumer --from rpc_queue\)$/.source,
        'm',
      ),
    );
  });

  it('with no server ever started, says so at once in one line, exits 1 (the client declares no queue)', async () => {
    const call = await producer('--rpc', '5', '--timeout', '30000');
    expect(call.stdout).toBe(' [x] Requesting fib(5)\n');
    expect(call.code).toBe(1);
    expect(call.stderr).toMatch(
      new RegExp(
        /^producer: fib\(5\): returned by the broker: NO_ROUTE \(no queue 'rpc_queue'\) /.source +
          /\(no server has started: consumer --from rpc_queue\)$/.source,
        'm',
      ),
    );
  });

  it('refuses an n over the limit before connecting (exit 64)', async () => {
    const call = await producer('--rpc', '1001');
    expect(call.code).toBe(64);
    expect(call.stderr).toMatch(
      /^producer: option '--rpc <n>' argument '1001' is invalid\. it must be a whole number from 0 to 1000\.$/m,
    );
  });
});
