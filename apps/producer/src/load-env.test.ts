import { ConfigError } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './load-env.js';

describe('loadEnv', () => {
  it('defaults to the local broker and a 10 s confirm timeout', () => {
    const env = loadEnv({});
    expect(env.AMQP_URL.redacted).toBe('amqp://guest:***@localhost:5672');
    expect(env.PUBLISH_CONFIRM_TIMEOUT_MS).toBe(10_000);
  });

  it('names each bad variable', () => {
    expect(() => loadEnv({ PUBLISH_CONFIRM_TIMEOUT_MS: '5s', AMQP_URL: 'localhost' })).toThrow(ConfigError);
    try {
      loadEnv({ PUBLISH_CONFIRM_TIMEOUT_MS: '5s', AMQP_URL: 'localhost' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'AMQP_URL: is not a valid URL (expected amqp://user:password@host:port/vhost)',
        'PUBLISH_CONFIRM_TIMEOUT_MS: must be a whole number of milliseconds from 100 to 600000',
      ]);
    }
  });
});
