import { loadedPackages } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

// An unreachable broker: the consumer loads what it needs, then stops with exit 69.
const unreachable = { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1', AMQP_CONNECT_TIMEOUT_MS: '500' };

describe('what the consumer loads', () => {
  it('--help and a bad argument load the command line alone: no broker client, logger or schemas', async () => {
    for (const args of [['--help'], ['--from', 'direct_logs']]) {
      const { result, packages } = await loadedPackages('consumer', args);
      expect(result.code, args.join(' ')).toBe(args[0] === '--help' ? 0 : 64);
      // Not even the transport's retry defaults: the settings list is generated plain data.
      expect(packages, args.join(' ')).toEqual([
        '@hello-rabbit/broker-config',
        '@hello-rabbit/bundle',
        '@hello-rabbit/runtime',
        'commander',
      ]);
    }
  });

  it('without HTTP_PORT, no HTTP server and no metrics registry', async () => {
    const { result, packages } = await loadedPackages('consumer', [], { env: unreachable });
    expect(result.code).toBe(69);
    expect(packages).toEqual(expect.arrayContaining(['amqplib', 'rascal', 'pino']));
    expect(packages).not.toContain('fastify');
    expect(packages).not.toContain('prom-client');
  });

  it('with HTTP_PORT, both', async () => {
    const { result, packages } = await loadedPackages('consumer', [], { env: { ...unreachable, HTTP_PORT: '0' } });
    expect(result.code).toBe(69);
    expect(packages).toEqual(expect.arrayContaining(['fastify', 'prom-client']));
  });
});
