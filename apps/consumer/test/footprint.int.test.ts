import { loadedPackages } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

// An unreachable broker: the consumer loads what it needs, then stops with exit 69.
const unreachable = { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1', AMQP_CONNECT_TIMEOUT_MS: '500' };

describe('what the consumer loads', () => {
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
