import { createRequire } from 'node:module';
import rascal from 'rascal';
import { describe, expect, it } from 'vitest';
import { connectionSocketOptions, createBrokerConfig, publications, queues, subscriptions } from './topology.js';

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

const config = createBrokerConfig({ url: 'amqp://guest:guest@localhost:5672', vhost: '/' });

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
    for (const name of Object.keys(publications)) {
      expect(published[name]).toMatchObject({ confirm: true, options: { mandatory: true, persistent: true } });
    }
  });

  it('sends to the default exchange with the queue name as routing key', () => {
    expect(vhost(config).publications?.hello).toMatchObject({ queue: 'hello' });
    expect(vhost(config).publications?.hello).not.toHaveProperty('exchange');
  });

  it('consumes with manual acks and each subscription’s prefetch, unless told otherwise', () => {
    expect(vhost(config).subscriptions?.hello).toMatchObject({ queue: 'hello', prefetch: 10, options: { noAck: false } });
    expect(vhost(config).subscriptions?.task_queue).toMatchObject({ queue: 'task_queue', prefetch: 1, options: { noAck: false } });
    const c = createBrokerConfig({ url: 'amqp://localhost', prefetch: 3 });
    expect(vhost(c).subscriptions?.hello).toMatchObject({ prefetch: 3 });
  });

  it('declares a queue in assert mode and only checks an adopted one', () => {
    const c = createBrokerConfig({ url: 'amqp://localhost', queueModes: { hello: 'check' } });
    expect(vhost(c).queues).toMatchObject({
      hello: { assert: false, check: true },
      'hello.dlq': { assert: true, check: false },
      task_queue: { assert: true, check: false },
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
    expect(vhost(c, 'orders').connections).toMatchObject([
      {
        url: 'amqp://u:p@broker:5673/orders',
        options: { heartbeat: 7, connection_timeout: 1234 },
        socketOptions: { timeout: 1234, clientProperties: { connection_name: 'producer' } },
      },
    ]);
  });

  it('gives Rascal one connection per node of a cluster, in the order given, each alike', () => {
    const urls = ['amqp://n2:5672/orders', 'amqp://n1:5672/orders', 'amqp://n3:5673/orders'];
    const c = createBrokerConfig({ url: urls, vhost: 'orders', heartbeatSeconds: 3 });
    const v = vhost(c, 'orders');
    expect(v.connectionStrategy).toBe('fixed');
    expect(v.connections?.map((connection) => (connection as { url: string }).url)).toEqual(urls);
    for (const connection of v.connections ?? []) {
      expect(connection).toMatchObject({ options: { heartbeat: 3 }, socketOptions: { rejectUnauthorized: true }, retry: { min: 1000 } });
    }
  });
});

describe('the connection\'s TLS and login', () => {
  const connection = (c: rascal.BrokerConfig): { socketOptions?: Record<string, unknown> } | undefined =>
    c.vhosts?.['/']?.connections?.[0];

  it("always verifies the broker's certificate, with or without TLS settings", () => {
    expect(connection(config)?.socketOptions).toMatchObject({ rejectUnauthorized: true });
    const withTls = createBrokerConfig({ url: 'amqps://broker', tls: { ca: 'CA' } });
    expect(connection(withTls)?.socketOptions).toMatchObject({ rejectUnauthorized: true });
  });

  it("passes the CA, the client certificate and key and the server name to Rascal's connection", () => {
    const tls = { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), servername: 'broker.internal' };
    expect(connection(createBrokerConfig({ url: 'amqps://10.0.0.1', tls }))?.socketOptions).toMatchObject(tls);
  });

  it('gives every connection the same socket options: Rascal\'s and any other', () => {
    const options = { connectTimeoutMs: 900, connectionName: 'x', tls: { ca: 'CA', servername: 'b' } };
    expect(connection(createBrokerConfig({ url: 'amqps://b', ...options }))?.socketOptions).toEqual(connectionSocketOptions(options));
  });

  it('hands the login to amqplib directly when given, so the URL needs no password', () => {
    const credentials = { mechanism: 'PLAIN', response: () => Buffer.from('\0u\0p') };
    expect(connection(createBrokerConfig({ url: 'amqp://u@broker', credentials }))?.socketOptions?.credentials).toBe(credentials);
    expect(connection(config)?.socketOptions).not.toHaveProperty('credentials');
  });
});
