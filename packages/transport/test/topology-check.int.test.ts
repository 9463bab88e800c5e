import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { queues } from '@hello-rabbit/broker-config';
import {
  ctl,
  enableManagement,
  HELLO_QUEUES,
  inspectQueue,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
  type ManagementEndpoint,
} from '@hello-rabbit/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError } from '../src/errors.js';
import { ExitCode } from '@hello-rabbit/runtime';
import { openBroker } from '../src/open-broker.js';
import { subscribeQueue, type Broker } from '../src/rascal-adapter.js';
import { endpointOf, memoryLogger } from './helpers.js';

// AMQP_TOPOLOGY=check against the shared broker, in a vhost of this file's own. (Users with
// no configure permission at all need a private node: see tools/e2e least-privilege.)
const vhost = useTestVhost('topology-check', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });
const opened: Broker[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((broker) => broker.shutdown()));
});

async function open(topology: 'declare' | 'check', managementUrl?: string) {
  const { logger, lines } = memoryLogger();
  const broker = await openBroker(
    { endpoint: endpointOf(vhost.url), connectionName: 'test', topology, managementUrl },
    logger,
  );
  opened.push(broker);
  return { broker, lines };
}

async function failure(topology: 'declare' | 'check', managementUrl?: string): Promise<BrokerError> {
  try {
    await open(topology, managementUrl);
  } catch (err) {
    if (err instanceof BrokerError) return err;
    throw err;
  }
  throw new Error('opened after all');
}

const declareAll = async () => {
  const { broker } = await open('declare');
  await broker.shutdown();
  opened.splice(opened.indexOf(broker), 1);
};

describe('openBroker with topology check', () => {
  it('declares nothing and names every missing queue in one line, exit code 78', async () => {
    const error = await failure('check');
    expect(error.code).toBe('TOPOLOGY_MISMATCH');
    expect(error.exitCode).toBe(ExitCode.config);
    expect(error.message).not.toContain('\n');
    for (const name of Object.keys(queues)) expect(error.message).toContain(name);
    expect(error.message).toMatch(
      /^AMQP_TOPOLOGY=check: vhost '[^']+' at [^ ]+ lacks the queues hello, hello\.dlq, task_queue, /,
    );
    for (const name of Object.keys(queues)) expect(await inspectQueue(vhost.url, name), name).toBeUndefined();
  });

  it('names only the queues that are missing', async () => {
    await declareAll();
    await withChannel(vhost.url, (channel) => channel.deleteQueue('task_queue.retry.2'));
    const error = await failure('check');
    expect(error.message).toMatch(/ lacks the queue task_queue\.retry\.2 \(/);
    expect(await inspectQueue(vhost.url, 'task_queue.retry.2')).toBeUndefined();
  });

  it('starts when every queue exists, checking only', async () => {
    await declareAll();
    const { broker, lines } = await open('check');
    expect(lines.join('\n')).toMatch(/"topology":"check"/);
    const session = await subscribeQueue(broker, 'hello');
    await new Promise<void>((resolve, reject) => {
      session.once('subscribed', resolve);
      session.once('error', reject);
      session.on('message', () => undefined);
    });
    await session.cancel();
  });

  it('says so when a queue is exclusive to another connection', async () => {
    await declareAll();
    await withChannel(vhost.url, (channel) => channel.deleteQueue('hello'));
    const owner = await amqplib.connect(vhost.url);
    try {
      const channel = await owner.createChannel();
      await channel.assertQueue('hello', { exclusive: true, durable: false });
      const error = await failure('check');
      expect(error.code).toBe('TOPOLOGY_MISMATCH');
      expect(error.message).toMatch(/ has hello exclusive to another connection/);
    } finally {
      await owner.close();
    }
  });
});

