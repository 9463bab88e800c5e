import { createRequire } from 'node:module';
import rascal from 'rascal';
import { describe, expect, it } from 'vitest';
import { publications, queues, queuesUsedBy, rascalTopology, subscriptions } from './topology.js';

type Callback = (err: Error | null, config?: unknown) => void;
const require = createRequire(import.meta.url);
// Rascal's own configuration and validation steps, as BrokerAsPromised.create runs them
// before it connects.
const configure = require('rascal/lib/config/configure') as (config: unknown, next: Callback) => void;
const validate = require('rascal/lib/config/validate') as (config: unknown, next: Callback) => void;

function rascalAccepts(config: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    configure(rascal.withDefaultConfig(structuredClone(config) as rascal.BrokerConfig), (err, configured) => {
      if (err) {
        reject(err);
        return;
      }
      validate(configured, (validationError) => {
        if (validationError) reject(validationError);
        else resolve(configured);
      });
    });
  });
}

const declared = (name: string) => {
  const found = Object.values(queues).find((queue) => queue.name === name);
  if (found === undefined) throw new Error(`queue ${name} is not declared`);
  return found;
};

const config = rascalTopology({ vhost: '/' });

describe('the topology', () => {
  it('declares every queue that a publication, a subscription or a dead-letter route names', () => {
    const names = new Set(Object.values(queues).map((queue) => queue.name));
    for (const publication of Object.values(publications)) expect(names).toContain(publication.queue);
    for (const subscription of Object.values(subscriptions)) {
      expect(names).toContain(subscription.queue);
      expect(names).toContain(subscription.deadLetterQueue);
      for (const retry of subscription.retryQueues) expect(names).toContain(retry);
    }
  });

  it('routes every retry wait queue back to its queue, keeping the message until it is there', () => {
    for (const subscription of Object.values(subscriptions)) {
      for (const name of subscription.retryQueues) {
        expect(declared(name).options.durable).toBe(true);
        expect(declared(name).options.arguments).toEqual({
          'x-queue-type': 'quorum',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': subscription.queue,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        });
      }
    }
  });

  it('declares task_queue durable and quorum when it creates it, adopting any existing shape', () => {
    expect(queues.task_queue.options).toMatchObject({ durable: true, arguments: { 'x-queue-type': 'quorum' } });
    expect(queues.task_queue.adoptExisting).toBe(true);
  });

  it('dispatches tasks fairly: one unacknowledged task per worker', () => {
    expect(subscriptions.task_queue.prefetch).toBe(1);
  });

  it('keys every queue by its own name', () => {
    for (const [key, queue] of Object.entries(queues)) expect(queue.name).toBe(key);
  });

  it("declares 'hello' exactly as pika's queue_declare(queue='hello') does", () => {
    expect(queues.hello.options).toEqual({ durable: false, exclusive: false, autoDelete: false, arguments: {} });
    expect(queues.hello.adoptExisting).toBe(true);
  });

  it('keeps dead letters in durable queues that nothing drops', () => {
    for (const subscription of Object.values(subscriptions)) {
      const dlq = declared(subscription.deadLetterQueue);
      expect(dlq.options.durable).toBe(true);
      expect(dlq.options.autoDelete).toBe(false);
      expect(dlq.options.arguments).not.toHaveProperty('x-message-ttl');
      expect(dlq.options.arguments).not.toHaveProperty('x-max-length');
    }
  });

  it('passes Rascal’s own configuration and validation', async () => {
    await expect(rascalAccepts(config)).resolves.toBeDefined();
  });

  it('fails Rascal’s validation when a subscription points at an undeclared queue', async () => {
    const broken = structuredClone(config) as {
      vhosts: Record<string, { subscriptions: Record<string, { queue: string }> }>;
    };
    const vhost = broken.vhosts['/'];
    if (vhost === undefined) throw new Error('no vhost');
    vhost.subscriptions.stray = { queue: 'nowhere' };
    await expect(rascalAccepts(broken)).rejects.toThrow();
  });
});

describe('rascalTopology', () => {
  const vhost = (c: rascal.BrokerConfig, name = '/') => {
    const found = c.vhosts?.[name];
    if (found === undefined) throw new Error(`no vhost ${name}`);
    return found;
  };

  it('declares no Rascal publications: publishing goes through the transport, not broker.publish', () => {
    expect(vhost(config).publications ?? {}).toEqual({});
  });

  it("names no broker: the connections are the transport's", () => {
    expect(vhost(config).connections ?? []).toEqual([]);
  });

  it('consumes with manual acks and each subscription’s prefetch, unless told otherwise', () => {
    expect(vhost(config).subscriptions?.hello).toMatchObject({
      queue: 'hello',
      prefetch: 10,
      options: { noAck: false },
    });
    expect(vhost(config).subscriptions?.task_queue).toMatchObject({
      queue: 'task_queue',
      prefetch: 1,
      options: { noAck: false },
    });
    const c = rascalTopology({ prefetch: 3 });
    expect(vhost(c).subscriptions?.hello).toMatchObject({ prefetch: 3 });
  });

  it('declares a queue in assert mode and only checks an adopted one', () => {
    const c = rascalTopology({ queueModes: { hello: 'check' } });
    expect(vhost(c).queues).toMatchObject({
      hello: { assert: false, check: true },
      'hello.dlq': { assert: true, check: false },
      task_queue: { assert: true, check: false },
    });
  });

  it('names the vhost it is given', () => {
    const c = rascalTopology({ vhost: 'orders' });
    expect(vhost(c, 'orders').subscriptions?.hello).toMatchObject({ vhost: 'orders', queue: 'hello' });
  });
});

describe('what a command uses', () => {
  const names = (use: Parameters<typeof queuesUsedBy>[0]) => queuesUsedBy(use).map((queue) => queue.name);

  it('a publication uses its queue alone', () => {
    expect(names({ publications: ['hello'] })).toEqual(['hello']);
    expect(names({ publications: ['task_queue'] })).toEqual(['task_queue']);
  });

  it('a subscription uses its queue, its retry queues and its dead-letter queue', () => {
    expect(names({ subscriptions: ['hello'] })).toEqual(['hello', 'hello.dlq']);
    expect(names({ subscriptions: ['task_queue'] })).toEqual([
      'task_queue',
      'task_queue.dlq',
      'task_queue.retry.1',
      'task_queue.retry.2',
      'task_queue.retry.3',
    ]);
    expect(names({ subscriptions: ['rpc_queue'] })).toEqual(['rpc_queue', 'rpc_queue.dlq']);
  });

  it('nothing uses nothing', () => {
    expect(names({})).toEqual([]);
  });

  it('gives Rascal only those queues, and only the subscriptions it consumes', () => {
    const c = rascalTopology({ use: { subscriptions: ['task_queue'] } });
    const v = c.vhosts?.['/'];
    expect(Object.keys(v?.queues ?? {})).toEqual([
      'task_queue',
      'task_queue.dlq',
      'task_queue.retry.1',
      'task_queue.retry.2',
      'task_queue.retry.3',
    ]);
    expect(Object.keys(v?.subscriptions ?? {})).toEqual(['task_queue']);
    const send = rascalTopology({ use: { publications: ['hello'] } }).vhosts?.['/'];
    expect(Object.keys(send?.queues ?? {})).toEqual(['hello']);
    expect(Object.keys(send?.subscriptions ?? {})).toEqual([]);
  });

  it('without a use, declares the whole contract, as before', () => {
    const v = rascalTopology().vhosts?.['/'];
    expect(Object.keys(v?.queues ?? {})).toHaveLength(Object.keys(queues).length);
    expect(Object.keys(v?.subscriptions ?? {})).toEqual(Object.keys(subscriptions));
  });
});
