import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createLogger, parseAmqpUrl } from '@hello-rabbit/runtime';
import { openBroker } from '@hello-rabbit/transport';
import { HELLO_QUEUES, managementEndpoint, TASK_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../src/topology-diff.js';
import { humanLines, lines, ops, opsJson } from './helpers.js';

const broker = useTestVhost('ops-topology', { queues: [...HELLO_QUEUES, ...TASK_QUEUES, 'scratch'] });
const vhost = () => decodeURIComponent(new URL(broker.url).pathname.slice(1));
/** Where the tool finds the management API in these tests. */
const api = managementEndpoint().url;

/** The topology as the apps bring it up: the transport's openBroker declares the contract. */
async function declareAsTheAppsDo(): Promise<void> {
  const parsed = parseAmqpUrl(broker.url);
  if (!parsed.ok) throw new Error(parsed.reason);
  const apps = await openBroker(
    { endpoint: parsed.endpoint, connectionName: 'test' },
    createLogger({ name: 'test', level: 'silent' }),
  );
  await apps.shutdown();
}

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface Report {
  vhost: string;
  inSync: boolean;
  strict: boolean;
  findings: Finding[];
}

describe('ops topology check', () => {
  beforeEach(declareAsTheAppsDo);

  it('exits 0 when the vhost has what the contract declares', async () => {
    const result = await ops(broker.url, ['topology', 'check']);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      `topology of vhost '${vhost()}' (${api}) against the contract:`,
      'in sync: 9 of 9 queues, 0 of 0 exchanges and 0 of 0 bindings as declared',
    ]);
    expect(result.stderr).toBe('');
    const { json } = await opsJson<Report>(broker.url, ['topology', 'check']);
    expect(json).toMatchObject({ vhost: vhost(), inSync: true, strict: false });
    expect(json.findings.filter((f) => f.status !== 'ok')).toEqual([]);
  });

  it('exits 1 and names a missing queue', async () => {
    await withChannel(broker.url, (channel) => channel.deleteQueue('task_queue.retry.2'));
    const result = await ops(broker.url, ['topology', 'check']);
    expect(result.code).toBe(1);
    expect(lines(result.stdout).slice(1)).toEqual([
      "  MISSING         queue 'task_queue.retry.2': declared by the contract, not on the broker",
      'DRIFT: 1 missing (8 of 9 queues, 0 of 0 exchanges and 0 of 0 bindings as declared)',
    ]);
  });

  it('reports a queue declared with other arguments the contract adopts, and fails on it with --strict', async () => {
    await withChannel(broker.url, async (channel) => {
      await channel.deleteQueue('task_queue.retry.1');
      await channel.assertQueue('task_queue.retry.1', {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': 'task_queue',
          'x-overflow': 'reject-publish',
        },
      });
    });
    const lenient = await ops(broker.url, ['topology', 'check']);
    expect(lenient.code).toBe(0);
    expect(lines(lenient.stdout)).toContain(
      "  adopted (info)  queue 'task_queue.retry.1': arguments.x-dead-letter-strategy is none on the broker, " +
        '"at-least-once" in the contract (the contract lets the apps adopt it: they use it as it is)',
    );
    const strict = await opsJson<Report>(broker.url, ['topology', 'check', '--strict']);
    expect(strict.result.code).toBe(1);
    expect(strict.json.findings.filter((f) => f.drift)).toEqual([
      {
        kind: 'queue',
        name: 'task_queue.retry.1',
        status: 'adopted',
        drift: true,
        differences: [{ property: 'arguments.x-dead-letter-strategy', contract: 'at-least-once', broker: null }],
      },
    ]);
  });

  it('fails, strict or not, on a retry queue that dead-letters elsewhere (an argument it requires)', async () => {
    await withChannel(broker.url, async (channel) => {
      await channel.deleteQueue('task_queue.retry.1');
      await channel.assertQueue('task_queue.retry.1', {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': 'elsewhere',
          'x-overflow': 'reject-publish',
        },
      });
    });
    const lenient = await opsJson<Report>(broker.url, ['topology', 'check']);
    expect(lenient.result.code).toBe(1);
    expect(lenient.json.findings.filter((f) => f.drift)).toEqual([
      {
        kind: 'queue',
        name: 'task_queue.retry.1',
        status: 'mismatch',
        drift: true,
        differences: [
          { property: 'arguments.x-dead-letter-routing-key', contract: 'task_queue', broker: 'elsewhere' },
          { property: 'arguments.x-dead-letter-strategy', contract: 'at-least-once', broker: null },
        ],
      },
    ]);
  });

  it('reports a hello of the current tutorials (durable quorum) as adopted', async () => {
    await withChannel(broker.url, async (channel) => {
      await channel.deleteQueue('hello');
      await channel.assertQueue('hello', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    });
    const { result, json } = await opsJson<Report>(broker.url, ['topology', 'check']);
    expect(result.code).toBe(0);
    expect(json.findings.find((f) => f.name === 'hello')).toEqual({
      kind: 'queue',
      name: 'hello',
      status: 'adopted',
      drift: false,
      differences: [
        { property: 'type', contract: 'classic', broker: 'quorum' },
        { property: 'durable', contract: false, broker: true },
      ],
    });
  });

  it('reports queues, exchanges and bindings the contract does not know, failing only with --strict', async () => {
    await withChannel(broker.url, async (channel) => {
      await channel.assertQueue('scratch', { durable: true });
      await channel.assertExchange('legacy', 'fanout', { durable: true });
      await channel.bindQueue('scratch', 'legacy', '');
    });
    try {
      const lenient = await ops(broker.url, ['topology', 'check']);
      expect(lenient.code).toBe(0);
      expect(lines(lenient.stdout).slice(1)).toEqual([
        "  extra (info)    queue 'scratch': not in the contract",
        "  extra (info)    exchange 'legacy': not in the contract",
        '  extra (info)    binding legacy -> queue scratch []: not in the contract',
        'in sync: 9 of 9 queues, 0 of 0 exchanges and 0 of 0 bindings as declared',
      ]);
      const strict = await ops(broker.url, ['topology', 'check', '--strict']);
      expect(strict.code).toBe(1);
      expect(lines(strict.stdout).at(-1)).toBe(
        'DRIFT: 3 extra (9 of 9 queues, 0 of 0 exchanges and 0 of 0 bindings as declared)',
      );
    } finally {
      await withChannel(broker.url, (channel) => channel.deleteExchange('legacy'));
    }
  });

  // The tutorials' exchanges exist once declared on use, or imported.
  it("checks the tutorials' exchanges once they exist, never reporting them as extra", async () => {
    await withChannel(broker.url, async (channel) => {
      await channel.assertExchange('logs', 'fanout', { durable: false });
      // As another program (say, a current tutorial) may declare it: the apps adopt it.
      await channel.assertExchange('direct_logs', 'direct', { durable: true });
    });
    try {
      const lenient = await ops(broker.url, ['topology', 'check']);
      expect(lenient.code).toBe(0);
      expect(lines(lenient.stdout).slice(1)).toEqual([
        `  adopted (info)  exchange 'direct_logs': durable is true on the broker, false in the contract ` +
          `(the contract lets the apps adopt it: they use it as it is)`,
        'in sync: 9 of 9 queues, 2 of 2 exchanges and 0 of 0 bindings as declared',
      ]);
      const strict = await ops(broker.url, ['topology', 'check', '--strict']);
      expect(strict.code).toBe(1);
      expect(lines(strict.stdout).at(-1)).toBe(
        'DRIFT: 1 adopted (9 of 9 queues, 1 of 2 exchanges and 0 of 0 bindings as declared)',
      );
      await withChannel(broker.url, async (channel) => {
        await channel.deleteExchange('logs');
        await channel.assertExchange('logs', 'topic', { durable: false });
      });
      const otherType = await ops(broker.url, ['topology', 'check']);
      expect(otherType.code).toBe(1);
      expect(lines(otherType.stdout)).toContain(
        `  MISMATCH        exchange 'logs': type is "topic" on the broker, "fanout" in the contract ` +
          `(the apps' declare would fail with 406 PRECONDITION_FAILED)`,
      );
    } finally {
      await withChannel(broker.url, async (channel) => {
        await channel.deleteExchange('logs');
        await channel.deleteExchange('direct_logs');
      });
    }
  });

  it('reads the management credentials from mounted secret files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-secrets-'));
    writeFileSync(join(dir, 'user'), 'guest\n');
    writeFileSync(join(dir, 'password'), 'guest\n');
    const result = await ops(broker.url, ['topology', 'check'], {
      MANAGEMENT_USER_FILE: join(dir, 'user'),
      MANAGEMENT_PASSWORD_FILE: join(dir, 'password'),
    });
    expect(result.code).toBe(0);
  });
});

