import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { queues, type QueueDeclaration } from '@hello-rabbit/broker-config';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@hello-rabbit/runtime';
import { BrokerError } from './errors.js';
import {
  checkQueuesViaManagement,
  createManagementClient,
  managementQueueShape,
  queueDifferences,
  queueShapeOf,
  type ManagementQueue,
} from './management-check.js';

/** The queue as the management API shows a queue declared exactly as `declaration` says. */
function asDeclared(declaration: QueueDeclaration, extra: Partial<ManagementQueue> = {}): ManagementQueue {
  const type = declaration.options.arguments['x-queue-type'];
  return {
    name: declaration.name,
    durable: declaration.options.durable,
    auto_delete: declaration.options.autoDelete,
    exclusive: declaration.options.exclusive,
    arguments: { ...declaration.options.arguments },
    type: typeof type === 'string' ? type : 'classic',
    ...extra,
  };
}

describe('queueShapeOf', () => {
  it('takes the type out of the arguments: classic when the declaration names none', () => {
    expect(queueShapeOf(queues.hello)).toEqual({
      type: 'classic',
      durable: false,
      exclusive: false,
      autoDelete: false,
      arguments: {},
    });
    expect(queueShapeOf(queues['task_queue.retry.1'])).toEqual({
      type: 'quorum',
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: {
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': 'task_queue',
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
  });
});

describe('queueDifferences', () => {
  it('finds none for a queue as declared, whatever the order of its arguments', () => {
    const declaration = queues['task_queue.retry.2'];
    const reversed = Object.fromEntries(Object.entries(declaration.options.arguments).reverse());
    expect(queueDifferences(queueShapeOf(declaration), asDeclared(declaration, { arguments: reversed }))).toEqual([]);
    expect(queueDifferences(queueShapeOf(queues.hello), asDeclared(queues.hello))).toEqual([]);
  });

  it('names each property and argument that differs, set on either side', () => {
    const live = asDeclared(queues['task_queue.retry.1'], {
      type: 'classic',
      durable: false,
      arguments: {
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': 'hello',
        'x-overflow': 'reject-publish',
        'x-message-ttl': 5000,
        'x-delivery-limit': 3,
      },
    });
    expect(queueDifferences(queueShapeOf(queues['task_queue.retry.1']), live)).toEqual([
      { property: 'type', contract: 'quorum', broker: 'classic' },
      { property: 'durable', contract: true, broker: false },
      { property: 'arguments.x-dead-letter-routing-key', contract: 'task_queue', broker: 'hello' },
      { property: 'arguments.x-dead-letter-strategy', contract: 'at-least-once', broker: undefined },
      { property: 'arguments.x-delivery-limit', contract: undefined, broker: 3 },
      { property: 'arguments.x-message-ttl', contract: undefined, broker: 5000 },
    ]);
  });

  it('tells a number from a string, and compares exclusive and auto-delete', () => {
    const shape = {
      type: 'classic',
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: { 'x-message-ttl': 1000 },
    };
    const live: ManagementQueue = {
      name: 'q',
      durable: true,
      auto_delete: true,
      exclusive: true,
      type: 'classic',
      arguments: { 'x-message-ttl': '1000' },
    };
    expect(queueDifferences(shape, live).map((d) => d.property)).toEqual([
      'exclusive',
      'auto_delete',
      'arguments.x-message-ttl',
    ]);
  });
});

/** A stand-in for the management API: answers each path as the test says, and records the requests. */
let server: Server;
let base = '';
let answer: (
  path: string,
  request: IncomingMessage,
) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } = () => ({
  status: 404,
});
const requests: { path: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? '';
    requests.push({ path, authorization: request.headers.authorization });
    const { status, body = '', headers = {}, delayMs = 0 } = answer(path, request);
    setTimeout(() => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests.length = 0;
});

const json = (value: unknown) => ({ status: 200, body: JSON.stringify(value) });
const contract = Object.values(queues);
const login = () => ({ url: base, user: 'watcher', password: 'pä$$:w/rd' });
/** The vhost `/` answering every queue of the contract as declared, but for `overrides`. */
const vhostWith =
  (overrides: Record<string, ManagementQueue | undefined> = {}, vhost = '%2F') =>
  (path: string) => {
    if (path === `/api/queues/${vhost}?columns=name`) return json([]);
    const name = decodeURIComponent(path.slice(`/api/queues/${vhost}/`.length));
    if (!path.startsWith(`/api/queues/${vhost}/`)) return { status: 404 };
    if (name in overrides) {
      const queue = overrides[name];
      return queue === undefined
        ? { status: 404, body: '{"error":"Object Not Found","reason":"Not Found"}' }
        : json(queue);
    }
    const declaration = contract.find((q) => q.name === name);
    return declaration === undefined ? { status: 404 } : json(asDeclared(declaration));
  };

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('checkQueuesViaManagement', () => {
  it('finds nothing when every queue is as declared; asks for each queue by name, with Basic auth', async () => {
    answer = vhostWith();
    expect(await checkQueuesViaManagement({ ...login(), vhost: '/', queues: contract })).toEqual([]);
    expect(requests.map((r) => r.path)).toEqual(contract.map((q) => `/api/queues/%2F/${q.name}`));
    expect(requests[0]?.authorization).toBe(`Basic ${Buffer.from('watcher:pä$$:w/rd', 'utf8').toString('base64')}`);
  });

  it('describes each difference in one line, and each missing queue', async () => {
    answer = vhostWith({
      'task_queue.retry.3': undefined,
      'task_queue.retry.1': asDeclared(queues['task_queue.retry.1'], {
        arguments: {
          ...queues['task_queue.retry.1'].options.arguments,
          'x-dead-letter-routing-key': 'hello',
          'x-delivery-limit': 5,
        },
      }),
      hello: asDeclared(queues.hello, { durable: true, type: 'quorum', arguments: { 'x-queue-type': 'quorum' } }),
    });
    const drift = await checkQueuesViaManagement({ ...login(), vhost: '/', queues: contract });
    expect(drift.map((d) => d.description)).toEqual([
      `queue 'hello': type is "quorum" on the broker, "classic" in the contract`,
      `queue 'hello': durable is true on the broker, false in the contract`,
      `queue 'task_queue.retry.1': x-dead-letter-routing-key is "hello" on the broker, "task_queue" in the contract`,
      `queue 'task_queue.retry.1': x-delivery-limit is 5 on the broker, not set in the contract`,
      `vhost '/' has no queue 'task_queue.retry.3'`,
    ]);
    expect(drift[0]).toMatchObject({
      kind: 'different',
      queue: 'hello',
      adoptable: true,
      property: 'type',
      contract: 'classic',
      broker: 'quorum',
    });
    expect(drift.at(-1)).toMatchObject({ kind: 'missing', queue: 'task_queue.retry.3' });
  });

  it('%-encodes the vhost and the queue names', async () => {
    answer = vhostWith({}, 'a%2Fb%20c');
    expect(await checkQueuesViaManagement({ ...login(), vhost: 'a/b c', queues: [queues.hello] })).toEqual([]);
    expect(requests.map((r) => r.path)).toEqual(['/api/queues/a%2Fb%20c/hello']);
  });

  it('says when the vhost itself does not exist', async () => {
    answer = () => ({ status: 404, body: '{"error":"Object Not Found","reason":"Not Found"}' });
    const err = await failure(checkQueuesViaManagement({ ...login(), vhost: 'nope', queues: contract }));
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toMatchObject({
      code: 'VHOST_NOT_FOUND',
      message: `the management API at ${base} has no vhost 'nope': it does not exist`,
    });
  });

  it.each([
    ['a wrong login', '{"error":"not_authorised","reason":"Login failed"}', 'wrong username or password'],
    ['no reason at all', '', 'wrong username or password'],
    [
      'a user without a management tag',
      '{"error":"not_authorised","reason":"Not management user"}',
      "the user has no management tag (give it one: rabbitmqctl set_user_tags 'watcher' management, or monitoring)",
    ],
    [
      'a user without access to the vhost',
      '{"error":"not_authorised","reason":"User not authorised to access virtual host"}',
      'the user has no permissions on the vhost (rabbitmqctl set_permissions, even all "^$", gives access)',
    ],
    ['another reason, which never shows the password', '{"error":"x","reason":"pä$$:w/rd is wrong"}', '*** is wrong'],
  ])('refuses %s with one line that says why (ACCESS_REFUSED)', async (_what, body, why) => {
    answer = () => ({ status: 401, body });
    const err = await failure(checkQueuesViaManagement({ ...login(), vhost: '/', queues: contract }));
    expect(err).toMatchObject({
      code: 'ACCESS_REFUSED',
      message: `the management API at ${base} refused user 'watcher': ${why}`,
    });
    expect(err.message).not.toContain('pä$$');
  });

  it.each([
    [
      'a server error',
      () => ({ status: 503, body: '{"error":"boom"}' }),
      'BROKER_UNREACHABLE',
      () => `the management API at ${base} answered 503: boom`,
    ],
    [
      'a redirect',
      () => ({ status: 301, headers: { location: 'https://elsewhere/' } }),
      'HANDSHAKE_FAILED',
      () =>
        `the management API at ${base} answered with a redirect (301); ` +
        'set AMQP_MANAGEMENT_URL to the address it redirects to',
    ],
    [
      'an answer that is not JSON',
      () => ({ status: 200, body: '<html>' }),
      'HANDSHAKE_FAILED',
      () =>
        `the server at ${base} did not answer as the RabbitMQ management API (no JSON from GET /api/queues/%2F/hello)`,
    ],
    [
      'JSON of another shape',
      () => json({ name: 'hello' }),
      'BROKER_ERROR',
      () =>
        `the management API at ${base} answered GET /api/queues/%2F/hello in an unexpected shape ` +
        '(durable: Invalid input: expected boolean, received undefined)',
    ],
    [
      'an answer that takes too long',
      () => ({ ...json(asDeclared(queues.hello)), delayMs: 2000 }),
      'CONNECT_TIMEOUT',
      () => `the management API at ${base} did not answer within 300 ms`,
    ],
  ] as const)('fails on %s with one line', async (_what, respond, code, message) => {
    answer = respond;
    const err = await failure(
      checkQueuesViaManagement({ ...login(), timeoutMs: 300, vhost: '/', queues: [queues.hello] }),
    );
    expect(err).toMatchObject({ code, message: message() });
  });

  it('says when nothing listens, naming the setting to change', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(
      checkQueuesViaManagement({
        ...login(),
        url: `http://127.0.0.1:${port}`,
        urlSetting: 'MANAGEMENT_URL',
        vhost: '/',
        queues: [queues.hello],
      }),
    );
    expect(err).toMatchObject({
      code: 'BROKER_UNREACHABLE',
      message:
        `cannot reach the management API at http://127.0.0.1:${port}: connection refused ` +
        '(is the rabbitmq_management plugin enabled? set MANAGEMENT_URL if it listens elsewhere)',
    });
  });

  it.each([
    ['not a url', 'AMQP_MANAGEMENT_URL: is not a valid URL (expected http://host:15672)'],
    ['amqp://broker:5672', 'AMQP_MANAGEMENT_URL: must start with http:// or https://, not amqp://'],
    [
      'http://user:secret@broker:15672',
      'AMQP_MANAGEMENT_URL: must not hold a user or password (give the login separately)',
    ],
    ['http://broker:15672/?x=1', 'AMQP_MANAGEMENT_URL: must not have a query or a fragment'],
  ])('refuses the URL %j with a ConfigError naming the setting', async (url, message) => {
    const err = await failure(checkQueuesViaManagement({ ...login(), url, vhost: '/', queues: contract }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain('secret');
  });
});

describe('createManagementClient', () => {
  it('keeps a path prefix and drops a trailing slash; answers undefined for 404', async () => {
    answer = (path) => (path === '/rabbitmq/api/queues/%2F/hello' ? json(asDeclared(queues.hello)) : { status: 404 });
    const client = createManagementClient({ ...login(), url: `${base}/rabbitmq/` });
    expect(client.where).toBe(`${base}/rabbitmq`);
    expect(await client.get('/api/queues/%2F/hello', managementQueueShape)).toMatchObject({
      name: 'hello',
      type: 'classic',
    });
    expect(await client.get('/api/queues/%2F/other', managementQueueShape)).toBeUndefined();
  });
});
