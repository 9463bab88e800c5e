import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './load-env.js';

const problems = (env: NodeJS.ProcessEnv): readonly string[] => {
  try {
    loadEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

const secret = (content: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'ops-env-')), 'secret');
  writeFileSync(file, content);
  return file;
};

describe('loadEnv', () => {
  it("defaults to the local broker, its management API on 15672 with AMQP_URL's credentials, and a quiet log", () => {
    const env = loadEnv({});
    expect(env.amqp.redacted).toBe('amqp://guest:***@localhost:5672');
    expect(env.management).toEqual({
      url: 'http://localhost:15672',
      user: 'guest',
      password: 'guest',
      timeoutMs: 10_000,
    });
    expect(env.logLevel).toBe('warn');
    expect(env.confirmTimeoutMs).toBe(10_000);
  });

  it("finds the management API on the AMQP host and takes AMQP_URL's credentials", () => {
    const env = loadEnv({ AMQP_URL: 'amqp://app:s3cret@rabbit.internal:5672/prod' });
    expect(env.amqp.vhost).toBe('prod');
    expect(env.management).toMatchObject({ url: 'http://rabbit.internal:15672', user: 'app', password: 's3cret' });
  });

  it('takes MANAGEMENT_URL with a path prefix, and the credentials in it, without keeping them in the URL', () => {
    const env = loadEnv({ MANAGEMENT_URL: 'https://ops:p%40ss@mq.example.com/rabbitmq/' });
    expect(env.management).toMatchObject({ url: 'https://mq.example.com/rabbitmq', user: 'ops', password: 'p@ss' });
  });

  it('prefers MANAGEMENT_USER and MANAGEMENT_PASSWORD, or their files (one trailing newline dropped)', () => {
    expect(
      loadEnv({ MANAGEMENT_URL: 'http://a:b@h:1', MANAGEMENT_USER: 'mon', MANAGEMENT_PASSWORD: 'pw' }).management,
    ).toMatchObject({ user: 'mon', password: 'pw' });
    const env = loadEnv({
      MANAGEMENT_USER_FILE: secret('mon\n'),
      MANAGEMENT_PASSWORD_FILE: secret('pw with spaces \n'),
    });
    expect(env.management).toMatchObject({ user: 'mon', password: 'pw with spaces ' });
  });

  it('lists every bad setting, naming the variable', () => {
    expect(
      problems({
        MANAGEMENT_URL: 'ftp://host',
        MANAGEMENT_USER: 'mon',
        MANAGEMENT_PASSWORD_FILE: '/no/such/file',
        MANAGEMENT_TIMEOUT_MS: 'soon',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual([
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
      'MANAGEMENT_URL: must start with http:// or https://, not ftp://',
      'MANAGEMENT_PASSWORD_FILE: cannot read /no/such/file (ENOENT)',
      'MANAGEMENT_TIMEOUT_MS: must be a whole number of milliseconds from 100 to 600000',
    ]);
  });

  it('refuses a variable and its _FILE together, and half a pair of credentials', () => {
    expect(problems({ MANAGEMENT_USER: 'a', MANAGEMENT_USER_FILE: secret('b'), MANAGEMENT_PASSWORD: 'c' })).toEqual([
      'MANAGEMENT_USER_FILE: set either MANAGEMENT_USER or MANAGEMENT_USER_FILE, not both',
    ]);
    expect(problems({ MANAGEMENT_USER: 'a' })).toEqual([
      'MANAGEMENT_PASSWORD: must be set (or MANAGEMENT_PASSWORD_FILE) along with MANAGEMENT_USER',
    ]);
  });

  it('reads the broker connection as the apps do: URL and password from files, and the TLS files', () => {
    const pem = (label: string) => secret(`-----BEGIN ${label}-----\nnot really\n-----END ${label}-----\n`);
    const urlFile = secret('amqps://ops@rabbit.internal/prod\n');
    const passwordFile = secret('p@ss:w/rd ü\n');
    const env = loadEnv({ AMQP_URL_FILE: urlFile, AMQP_PASSWORD_FILE: passwordFile });
    expect(env.amqp).toMatchObject({
      protocol: 'amqps',
      host: 'rabbit.internal',
      port: 5671,
      user: 'ops',
      password: 'p@ss:w/rd ü',
      vhost: 'prod',
    });
    // The management API takes the same login unless told otherwise.
    expect(env.management).toMatchObject({ url: 'http://rabbit.internal:15672', user: 'ops', password: 'p@ss:w/rd ü' });
    // A TLS file is checked at start, as the apps check it.
    expect(problems({ AMQP_URL: 'amqps://h', AMQP_TLS_CA_FILE: pem('NOT A CERTIFICATE') })).toEqual([
      expect.stringMatching(/^AMQP_TLS_CA_FILE: .* holds no PEM certificate/),
    ]);
    expect(problems({ AMQP_URL: 'amqp://h', AMQP_TLS_SERVERNAME: 'broker.internal' })).toEqual([
      'AMQP_TLS_SERVERNAME: needs an amqps:// broker URL (AMQP_URL is amqp://, not encrypted)',
    ]);
    expect(problems({ AMQP_URL: 'amqps://u:pw@h', AMQP_PASSWORD_FILE: passwordFile })).toEqual([
      'AMQP_PASSWORD_FILE: AMQP_URL has a password too; give it in one place',
    ]);
  });

  it('never puts a password in a problem', () => {
    const all = problems({ AMQP_URL: 'http://guest:Sup3rSecret@host', MANAGEMENT_URL: 'nope://x:0therSecret@y' }).join(
      '\n',
    );
    expect(all).not.toContain('Sup3rSecret');
    expect(all).not.toContain('0therSecret');
  });
});