describe('ops, given bad settings or an unreachable API', () => {
  const password = 'Sup3r$ecret';
  const withPassword = (pass: string) => {
    const u = new URL(broker.url);
    u.password = encodeURIComponent(pass);
    return u.toString();
  };

  it.each([
    ['a wrong management password', () => ({ MANAGEMENT_USER: 'guest', MANAGEMENT_PASSWORD: password })],
    ['a wrong password in AMQP_URL (the default management credentials)', () => ({ AMQP_URL: withPassword(password) })],
    [
      'a wrong password in MANAGEMENT_URL',
      () => {
        const u = new URL(api);
        u.username = 'guest';
        u.password = encodeURIComponent(password);
        return { MANAGEMENT_URL: u.toString() };
      },
    ],
  ])('%s gets one line, exit 77, and never the password', async (_, env) => {
    const result = await ops(broker.url, ['topology', 'check'], { LOG_LEVEL: 'trace', ...env() });
    expect(result.code).toBe(77);
    expect(result.stdout).toBe('');
    expect(humanLines(result.stderr)).toEqual([
      `ops: the management API at ${api} refused user 'guest': wrong username or password`,
    ]);
    for (const text of [password, encodeURIComponent(password)])
      expect(`${result.stdout}${result.stderr}`).not.toContain(text);
  });

  it("a wrong AMQP password on a dead-letter command gets the broker's one line, exit 77", async () => {
    const result = await ops(broker.url, ['dlq', 'list'], { AMQP_URL: withPassword(password) });
    expect(result.code).toBe(77);
    expect(humanLines(result.stderr)).toEqual([
      "ops: the broker at localhost:5672 refused the login of user 'guest': wrong username or password",
    ]);
    expect(result.stderr).not.toContain(password);
  });

  it.each([
    [
      'no management API on the port',
      69,
      async () => ({ MANAGEMENT_URL: `http://127.0.0.1:${await closedPort()}` }),
      new RegExp(
        /^ops: cannot reach the management API at http:\/\/127\.0\.0\.1:\d+: connection refused /.source +
          /\(is the rabbitmq_management plugin enabled\? set MANAGEMENT_URL if it listens elsewhere\)$/.source,
      ),
    ],
    [
      'a management host that does not exist',
      69,
      () => ({ MANAGEMENT_URL: 'http://no-such-host.invalid:15672' }),
      /^ops: cannot reach the management API: host 'no-such-host\.invalid' not found$/,
    ],
    [
      'the AMQP port instead of the API',
      69,
      () => ({ MANAGEMENT_URL: 'http://localhost:5672', MANAGEMENT_TIMEOUT_MS: '3000' }),
      /^ops: the server at http:\/\/localhost:5672 did not answer HTTP \(is it the management API's port\?\)$/,
    ],
    [
      'a bad MANAGEMENT_URL',
      78,
      () => ({ MANAGEMENT_URL: 'ftp://localhost' }),
      /^ops: MANAGEMENT_URL: must start with http:\/\/ or https:\/\/, not ftp:\/\/$/,
    ],
  ])('%s gets one line and exit %i', async (_, code, env, message) => {
    const result = await ops(broker.url, ['topology', 'check'], await env());
    expect(result.code).toBe(code);
    expect(humanLines(result.stderr)).toHaveLength(1);
    expect(humanLines(result.stderr)[0]).toMatch(message);
  });

  it('a vhost that does not exist gets one line, exit 77', async () => {
    const u = new URL(broker.url);
    u.pathname = '/no-such-vhost';
    const result = await ops(u.toString(), ['topology', 'check']);
    expect(result.code).toBe(77);
    expect(humanLines(result.stderr)).toEqual([
      `ops: the management API at ${api} has no vhost 'no-such-vhost' for user 'guest': ` +
        'it does not exist or the user has no access',
    ]);
  });
});
