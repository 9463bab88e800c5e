import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  drainQueue,
  eventually,
  inspectQueue,
  RabbitNode,
  runProcess,
  spawnApp,
  withChannel,
} from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, type Env } from './apps.js';
import { repoRoot } from './repo.js';

// Least privilege end to end, on a private node: the definitions exported by the
// documented command are imported, each app logs in as a user of its own with exactly the
// permissions they give, in AMQP_TOPOLOGY=check mode, through every tutorial (1 to 6); what
// those permissions do not allow is refused by the broker and reported.
const VHOST = 'least-privilege';
const users = {
  producer: { name: 'producer', password: 'p@ss:w/rd%#?' },
  consumer: { name: 'consumer', password: 'c0n$umer:p@ss/ü#?%' },
  // The consumer's reads without any write: for the refusal of a publish.
  reader: { name: 'reader', password: 'r3ad:only@' },
};

let node: RabbitNode | undefined;
let dir: string;
let definitionsFile: string;

const broker = () => {
  if (node === undefined) throw new Error('no node');
  return node;
};
const url = (user: { name: string; password: string } | undefined) =>
  `amqp://${user === undefined ? '' : `${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@`}` +
  `127.0.0.1:${broker().port}/${encodeURIComponent(VHOST)}`;
/** guest, with every right on the vhost: the test's own eyes, never an app's. */
const adminUrl = () => `amqp://guest:guest@127.0.0.1:${broker().port}/${encodeURIComponent(VHOST)}`;

const base: Env = { LOG_LEVEL: 'warn', AMQP_TOPOLOGY: 'check' };
const as = (user: { name: string; password: string }, env: Env = {}): Env => ({ ...base, AMQP_URL: url(user), ...env });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hello-rabbit-least-privilege-'));
  definitionsFile = path.join(dir, 'definitions.json');
  node = await RabbitNode.boot({ label: 'e2e-least-privilege' });

  // As docs/security.md says: export the definitions, create the users, import.
  const exported = await runProcess(
    'pnpm',
    [
      '--silent',
      '--filter',
      '@hello-rabbit/broker-config',
      'export-definitions',
      '--',
      '--vhost',
      VHOST,
      '--producer-user',
      users.producer.name,
      '--consumer-user',
      users.consumer.name,
      '--out',
      definitionsFile,
    ],
    { cwd: repoRoot, timeoutMs: 60_000 },
  );
  expect(exported.code, exported.stderr).toBe(0);
  for (const user of Object.values(users)) await broker().ctl(['add_user', user.name, user.password]);
  await broker().ctl(['import_definitions', definitionsFile]);
  await broker().ctl(['set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*']);
  // The reader: the consumer's reads, no write at all.
  const consumerRights = (
    JSON.parse(await readFile(definitionsFile, 'utf8')) as { permissions: { user: string; read: string }[] }
  ).permissions.find((p) => p.user === users.consumer.name);
  await broker().ctl(['set_permissions', '-p', VHOST, users.reader.name, '^$', '^$', consumerRights?.read ?? '^$']);
});
afterAll(async () => {
  await node?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Definitions {
  readonly queues: readonly { name: string; durable: boolean; arguments: { 'x-queue-type'?: string } }[];
  readonly exchanges: readonly { name: string; type: string; durable: boolean }[];
  readonly permissions: readonly { user: string; configure: string; write: string; read: string }[];
}
const definitions = async () => JSON.parse(await readFile(definitionsFile, 'utf8')) as Definitions;
const permissionsOf = async (user: string) => {
  const found = (await definitions()).permissions.find((p) => p.user === user);
  if (found === undefined) throw new Error(`no permissions for ${user}`);
  return found;
};

describe('the exported definitions, imported', () => {
  it('give each app exactly the permissions exported, and make every queue of the contract', async () => {
    const exported = await definitions();
    const listed = await broker().ctl(['list_permissions', '-p', VHOST, '--no-table-headers', '--quiet']);
    const rows = listed
      .trim()
      .split('\n')
      .map((row) => row.split('\t'));
    for (const p of exported.permissions) expect(rows).toContainEqual([p.user, p.configure, p.write, p.read]);
    const queues = await broker().ctl([
      'list_queues',
      '-p',
      VHOST,
      'name',
      'durable',
      'type',
      '--no-table-headers',
      '--quiet',
    ]);
    expect(queues.trim().split('\n').sort()).toEqual(
      exported.queues.map((q) => `${q.name}\t${String(q.durable)}\t${q.arguments['x-queue-type'] ?? 'classic'}`).sort(),
    );
    // The exchanges of tutorials 3 to 5, of their type, as the apps declare them.
    const exchanges = await broker().ctl([
      'list_exchanges',
      '-p',
      VHOST,
      'name',
      'type',
      'durable',
      '--no-table-headers',
      '--quiet',
    ]);
    const exchangeRows = exchanges.trim().split('\n');
    expect(exported.exchanges.map((e) => e.name)).toEqual(['logs', 'direct_logs', 'topic_logs']);
    for (const e of exported.exchanges) expect(exchangeRows).toContain(`${e.name}\t${e.type}\t${String(e.durable)}`);
    // The file holds no user, so importing it again never resets a password.
    expect(exported).not.toHaveProperty('users');
  });

  it('let the producer write only where it publishes, the consumer read only its queues and exchanges', async () => {
    const producer = await permissionsOf('producer');
    const consumer = await permissionsOf('consumer');
    expect(producer).toMatchObject({
      configure: '^$',
      write: '^(amq\\.default|direct_logs|logs|topic_logs)$',
      read: '^$',
    });
    expect(consumer).toMatchObject({ configure: '^amq\\.gen-.*$', write: '^(amq\\.default|amq\\.gen-.*)$' });
    const reads = (name: string) => new RegExp(consumer.read).test(name);
    for (const name of ['hello', 'task_queue', 'rpc_queue', 'logs', 'direct_logs', 'topic_logs', 'amq.gen-abc'])
      expect(reads(name), name).toBe(true);
    for (const name of ['hello.dlq', 'task_queue.dlq', 'task_queue.retry.1', 'rpc_queue.dlq', 'amq.default', 'other'])
      expect(reads(name), name).toBe(false);
  });
});

describe('definitions exported for one command alone, imported into a vhost of their own', () => {
  // In a vhost that holds hello alone.
  it('let a Hello World send run with a user who may write to the default exchange only', async () => {
    const sender = { name: `hello-sender-${randomBytes(3).toString('hex')}`, password: 's3nd:only/h@llo#' };
    const file = path.join(dir, 'hello-send-definitions.json');
    const vhost = await broker().addVhost('hello-send');
    let userAdded = false;
    try {
      const exported = await runProcess(
        'pnpm',
        [
          '--silent',
          '--filter',
          '@hello-rabbit/broker-config',
          'export-definitions',
          '--',
          '--vhost',
          vhost.name,
          '--producer-user',
          sender.name,
          '--producer-to',
          'hello',
          '--out',
          file,
        ],
        { cwd: repoRoot, timeoutMs: 60_000 },
      );
      expect(exported.code, exported.stderr).toBe(0);
      const only = JSON.parse(await readFile(file, 'utf8')) as Definitions;
      expect(only.queues.map((q) => q.name)).toEqual(['hello']);
      expect(only.exchanges).toEqual([]);
      expect(only.permissions).toEqual([
        { user: sender.name, vhost: vhost.name, configure: '^$', write: '^amq\\.default$', read: '^$' },
      ]);

      await broker().ctl(['add_user', sender.name, sender.password]);
      userAdded = true;
      await broker().ctl(['import_definitions', file]);
      const queues = await broker().ctl(['list_queues', '-p', vhost.name, 'name', '--no-table-headers', '--quiet']);
      expect(queues.trim().split('\n')).toEqual(['hello']);

      const env: Env = {
        ...base,
        AMQP_URL:
          `amqp://${encodeURIComponent(sender.name)}:${encodeURIComponent(sender.password)}` +
          `@127.0.0.1:${broker().port}/${encodeURIComponent(vhost.name)}`,
      };
      const sent = await spawnApp('producer', ['Hello World!'], { env, timeoutMs: 60_000 }).exited;
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toBe(" [x] Sent 'Hello World!'\n");
      expect((await drainQueue(vhost.url, 'hello')).map((m) => m.body)).toEqual(['Hello World!']);
      // Nothing else is there for it: another command of the producer finds no queue of its own.
      const other = await spawnApp('producer', ['--to', 'task_queue', 'x'], { env, timeoutMs: 60_000 }).exited;
      expect(other.code, other.stderr).toBe(78);
      expect(errorLines(other.stderr).join('\n')).toMatch(/lacks the queue task_queue/);
    } finally {
      if (userAdded) await broker().ctl(['delete_user', sender.name]);
      await vhost.dispose();
    }
  });
});

describe('each app, with exactly its permissions, in check mode', () => {
  it('publishes (confirmed) and consumes hello; the consumer reads its password from a file', async () => {
    const passwordFile = path.join(dir, 'consumer-password');
    await writeFile(passwordFile, `${users.consumer.password}\n`, { mode: 0o600 });
    const consumer = spawnApp('consumer', [], {
      env: {
        ...base,
        AMQP_URL: `amqp://${users.consumer.name}@127.0.0.1:${broker().port}/${encodeURIComponent(VHOST)}`,
        AMQP_PASSWORD_FILE: passwordFile,
      },
      timeoutMs: 90_000,
    });
    try {
      await consumer.waitForOutput(/Waiting for messages/, 30_000);
      const sent = await spawnApp('producer', ['least privilege'], { env: as(users.producer), timeoutMs: 60_000 })
        .exited;
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toBe(" [x] Sent 'least privilege'\n");
      await consumer.waitForOutput(/Received 'least privilege'/);
    } finally {
      expect((await consumer.stop('SIGTERM')).code).toBe(0);
    }
    expect(await inspectQueue(adminUrl(), 'hello')).toMatchObject({ messageCount: 0 });
  });

  it('does the tasks: acks the good one, retries the failing one via a wait queue, then dead-letters it', async () => {
    const worker = spawnApp('consumer', ['--from', 'task_queue'], {
      env: as(users.consumer, {
        WORK_UNIT_MS: '0',
        MAX_ATTEMPTS: '2',
        RETRY_DELAYS_MS: '200',
        FAIL_TASKS_MATCHING: '^poison',
        LOG_LEVEL: 'info',
      }),
      timeoutMs: 90_000,
    });
    try {
      await worker.waitForOutput(/Waiting for messages/, 30_000);
      for (const task of ['good task.', 'poison task.']) {
        const sent = await spawnApp('producer', ['--to', 'task_queue', task], {
          env: as(users.producer),
          timeoutMs: 60_000,
        }).exited;
        expect(sent.code, sent.stderr).toBe(0);
      }
      await worker.waitForOutput(/Received 'good task\.'/);
      await eventually(
        async () => ((await inspectQueue(adminUrl(), 'task_queue.dlq'))?.messageCount ?? 0) === 1,
        30_000,
        'the dead letter',
      );
    } finally {
      expect((await worker.stop('SIGTERM')).code).toBe(0);
    }
    // Received twice: the first attempt, and the retry the wait queue gave back.
    expect(worker.stdout.split('\n').filter((line) => line === " [x] Received 'poison task.'")).toHaveLength(2);
    expect(worker.stderr).toMatch(/"msg":"[^"]*retr/i);
    const [dead] = await drainQueue(adminUrl(), 'task_queue.dlq');
    expect(dead?.body).toBe('poison task.');
    expect(String(dead?.properties.headers?.['x-dead-letter-reason'])).toMatch(/attempt/i);
    expect(await inspectQueue(adminUrl(), 'task_queue')).toMatchObject({ messageCount: 0 });
  });
});

describe('tutorials 3 to 6, each app with exactly its permissions, in check mode', () => {
  // Each subscriber gets its own queue, bound as it asks, and the lines it asked for.
  it('publish/subscribe, routing and topics', async () => {
    const subscribers = {
      logs: spawnApp('consumer', ['--from', 'logs'], { env: as(users.consumer), timeoutMs: 90_000 }),
      direct: spawnApp('consumer', ['--from', 'direct_logs', '--key', 'error'], {
        env: as(users.consumer),
        timeoutMs: 90_000,
      }),
      topic: spawnApp('consumer', ['--from', 'topic_logs', '--key', 'kern.*', '--key', '*.critical'], {
        env: as(users.consumer),
        timeoutMs: 90_000,
      }),
    };
    try {
      for (const subscriber of Object.values(subscribers)) await subscriber.waitForOutput(/Waiting for logs/, 60_000);
      const sends: [string[], string][] = [
        [['--to', 'logs', 'info: Hello World!'], " [x] Sent 'info: Hello World!'\n"],
        [['--to', 'direct_logs', '--key', 'error', 'Run. Run.'], " [x] Sent 'error':'Run. Run.'\n"],
        [
          ['--to', 'topic_logs', '--key', 'kern.critical', 'A critical kernel error'],
          " [x] Sent 'kern.critical':'A critical kernel error'\n",
        ],
      ];
      for (const [args, line] of sends) {
        const sent = await spawnApp('producer', args, { env: as(users.producer), timeoutMs: 60_000 }).exited;
        expect(sent.code, sent.stderr).toBe(0);
        expect(sent.stdout).toBe(line);
      }
      await subscribers.logs.waitForOutput(/^ \[x\] 'info: Hello World!'$/m);
      await subscribers.direct.waitForOutput(/^ \[x\] 'error':'Run\. Run\.'$/m);
      await subscribers.topic.waitForOutput(/^ \[x\] 'kern\.critical':'A critical kernel error'$/m);
      // The queues the broker named for them, bound to the exchanges by the consumer's user.
      const bindings = await broker().ctl([
        'list_bindings',
        '-p',
        VHOST,
        'source_name',
        'destination_name',
        'routing_key',
        '--no-table-headers',
        '--quiet',
      ]);
      // Not trimmed: a binding of the default exchange starts with its empty source, a tab.
      const bound = bindings
        .split('\n')
        .filter((row) => row !== '')
        .map((row) => row.split('\t'))
        .filter(([source]) => source !== '');
      expect(bound.map(([source, , key]) => `${source ?? ''} ${key ?? ''}`).sort()).toEqual(
        ['logs ', 'direct_logs error', 'topic_logs kern.*', 'topic_logs *.critical'].sort(),
      );
      for (const [, queue] of bound) expect(queue).toMatch(/^amq\.gen-/);
    } finally {
      for (const subscriber of Object.values(subscribers)) {
        const stopped = await subscriber.stop('SIGTERM');
        expect(stopped.code, stopped.stderr).toBe(0);
      }
    }
    // Their queues went with them.
    const left = await broker().ctl(['list_queues', '-p', VHOST, 'name', '--no-table-headers', '--quiet']);
    expect(left.split('\n').filter((name) => name.startsWith('amq.gen-'))).toEqual([]);
  });

  it('RPC: the server answers on rpc_queue, the client gets its reply through direct reply-to', async () => {
    const server = spawnApp('consumer', ['--from', 'rpc_queue'], { env: as(users.consumer), timeoutMs: 90_000 });
    try {
      await server.waitForOutput(/Awaiting RPC requests/, 60_000);
      const call = await spawnApp('producer', ['--rpc', '30'], { env: as(users.producer), timeoutMs: 60_000 }).exited;
      expect(call.code, call.stderr).toBe(0);
      expect(call.stdout).toBe(' [x] Requesting fib(30)\n [.] Got 832040\n');
      await server.waitForOutput(/^ \[\.\] fib\(30\)$/m);
    } finally {
      const stopped = await server.stop('SIGTERM');
      expect(stopped.code, stopped.stderr).toBe(0);
    }
    expect(await inspectQueue(adminUrl(), 'rpc_queue')).toMatchObject({ messageCount: 0 });
    expect(await inspectQueue(adminUrl(), 'rpc_queue.dlq')).toMatchObject({ messageCount: 0 });
  });
});

describe('what the permissions do not allow', () => {
  // The default mode needs configure permission.
  it('refuses to declare, and the error says how to run without configure permission', async () => {
    const result = await spawnApp('producer', ['x'], {
      env: as(users.producer, { AMQP_TOPOLOGY: 'declare' }),
      timeoutMs: 60_000,
    }).exited;
    expect(result.code).toBe(77);
    expect(errorLines(result.stderr)).toEqual([
      `producer: declaring queue 'hello': the broker refused: ` +
        `access to queue 'hello' in vhost '${VHOST}' refused for user 'producer' ` +
        '(QueueDeclare needs configure permission; ' +
        'a user without it can run with AMQP_TOPOLOGY=check once the queues exist)',
    ]);
  });

  it('refuses to let the producer consume: it may read nothing', async () => {
    const result = await spawnApp('consumer', [], { env: as(users.producer), timeoutMs: 60_000 }).exited;
    expect(result.code).toBe(77);
    expect(errorLines(result.stderr)).toEqual([
      `consumer: cannot consume queue 'hello': the broker refused: ` +
        `access to queue 'hello' in vhost '${VHOST}' refused for user 'producer' (BasicConsume needs read permission)`,
    ]);
  });

  it('refuses a publish where the user may not write, and the producer says so and exits non-zero', async () => {
    const result = await spawnApp('producer', ['not allowed'], {
      env: as(users.reader, { PUBLISH_DEADLINE_MS: '2000' }),
      timeoutMs: 60_000,
    }).exited;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = errorLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^producer: 'not allowed' was not sent: .*access to exchange 'amq.default'.* refused for user 'reader'/,
    );
    expect(result.stderr).toMatch(
      new RegExp(`access to exchange 'amq.default' in vhost '${VHOST}' refused for user 'reader'`),
    );
    expect(await inspectQueue(adminUrl(), 'hello')).toMatchObject({ messageCount: 0 });
  });

  it('refuses to let the producer serve RPC requests: it may not consume rpc_queue', async () => {
    const result = await spawnApp('consumer', ['--from', 'rpc_queue'], { env: as(users.producer), timeoutMs: 60_000 })
      .exited;
    expect(result.code).toBe(77);
    expect(errorLines(result.stderr)).toEqual([
      `consumer: cannot consume queue 'rpc_queue': the broker refused: ` +
        `access to queue 'rpc_queue' in vhost '${VHOST}' refused for user 'producer' ` +
        '(BasicConsume needs read permission)',
    ]);
  });

  it('refuses to let the producer subscribe to logs: it may not declare a queue, even a server-named one', async () => {
    const result = await spawnApp('consumer', ['--from', 'logs'], { env: as(users.producer), timeoutMs: 60_000 })
      .exited;
    expect(result.code).toBe(77);
    const lines = errorLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^consumer: subscribing to exchange 'logs': declaring its own queue: the broker refused: ` +
          `access to queue 'amq\\.gen-[\\w-]+' in vhost '${VHOST}' refused for user 'producer' ` +
          '\\(QueueDeclare of a queue named by the broker needs configure permission on amq\\.gen-\\.\\*\\)$',
      ),
    );
  });

  it('refuses to let the consumer publish to logs, and the producer run as it says so and exits non-zero', async () => {
    const result = await spawnApp('producer', ['--to', 'logs', 'not allowed'], {
      env: as(users.consumer, { PUBLISH_DEADLINE_MS: '2000' }),
      timeoutMs: 60_000,
    }).exited;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = errorLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^producer: 'not allowed' was not sent: ` +
          `.*access to exchange 'logs' in vhost '${VHOST}' refused for user 'consumer'`,
      ),
    );
  });

  // With the broker’s reason.
  it('refuses an RPC request from a user who may not write to the default exchange', async () => {
    const result = await spawnApp('producer', ['--rpc', '5', '--timeout', '5000'], {
      env: as(users.reader),
      timeoutMs: 60_000,
    }).exited;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(' [x] Requesting fib(5)\n');
    expect(errorLines(result.stderr)).toEqual([
      `producer: fib(5): the broker refused: ` +
        `access to exchange 'amq.default' in vhost '${VHOST}' refused for user 'reader' ` +
        '(publishing needs write permission)',
    ]);
  });

  it('refuses the apps’ users anything beyond their rights: other exchanges, other queues', async () => {
    type Channel = Parameters<Parameters<RabbitNode['withChannelAs']>[1]>[0];
    /** What the broker says when it closes the channel on `act`. */
    const refused = (user: { name: string; password: string }, act: (channel: Channel) => Promise<unknown>) =>
      broker().withChannelAs({ user: user.name, password: user.password, vhost: VHOST }, async (channel) => {
        const closed = new Promise<Error>((resolve) => channel.once('error', resolve));
        await act(channel).catch(() => undefined);
        return (await closed).message;
      });
    const publishTo = (exchange: string) => (channel: Channel) => {
      channel.publish(exchange, 'hello', Buffer.from('x'));
      return new Promise((resolve) => setTimeout(resolve, 2000));
    };
    expect(await refused(users.producer, publishTo('amq.topic'))).toMatch(
      /403 \(ACCESS-REFUSED\).*access to exchange 'amq.topic'/,
    );
    expect(await refused(users.consumer, publishTo('amq.fanout'))).toMatch(
      /403 \(ACCESS-REFUSED\).*access to exchange 'amq.fanout'/,
    );
    // The dead letters are for operators, not for the consumer.
    expect(await refused(users.consumer, (channel) => channel.consume('task_queue.dlq', () => undefined))).toMatch(
      /403 \(ACCESS-REFUSED\).*access to queue 'task_queue.dlq'/,
    );
    expect(await refused(users.consumer, (channel) => channel.assertQueue('mine', { durable: true }))).toMatch(
      /403 \(ACCESS-REFUSED\).*access to queue 'mine'/,
    );
    // Its own queues bind to the log exchanges only.
    expect(
      await refused(users.consumer, async (channel) => {
        const { queue } = await channel.assertQueue('', { exclusive: true, durable: false });
        await channel.bindQueue(queue, 'amq.topic', '#');
      }),
    ).toMatch(/403 \(ACCESS-REFUSED\).*access to exchange 'amq.topic'/);
    // Neither may delete an exchange of the contract.
    expect(await refused(users.consumer, (channel) => channel.deleteExchange('logs'))).toMatch(
      /403 \(ACCESS-REFUSED\).*access to exchange 'logs'/,
    );
    expect(await refused(users.producer, (channel) => channel.deleteExchange('logs'))).toMatch(
      /403 \(ACCESS-REFUSED\).*access to exchange 'logs'/,
    );
  });

  it('names a queue that is missing at start, in check mode; importing the definitions again restores it', async () => {
    await withChannel(adminUrl(), (channel) => channel.deleteQueue('task_queue.retry.3'));
    const result = await spawnApp('consumer', ['--from', 'task_queue'], { env: as(users.consumer), timeoutMs: 60_000 })
      .exited;
    expect(result.code).toBe(78);
    expect(errorLines(result.stderr)).toEqual([
      `consumer: AMQP_TOPOLOGY=check: vhost '${VHOST}' at 127.0.0.1:${broker().port} ` +
        'lacks the queue task_queue.retry.3 (import the definitions from export-definitions, ' +
        'or start once with AMQP_TOPOLOGY=declare as a user who may configure them)',
    ]);
    await broker().ctl(['import_definitions', definitionsFile]);
    expect(await inspectQueue(adminUrl(), 'task_queue.retry.3')).toBeDefined();
  });

  // Importing the definitions again restores it.
  it('names an exchange missing at start, in check mode, for the publisher and the subscriber', async () => {
    await withChannel(adminUrl(), (channel) => channel.deleteExchange('topic_logs'));
    const advice =
      '(import the definitions from export-definitions, ' +
      'or start once with AMQP_TOPOLOGY=declare as a user who may configure it)';
    const subscriber = await spawnApp('consumer', ['--from', 'topic_logs', '--key', '#'], {
      env: as(users.consumer),
      timeoutMs: 60_000,
    }).exited;
    expect(subscriber.code).toBe(78);
    expect(errorLines(subscriber.stderr)).toEqual([
      `consumer: AMQP_TOPOLOGY=check: the broker has no exchange 'topic_logs' ${advice}`,
    ]);
    const publisher = await spawnApp('producer', ['--to', 'topic_logs', 'x'], {
      env: as(users.producer),
      timeoutMs: 60_000,
    }).exited;
    expect(publisher.code).toBe(78);
    expect(errorLines(publisher.stderr)).toEqual([
      `producer: AMQP_TOPOLOGY=check: the broker has no exchange 'topic_logs' ${advice}`,
    ]);
    await broker().ctl(['import_definitions', definitionsFile]);
    await withChannel(adminUrl(), (channel) => channel.checkExchange('topic_logs'));
  });
});
