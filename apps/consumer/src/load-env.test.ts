import { ConfigError } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './load-env.js';

describe('loadEnv', () => {
  it("defaults to the local broker, the subscription's prefetch, a 10 s shutdown deadline and 5 attempts", () => {
    const env = loadEnv({});
    expect(env.AMQP_URL.redacted).toBe('amqp://guest:***@localhost:5672');
    expect(env.CONSUMER_PREFETCH).toBeUndefined();
    expect(env.SHUTDOWN_TIMEOUT_MS).toBe(10_000);
    expect(env.WORK_UNIT_MS).toBe(1000);
    expect(env.MAX_ATTEMPTS).toBe(5);
    expect(env.RETRY_DELAYS_MS).toEqual([1000, 5000, 30_000]);
  });

  it('reads a list of retry delays', () => {
    expect(loadEnv({ RETRY_DELAYS_MS: '200, 400,800' }).RETRY_DELAYS_MS).toEqual([200, 400, 800]);
  });

  it('names each bad variable', () => {
    try {
      loadEnv({ CONSUMER_PREFETCH: '0', SHUTDOWN_TIMEOUT_MS: 'forever', RETRY_DELAYS_MS: '1s,2s' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        'CONSUMER_PREFETCH: must be at least 1 messages',
        'SHUTDOWN_TIMEOUT_MS: must be a whole number of milliseconds from 100 to 600000',
        'RETRY_DELAYS_MS: must be a comma-separated list of milliseconds, e.g. 1000,5000,30000',
      ]);
    }
  });
});

describe('loadEnv: metrics, health and drills', () => {
  it('serves no HTTP by default; HTTP_PORT turns it on, on 127.0.0.1 unless HTTP_HOST says otherwise', () => {
    const none = loadEnv({});
    expect(none.HTTP_PORT).toBeUndefined();
    expect(none.HTTP_HOST).toBe('127.0.0.1');
    expect(none.FAIL_TASKS_MATCHING).toBeUndefined();
    const on = loadEnv({ HTTP_PORT: '9464', HTTP_HOST: '0.0.0.0' });
    expect(on.HTTP_PORT).toBe(9464);
    expect(on.HTTP_HOST).toBe('0.0.0.0');
  });

  it('refuses a bad port, a bad host and a bad regular expression, naming each', () => {
    try {
      loadEnv({ HTTP_PORT: '70000', HTTP_HOST: 'a host', FAIL_TASKS_MATCHING: '(' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems[0]).toMatch(/^HTTP_PORT: must be a port number from 0 to 65535$/);
      expect(problems[1]).toMatch(/^HTTP_HOST: must be a host name or an IP address/);
      expect(problems[2]).toMatch(/^FAIL_TASKS_MATCHING: must be a regular expression: /);
    }
  });

  it('reads FAIL_TASKS_MATCHING as a regular expression', () => {
    expect(loadEnv({ FAIL_TASKS_MATCHING: '^boom' }).FAIL_TASKS_MATCHING?.test('boom...')).toBe(true);
  });
});
