import amqplib from 'amqplib';
import { queues } from '@hello-rabbit/broker-config';
import { HELLO_QUEUES, inspectQueue, TASK_QUEUES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError } from '../src/errors.js';
import { ExitCode } from '../src/exit-codes.js';
import { openBroker, type Broker } from '../src/open-broker.js';
import { endpointOf, memoryLogger } from './helpers.js';

// AMQP_TOPOLOGY=check against the shared broker, in a vhost of this file's own. (Users with
// no configure permission at all need a private node: see tools/e2e least-privilege.)
const vhost = useTestVhost('topology-check', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });
const opened: Broker[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((broker) => broker.shutdown()));
});

async function open(topology: 'declare' | 'check') {
  const { logger, lines } = memoryLogger();
  const broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test', topology }, logger);
  opened.push(broker);
  return { broker, lines };
}

async function failure(topology: 'declare' | 'check'): Promise<BrokerError> {
  try {
    await open(topology);
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
    expect(error.message).toMatch(/^AMQP_TOPOLOGY=check: vhost '[^']+' at [^ ]+ lacks the queues hello, hello\.dlq, task_queue, /);
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
    const session = await broker.subscribe('hello');
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
