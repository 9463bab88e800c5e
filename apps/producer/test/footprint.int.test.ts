import { loadedPackages } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

describe('what the producer loads', () => {
  it('--help and a bad argument load the command line alone: no broker client, logger or schemas', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['--rpc', 'x']]) {
      const { result, packages } = await loadedPackages('producer', args);
      expect(result.code, args.join(' ')).toBe(args[0] === '--rpc' ? 64 : 0);
      expect(packages, args.join(' ')).toEqual([
        '@hello-rabbit/broker-config',
        '@hello-rabbit/bundle',
        '@hello-rabbit/runtime',
        'commander',
      ]);
    }
  });

  it('publishing once loads no HTTP server and no metrics registry (only `serve` does)', async () => {
    // Not even a broker is needed: an unreachable one still takes the one-shot path.
    const { result, packages } = await loadedPackages('producer', ['Hello World!'], {
      env: { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1', AMQP_CONNECT_TIMEOUT_MS: '500' },
    });
    expect(result.code).toBe(69);
    expect(packages).toEqual(expect.arrayContaining(['amqplib', 'rascal', 'pino']));
    expect(packages).not.toContain('fastify');
    expect(packages).not.toContain('prom-client');
  });

  it('the service loads both', async () => {
    // A bad setting stops it right after loading, before it connects.
    const { result, packages } = await loadedPackages('producer', ['serve'], { env: { HTTP_PORT: 'not a port' } });
    expect(result.code).toBe(78);
    expect(packages).toEqual(expect.arrayContaining(['fastify', 'prom-client']));
  });
});
