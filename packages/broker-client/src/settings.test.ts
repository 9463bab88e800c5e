import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { brokerEnvShape, intSetting, parseEnv } from './settings.js';

const schema = z.object({ ...brokerEnvShape, PREFETCH: intSetting(1, 100, 'messages').transform((v) => v ?? 10) });

describe('parseEnv', () => {
  it('applies the defaults to an empty environment and freezes the result', () => {
    const settings = parseEnv(schema, {});
    expect(settings.AMQP_URL.redacted).toBe('amqp://guest:***@localhost:5672');
    expect(settings.AMQP_CONNECT_TIMEOUT_MS).toBe(5000);
    expect(settings.AMQP_HEARTBEAT_SECONDS).toBe(10);
    expect(settings.LOG_LEVEL).toBe('info');
    expect(settings.PREFETCH).toBe(10);
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(parseEnv(schema, { AMQP_URL: '', PREFETCH: '' }).PREFETCH).toBe(10);
  });

  it('lists every bad setting as NAME: what is wrong, without echoing the URL', () => {
    const read = () =>
      parseEnv(schema, {
        AMQP_URL: 'http://user:hunter2@host',
        AMQP_CONNECT_TIMEOUT_MS: 'soon',
        LOG_LEVEL: 'loud',
        PREFETCH: '0',
      });
    expect(read).toThrow(ConfigError);
    try {
      read();
    } catch (err) {
      const error = err as ConfigError;
      expect(error.exitCode).toBe(ExitCode.config);
      expect(error.problems).toEqual([
        'AMQP_URL: must start with amqp:// or amqps://, not http://',
        'AMQP_CONNECT_TIMEOUT_MS: must be a whole number of milliseconds from 100 to 600000',
        'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
        'PREFETCH: must be at least 1 messages',
      ]);
      expect(error.message).not.toContain('hunter2');
    }
  });
});
