import { ConfigError } from '@hello-rabbit/broker-client';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './load-env.js';

describe('loadEnv', () => {
  it('defaults to the local broker, prefetch 10 and a 10 s shutdown deadline', () => {
    const env = loadEnv({});
    expect(env.AMQP_URL.redacted).toBe('amqp://guest:***@localhost:5672');
    expect(env.CONSUMER_PREFETCH).toBe(10);
    expect(env.SHUTDOWN_TIMEOUT_MS).toBe(10_000);
  });

  it('names each bad variable', () => {
    try {
      loadEnv({ CONSUMER_PREFETCH: '0', SHUTDOWN_TIMEOUT_MS: 'forever' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        'CONSUMER_PREFETCH: must be at least 1 messages',
        'SHUTDOWN_TIMEOUT_MS: must be a whole number of milliseconds from 100 to 600000',
      ]);
    }
  });
});
