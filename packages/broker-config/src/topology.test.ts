import { createRequire } from 'node:module';
import rascal from 'rascal';
import { describe, expect, it } from 'vitest';
import { QueueName } from './names.js';
import { createBrokerConfig, deadLetterPublication, publications, queues, subscriptions } from './topology.js';

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

const config = createBrokerConfig({ url: 'amqp://guest:guest@localhost:5672', vhost: '/' });

describe('the topology', () => {
  it('declares every queue that a publication, a subscription or a dead-letter route names', () => {
    const declared = new Set(Object.values(queues).map((queue) => queue.name));
    for (const publication of Object.values(publications)) expect(declared).toContain(publication.queue);
    for (const subscription of Object.values(subscriptions)) {
      expect(declared).toContain(subscription.queue);
      expect(declared).toContain(subscription.deadLetterQueue);
    }
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
      const dlq = queues[subscription.deadLetterQueue];
      expect(dlq.options.durable).toBe(true);
      expect(dlq.options.autoDelete).toBe(false);
      expect(dlq.options.arguments).not.toHaveProperty('x-message-ttl');
      expect(dlq.options.arguments).not.toHaveProperty('x-max-length');
    }
  });

  it('passes Rascal’s own configuration and validation', async () => {
    await expect(rascalAccepts(config)).resolves.toBeDefined();
  });

  it('fails Rascal’s validation when a publication points at an undeclared queue', async () => {
    const broken = structuredClone(config) as { vhosts: Record<string, { publications: Record<string, { queue: string }> }> };
    const vhost = broken.vhosts['/'];
    if (vhost === undefined) throw new Error('no vhost');
    vhost.publications.stray = { queue: 'nowhere' };
    await expect(rascalAccepts(broken)).rejects.toThrow();
  });
});

describe('createBrokerConfig', () => {
  const vhost = (c: rascal.BrokerConfig, name = '/') => {
    const found = c.vhosts?.[name];
    if (found === undefined) throw new Error(`no vhost ${name}`);
    return found;
  };

  it('publishes with confirms and mandatory routing, so nothing vanishes unreported', () => {
    const published = vhost(config).publications ?? {};
    for (const name of [...Object.keys(publications), deadLetterPublication(QueueName.helloDeadLetters)]) {
      expect(published[name]).toMatchObject({ confirm: true, options: { mandatory: true, persistent: true } });
    }
  });

  it('sends to the default exchange with the queue name as routing key', () => {
    expect(vhost(config).publications?.hello).toMatchObject({ queue: 'hello' });
    expect(vhost(config).publications?.hello).not.toHaveProperty('exchange');
  });

  it('consumes with manual acks and the given prefetch', () => {
    const c = createBrokerConfig({ url: 'amqp://localhost', prefetch: 3 });
    expect(vhost(c).subscriptions?.hello).toMatchObject({ queue: 'hello', prefetch: 3, options: { noAck: false } });
  });

  it('declares a queue in assert mode and only checks an adopted one', () => {
    const c = createBrokerConfig({ url: 'amqp://localhost', queueModes: { hello: 'check' } });
    expect(vhost(c).queues).toMatchObject({
      hello: { assert: false, check: true },
      'hello.dlq': { assert: true, check: false },
    });
  });

  it('names the vhost it is given and passes the connection settings through', () => {
    const c = createBrokerConfig({
      url: 'amqp://u:p@broker:5673/orders',
      vhost: 'orders',
      connectTimeoutMs: 1234,
      heartbeatSeconds: 7,
      connectionName: 'producer',
    });
    expect(vhost(c, 'orders').connection).toMatchObject({
      url: 'amqp://u:p@broker:5673/orders',
      options: { heartbeat: 7, connection_timeout: 1234 },
      socketOptions: { timeout: 1234, clientProperties: { connection_name: 'producer' } },
    });
  });
});