describe('openBroker comparing the queues through the management API (AMQP_MANAGEMENT_URL)', () => {
  let api: ManagementEndpoint;
  beforeAll(async () => {
    api = await enableManagement();
  });

  /** task_queue.retry.2 again, as the contract declares it but for these arguments. */
  const redeclareRetry2 = async (overrides: Record<string, unknown>) => {
    await withChannel(vhost.url, async (channel) => {
      await channel.deleteQueue('task_queue.retry.2');
      const { options } = queues['task_queue.retry.2'];
      await channel.assertQueue('task_queue.retry.2', {
        ...options,
        arguments: { ...options.arguments, ...overrides },
      });
    });
  };

  it('starts in check mode when every queue is as the contract declares it', async () => {
    await declareAll();
    const { lines } = await open('check', api.url);
    expect(lines.join('\n')).not.toContain('exists with other properties');
  });

  it('refuses to start in check mode on a retry queue that dead-letters elsewhere, naming the argument', async () => {
    await declareAll();
    await redeclareRetry2({ 'x-dead-letter-routing-key': 'hello' });
    // Without the API, AMQP can only tell that the queue exists: it starts.
    const { broker } = await open('check');
    await broker.shutdown();
    opened.splice(opened.indexOf(broker), 1);

    const error = await failure('check', api.url);
    expect(error.code).toBe('TOPOLOGY_MISMATCH');
    expect(error.exitCode).toBe(ExitCode.config);
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(
      `vhost '${endpointOf(vhost.url).vhost}' differs from the contract: ` +
        `queue 'task_queue.retry.2': x-dead-letter-routing-key is "hello" on the broker, "task_queue" in the contract`,
    );
  });

  it('refuses the same in declare mode, where the queue would have been adopted as it is', async () => {
    await declareAll();
    await redeclareRetry2({ 'x-dead-letter-routing-key': 'hello' });
    const error = await failure('declare', api.url);
    expect(error.code).toBe('TOPOLOGY_MISMATCH');
    expect(error.message).toContain(`queue 'task_queue.retry.2': x-dead-letter-routing-key is "hello"`);
  });

  // A classic durable task_queue, as the original tutorial declares it.
  it('adopts, and logs, what the contract lets differ', async () => {
    await declareAll();
    await withChannel(vhost.url, async (channel) => {
      await channel.deleteQueue('task_queue');
      await channel.assertQueue('task_queue', { durable: true });
    });
    const { lines } = await open('check', api.url);
    const adopted = lines
      .map((line) => JSON.parse(line) as { msg: string; differences?: string[] })
      .find((line) => line.msg.startsWith("queue 'task_queue' exists"));
    expect(adopted?.differences?.join('; ')).toMatch(
      /queue 'task_queue': (type|x-queue-type) is "classic" on the broker, "quorum" in the contract/,
    );
  });

  it('says in one line when the API refuses the user (no management tag), without the password', async () => {
    await declareAll();
    // A user AMQP lets in (every permission on the vhost) but the API does not: no tag.
    const user = `tc-untagged-${randomBytes(3).toString('hex')}`;
    const password = 'untagged-p@ss';
    const vhostName = endpointOf(vhost.url).vhost;
    await ctl('add_user', user, password);
    try {
      await ctl('set_permissions', '-p', vhostName, user, '.*', '.*', '.*');
      const url = new URL(vhost.url);
      url.username = user;
      url.password = encodeURIComponent(password);
      const { logger } = memoryLogger([password]);
      let error: unknown;
      try {
        opened.push(
          await openBroker(
            { endpoint: endpointOf(url.toString()), connectionName: 'test', topology: 'check', managementUrl: api.url },
            logger,
          ),
        );
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(BrokerError);
      expect((error as BrokerError).code).toBe('ACCESS_REFUSED');
      expect((error as BrokerError).message).toMatch(/management/);
      expect((error as BrokerError).message).not.toContain('\n');
      expect((error as BrokerError).message).not.toContain(password);
    } finally {
      await ctl('delete_user', user);
    }
  });
});
