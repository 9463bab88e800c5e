import { createRequire } from 'node:module';
import { rascalTopology } from '@hello-rabbit/broker-config';
import rascal from 'rascal';
import { describe, expect, it } from 'vitest';
import { connectionSocketOptions, withRascalConnections, type RascalConnectionOptions } from './connection-options.js';

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

const configFor = (options: Partial<RascalConnectionOptions> & { url?: string }) => {
  const { url = 'amqp://guest:guest@localhost:5672', ...rest } = options;
  const vhost = rest.vhost ?? '/';
  return withRascalConnections(rascalTopology({ vhost }), { urls: [url], ...rest, vhost });
};

const vhostOf = (c: rascal.BrokerConfig, name = '/') => {
  const found = c.vhosts?.[name];
  if (found === undefined) throw new Error(`no vhost ${name}`);
  return found;
};

const config = configFor({});

describe('withRascalConnections', () => {
  it('passes Rascal’s own configuration and validation, with the contract’s topology', async () => {
    await expect(rascalAccepts(config)).resolves.toBeDefined();
    expect(vhostOf(config).queues).toHaveProperty('task_queue');
    expect(vhostOf(config).subscriptions).toHaveProperty('task_queue');
  });

  it('names the vhost it is given and passes the connection settings through', () => {
    const c = configFor({
      url: 'amqp://u:p@broker:5673/orders',
      vhost: 'orders',
      connectTimeoutMs: 1234,
      heartbeatSeconds: 7,
      connectionName: 'producer',
    });
    expect(vhostOf(c, 'orders').connections).toMatchObject([
      {
        url: 'amqp://u:p@broker:5673/orders',
        options: { heartbeat: 7, connection_timeout: 1234 },
        socketOptions: { timeout: 1234, clientProperties: { connection_name: 'producer' } },
      },
    ]);
  });

  it('gives Rascal one connection per node of a cluster, in the order given, each alike', () => {
    const urls = ['amqp://n2:5672/orders', 'amqp://n1:5672/orders', 'amqp://n3:5673/orders'];
    const c = withRascalConnections(rascalTopology({ vhost: 'orders' }), {
      urls,
      vhost: 'orders',
      heartbeatSeconds: 3,
    });
    const v = vhostOf(c, 'orders');
    expect(v.connectionStrategy).toBe('fixed');
    expect(v.connections?.map((connection) => (connection as { url: string }).url)).toEqual(urls);
    for (const connection of v.connections ?? []) {
      expect(connection).toMatchObject({
        options: { heartbeat: 3 },
        socketOptions: { rejectUnauthorized: true },
        retry: { min: 1000 },
      });
    }
  });
});

describe("the connection's TLS and login", () => {
  const connection = (c: rascal.BrokerConfig): { socketOptions?: Record<string, unknown> | undefined } | undefined =>
    c.vhosts?.['/']?.connections?.[0];

  it("always verifies the broker's certificate, with or without TLS settings", () => {
    expect(connection(config)?.socketOptions).toMatchObject({ rejectUnauthorized: true });
    const withTls = configFor({ url: 'amqps://broker', tls: { ca: 'CA' } });
    expect(connection(withTls)?.socketOptions).toMatchObject({ rejectUnauthorized: true });
  });

  it("passes the CA, the client certificate and key and the server name to Rascal's connection", () => {
    const tls = {
      ca: Buffer.from('CA'),
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
      servername: 'broker.internal',
    };
    expect(connection(configFor({ url: 'amqps://10.0.0.1', tls }))?.socketOptions).toMatchObject(tls);
  });

  it("gives every connection the same socket options: Rascal's and any other", () => {
    const options = { connectTimeoutMs: 900, connectionName: 'x', tls: { ca: 'CA', servername: 'b' } };
    expect(connection(configFor({ url: 'amqps://b', ...options }))?.socketOptions).toEqual(
      connectionSocketOptions(options),
    );
  });

  it('hands the login to amqplib directly when given, so the URL needs no password', () => {
    const credentials = { mechanism: 'PLAIN', response: () => Buffer.from('\0u\0p') };
    expect(connection(configFor({ url: 'amqp://u@broker', credentials }))?.socketOptions?.credentials).toBe(
      credentials,
    );
    expect(connection(config)?.socketOptions).not.toHaveProperty('credentials');
  });
});
