import { ConfigError, dedupEnvShape } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { producerEnvShape } from '../load-env.js';
import { SERVICE_SETTINGS } from '../settings-help.generated.js';
import { loadServiceEnv } from './settings.js';

const problems = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadServiceEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('loadServiceEnv', () => {
  it('defaults to 127.0.0.1:8080, a 5 s readiness delay, a 10 s shutdown timeout, no payloads in the log', () => {
    expect(loadServiceEnv({})).toMatchObject({
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 8080,
      HTTP_RETRY_AFTER_SECONDS: 1,
      SHUTDOWN_DELAY_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      LIVENESS_MAX_EVENT_LOOP_DELAY_MS: 5000,
      LOG_PAYLOADS: false,
      PUBLISH_WINDOW: 1000,
      PUBLISH_DEADLINE_MS: 60_000,
    });
  });

  it('lists in --help every setting it reads, with the default it applies', () => {
    const defaults = loadServiceEnv({}) as unknown as Record<string, unknown>;
    const shown = (value: unknown) =>
      typeof value === 'object' && value !== null && 'url' in value ? String(value.url) : String(value);
    // The connection settings unset by default (secret and TLS files) read `unset`, some
    // with what that means (`unset: Node's trust store`).
    const unset = [...Object.keys(producerEnvShape), ...Object.keys(dedupEnvShape)].filter(
      (name) => !(name in defaults),
    );
    expect(SERVICE_SETTINGS.map(([name]) => name).sort()).toEqual([...Object.keys(defaults), ...unset].sort());
    for (const [name, fallback] of SERVICE_SETTINGS) {
      if (name in defaults) expect(shown(defaults[name]), name).toBe(fallback);
      else expect(fallback, name).toMatch(/^unset(:|$)/);
    }
  });

  it('takes every address and any port, 0 for a free one', () => {
    expect(loadServiceEnv({ HTTP_HOST: '0.0.0.0', HTTP_PORT: '0' })).toMatchObject({
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: 0,
    });
    expect(loadServiceEnv({ HTTP_HOST: '::' }).HTTP_HOST).toBe('::');
    expect(loadServiceEnv({ HTTP_HOST: 'producer.internal' }).HTTP_HOST).toBe('producer.internal');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['', false],
  ])('reads LOG_PAYLOADS=%s as %s', (value, expected) => {
    expect(loadServiceEnv({ LOG_PAYLOADS: value }).LOG_PAYLOADS).toBe(expected);
  });

  it('names every bad variable, its own and the publishing ones', () => {
    expect(
      problems({ HTTP_PORT: '70000', SHUTDOWN_TIMEOUT_MS: '10s', LOG_PAYLOADS: 'sometimes', PUBLISH_WINDOW: '0' }),
    ).toEqual([
      'PUBLISH_WINDOW: must be at least 1 messages',
      'HTTP_PORT: must be a port number from 0 to 65535',
      'SHUTDOWN_TIMEOUT_MS: must be a whole number of milliseconds from 100 to 600000',
      'LOG_PAYLOADS: must be true or false',
    ]);
  });
});
