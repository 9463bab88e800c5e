import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { createTestPki, type TestPki } from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ConfigError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { brokerEnvShape, dedupEnvShape, intSetting, parseEnv } from './settings.js';

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

describe('parseEnv, the connection settings', () => {
  let pki: TestPki;
  let dir: string;
  beforeAll(async () => {
    pki = await createTestPki();
    dir = mkdtempSync(path.join(tmpdir(), 'settings-test-'));
  });
  afterAll(async () => {
    await pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  let files = 0;
  const file = (contents: string) => {
    const name = path.join(dir, `f${files++}`);
    writeFileSync(name, contents);
    return name;
  };
  const problemsOf = (env: NodeJS.ProcessEnv): readonly string[] => {
    try {
      parseEnv(schema, env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };
  const secret = 'p@ss:w/rd%#?ü "quoted"';

  describe('AMQP_URL_FILE', () => {
    it('reads the URL from the file, a trailing newline and all', () => {
      const settings = parseEnv(schema, { AMQP_URL_FILE: file('amqps://app:s%40cret@broker.internal/orders\n') });
      expect(settings.AMQP_URL).toMatchObject({
        protocol: 'amqps',
        host: 'broker.internal',
        user: 'app',
        password: 's@cret',
        vhost: 'orders',
      });
    });

    it('refuses both AMQP_URL and AMQP_URL_FILE', () => {
      expect(problemsOf({ AMQP_URL: 'amqp://a@b', AMQP_URL_FILE: file('amqp://c@d') })).toEqual([
        'AMQP_URL_FILE: set either AMQP_URL or AMQP_URL_FILE, not both',
      ]);
    });

    it('names a file it cannot read', () => {
      expect(problemsOf({ AMQP_URL_FILE: path.join(dir, 'nope') })).toEqual([
        `AMQP_URL_FILE: cannot read ${path.join(dir, 'nope')}: no such file`,
      ]);
      expect(problemsOf({ AMQP_URL_FILE: dir })).toEqual([`AMQP_URL_FILE: cannot read ${dir}: it is a directory`]);
    });

    it('says what is wrong with the URL in it, without echoing it', () => {
      const name = file('http://app:hunter2@broker\n');
      const problems = problemsOf({ AMQP_URL_FILE: name });
      expect(problems).toEqual([`AMQP_URL_FILE: the URL in ${name} must start with amqp:// or amqps://, not http://`]);
      expect(problems.join()).not.toContain('hunter2');
    });
  });

  describe('AMQP_PASSWORD_FILE', () => {
    it('fills in the password of a URL that names only the user, taking the file as it is', () => {
      const settings = parseEnv(schema, {
        AMQP_URL: 'amqps://app@broker/orders',
        AMQP_PASSWORD_FILE: file(`${secret}\n`),
      });
      expect(settings.AMQP_URL.password).toBe(secret);
      expect(settings.AMQP_URL.user).toBe('app');
      expect(settings.AMQP_URL.vhost).toBe('orders');
      expect(settings.AMQP_URL.redacted).toBe('amqps://app:***@broker/orders');
      expect(settings.AMQP_URL.url).toContain(encodeURIComponent(secret));
    });

    it('drops only one trailing newline (CRLF too), keeping spaces', () => {
      expect(parseEnv(schema, { AMQP_URL: 'amqp://a@b', AMQP_PASSWORD_FILE: file(' pw \r\n') }).AMQP_URL.password).toBe(
        ' pw ',
      );
      expect(parseEnv(schema, { AMQP_URL: 'amqp://a@b', AMQP_PASSWORD_FILE: file('pw\n\n') }).AMQP_URL.password).toBe(
        'pw\n',
      );
    });

    it('goes with AMQP_URL_FILE as well', () => {
      const settings = parseEnv(schema, { AMQP_URL_FILE: file('amqp://app@broker'), AMQP_PASSWORD_FILE: file(secret) });
      expect(settings.AMQP_URL.password).toBe(secret);
    });

    it('refuses a URL that has a password too, or no user, and an empty file', () => {
      expect(problemsOf({ AMQP_URL: 'amqp://app:pw@broker', AMQP_PASSWORD_FILE: file(secret) })).toEqual([
        'AMQP_PASSWORD_FILE: AMQP_URL has a password too; give it in one place',
      ]);
      expect(problemsOf({ AMQP_URL: 'amqp://broker', AMQP_PASSWORD_FILE: file(secret) })).toEqual([
        'AMQP_PASSWORD_FILE: AMQP_URL names no user (write amqps://user@host/vhost)',
      ]);
      const empty = file('\n');
      expect(problemsOf({ AMQP_URL: 'amqp://app@broker', AMQP_PASSWORD_FILE: empty })).toEqual([
        `AMQP_PASSWORD_FILE: ${empty} is empty`,
      ]);
    });

    it('keeps the password out of the settings as JSON, apart from the endpoint it belongs to', () => {
      const settings = parseEnv(schema, { AMQP_URL: 'amqp://app@broker', AMQP_PASSWORD_FILE: file(secret) });
      const { AMQP_URL: endpoint, ...rest } = settings;
      expect(JSON.stringify(rest)).not.toContain('rd%#');
      expect(endpoint.password).toBe(secret);
    });
  });

  describe('TLS', () => {
    it('reads the CA, the client certificate and key and the server name for an amqps:// URL', () => {
      const settings = parseEnv(schema, {
        AMQP_URL: 'amqps://app:pw@10.0.0.5/orders',
        AMQP_TLS_CA_FILE: pki.ca.cert,
        AMQP_TLS_CERT_FILE: pki.client.cert,
        AMQP_TLS_KEY_FILE: pki.client.key,
        AMQP_TLS_SERVERNAME: 'broker.internal',
      });
      const { tls } = settings.AMQP_URL;
      expect(tls?.ca?.path).toBe(pki.ca.cert);
      expect(tls?.ca?.contents.toString()).toBe(readFileSync(pki.ca.cert, 'utf8'));
      expect(tls?.cert?.path).toBe(pki.client.cert);
      expect(tls?.key?.contents.toString()).toBe(readFileSync(pki.client.key, 'utf8'));
      expect(tls?.servername).toBe('broker.internal');
    });

    it('never shows a file’s contents when the settings are printed, the private key least of all', () => {
      const settings = parseEnv(schema, {
        AMQP_URL: 'amqps://broker',
        AMQP_TLS_CERT_FILE: pki.client.cert,
        AMQP_TLS_KEY_FILE: pki.client.key,
      });
      const shown = `${JSON.stringify(settings)}\n${inspect(settings, { depth: 10 })}`;
      expect(shown).toContain(pki.client.key);
      expect(shown).not.toContain('PRIVATE KEY');
      expect(shown).not.toContain('BEGIN CERTIFICATE');
    });

    it('takes no TLS setting for an amqp:// URL, which is not encrypted', () => {
      expect(
        problemsOf({ AMQP_URL: 'amqp://broker', AMQP_TLS_CA_FILE: pki.ca.cert, AMQP_TLS_SERVERNAME: 'broker' }),
      ).toEqual([
        'AMQP_TLS_CA_FILE: needs an amqps:// broker URL (AMQP_URL is amqp://, not encrypted)',
        'AMQP_TLS_SERVERNAME: needs an amqps:// broker URL (AMQP_URL is amqp://, not encrypted)',
      ]);
    });

    it('needs the client certificate and its key together, and the key must be that certificate’s', () => {
      expect(problemsOf({ AMQP_URL: 'amqps://b', AMQP_TLS_CERT_FILE: pki.client.cert })).toEqual([
        'AMQP_TLS_KEY_FILE: must be set along with AMQP_TLS_CERT_FILE',
      ]);
      expect(problemsOf({ AMQP_URL: 'amqps://b', AMQP_TLS_KEY_FILE: pki.client.key })).toEqual([
        'AMQP_TLS_CERT_FILE: must be set along with AMQP_TLS_KEY_FILE',
      ]);
      expect(
        problemsOf({ AMQP_URL: 'amqps://b', AMQP_TLS_CERT_FILE: pki.client.cert, AMQP_TLS_KEY_FILE: pki.server.key }),
      ).toEqual([
        `AMQP_TLS_KEY_FILE: ${pki.server.key} is not the private key of the certificate in ${pki.client.cert}`,
      ]);
    });

    it('refuses files that are not what they should be, and names the ones it cannot read', () => {
      expect(
        problemsOf({
          AMQP_URL: 'amqps://b',
          AMQP_TLS_CA_FILE: pki.ca.key,
          AMQP_TLS_CERT_FILE: path.join(dir, 'missing.pem'),
          AMQP_TLS_KEY_FILE: pki.client.cert,
        }),
      ).toEqual([
        `AMQP_TLS_CA_FILE: ${pki.ca.key} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
        `AMQP_TLS_CERT_FILE: cannot read ${path.join(dir, 'missing.pem')}: no such file`,
        `AMQP_TLS_KEY_FILE: ${pki.client.cert} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`,
      ]);
    });

    it('takes a host name for AMQP_TLS_SERVERNAME, not an IP address', () => {
      expect(problemsOf({ AMQP_URL: 'amqps://b', AMQP_TLS_SERVERNAME: '10.0.0.1' })).toEqual([
        'AMQP_TLS_SERVERNAME: must be a host name, not an IP address ' +
          '(an IP is checked against the certificate as it is)',
      ]);
      expect(problemsOf({ AMQP_URL: 'amqps://b', AMQP_TLS_SERVERNAME: 'not a name' })).toEqual([
        'AMQP_TLS_SERVERNAME: must be a host name, e.g. broker.internal',
      ]);
    });

    it('leaves an amqps:// URL without TLS settings to Node’s trust store', () => {
      expect(parseEnv(schema, { AMQP_URL: 'amqps://broker' }).AMQP_URL.tls).toBeUndefined();
    });
  });

  describe('AMQP_TOPOLOGY', () => {
    it('declares by default, checks when told, in any case', () => {
      expect(parseEnv(schema, {}).AMQP_TOPOLOGY).toBe('declare');
      expect(parseEnv(schema, { AMQP_TOPOLOGY: 'check' }).AMQP_TOPOLOGY).toBe('check');
      expect(parseEnv(schema, { AMQP_TOPOLOGY: ' CHECK ' }).AMQP_TOPOLOGY).toBe('check');
      expect(problemsOf({ AMQP_TOPOLOGY: 'passive' })).toEqual(['AMQP_TOPOLOGY: must be one of declare, check']);
    });
  });

  describe('AMQP_HOSTS', () => {
    const nodesOf = (env: NodeJS.ProcessEnv) => parseEnv(schema, { AMQP_HOST_ORDER: 'fixed', ...env }).AMQP_URL.nodes;

    it('reads the nodes of a cluster, each port defaulting to the URL protocol’s', () => {
      expect(nodesOf({ AMQP_HOSTS: 'rabbit-1:5673, rabbit-2 ,10.0.0.3:5674,[::1]:5675' })).toEqual([
        { host: 'rabbit-1', port: 5673 },
        { host: 'rabbit-2', port: 5672 },
        { host: '10.0.0.3', port: 5674 },
        { host: '[::1]', port: 5675 },
      ]);
      expect(nodesOf({ AMQP_URL: 'amqps://app:pw@x/orders', AMQP_HOSTS: 'a,b' })).toEqual([
        { host: 'a', port: 5671 },
        { host: 'b', port: 5671 },
      ]);
      expect(nodesOf({})).toBeUndefined();
    });

    it('keeps the order listed when fixed, and shuffles it by default', () => {
      const hosts = Array.from({ length: 8 }, (_, i) => `n${i}:5672`);
      expect(nodesOf({ AMQP_HOSTS: hosts.join(',') })?.map((node) => `${node.host}:${node.port}`)).toEqual(hosts);
      const orders = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const nodes = parseEnv(schema, { AMQP_HOSTS: hosts.join(',') }).AMQP_URL.nodes ?? [];
        expect(nodes.map((node) => `${node.host}:${node.port}`).sort()).toEqual(hosts);
        orders.add(nodes.map((node) => node.host).join());
      }
      // 20 shuffles of 8 nodes all alike would be a 1 in 40320^19 chance.
      expect(orders.size).toBeGreaterThan(1);
    });

    it('says what is wrong with a bad list or order, one line each', () => {
      expect(problemsOf({ AMQP_HOSTS: 'a:5672,,b' })).toEqual([
        'AMQP_HOSTS: has an empty entry (write host:port,host:port)',
      ]);
      expect(problemsOf({ AMQP_HOSTS: 'a:5672,b:http' })).toEqual([
        "AMQP_HOSTS: 'b:http' is not host:port (write [::1]:5672 for an IPv6 address)",
      ]);
      expect(problemsOf({ AMQP_HOSTS: 'amqp://a:5672' })).toEqual([
        "AMQP_HOSTS: 'amqp://a:5672' is not host:port (write [::1]:5672 for an IPv6 address)",
      ]);
      expect(problemsOf({ AMQP_HOSTS: 'a:70000' })).toEqual(["AMQP_HOSTS: 'a:70000' has a port outside 1 to 65535"]);
      expect(problemsOf({ AMQP_HOSTS: 'a:5672,b,a' })).toEqual(['AMQP_HOSTS: lists a:5672 twice']);
      expect(problemsOf({ AMQP_HOST_ORDER: 'roundrobin' })).toEqual(['AMQP_HOST_ORDER: must be one of random, fixed']);
    });
  });

  describe('AMQP_MANAGEMENT_URL', () => {
    it('takes the management API as http(s)://host:port, a path prefix too', () => {
      expect(parseEnv(schema, {}).AMQP_MANAGEMENT_URL).toBeUndefined();
      expect(parseEnv(schema, { AMQP_MANAGEMENT_URL: ' http://broker:15672 ' }).AMQP_MANAGEMENT_URL).toBe(
        'http://broker:15672',
      );
      expect(parseEnv(schema, { AMQP_MANAGEMENT_URL: 'https://mq.example.com/rabbitmq' }).AMQP_MANAGEMENT_URL).toBe(
        'https://mq.example.com/rabbitmq',
      );
    });

    it('refuses another scheme, or a login in the URL (the AMQP login is used), without echoing it', () => {
      const message =
        'AMQP_MANAGEMENT_URL: must be the management API as http(s)://host:port, ' +
        'without a login (e.g. http://broker:15672)';
      expect(problemsOf({ AMQP_MANAGEMENT_URL: 'amqp://broker:15672' })).toEqual([message]);
      expect(problemsOf({ AMQP_MANAGEMENT_URL: 'http://admin:s3cret@broker:15672' })).toEqual([message]);
      expect(problemsOf({ AMQP_MANAGEMENT_URL: 'broker:15672' })).toEqual([message]);
    });
  });

  it('lists the connection problems with every other problem at once', () => {
    expect(problemsOf({ LOG_LEVEL: 'loud', AMQP_URL: 'amqp://app:pw@b', AMQP_PASSWORD_FILE: file(secret) })).toEqual([
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
      'AMQP_PASSWORD_FILE: AMQP_URL has a password too; give it in one place',
    ]);
  });
});

describe('DEDUP_REDIS_URL', () => {
  const dedup = z.object(dedupEnvShape);
  it('is unset by default: the in-memory store', () => {
    const settings = parseEnv(dedup, {});
    expect(settings.DEDUP_REDIS_URL).toBeUndefined();
    expect(settings).toMatchObject({ DEDUP_LEASE_MS: 30_000, DEDUP_REDIS_WINDOW_MS: 86_400_000 });
  });

  it('reads a redis:// or rediss:// URL, printed without its password', () => {
    const { DEDUP_REDIS_URL: url } = parseEnv(dedup, {
      DEDUP_REDIS_URL: 'rediss://app:s%40cret@cache.internal:6380/2',
    });
    expect(url).toEqual({
      url: 'rediss://app:s%40cret@cache.internal:6380/2',
      redacted: 'rediss://app:***@cache.internal:6380/2',
      password: 's@cret',
    });
  });

  it.each([
    ['not a URL', 'cache:6379', /scheme must be redis: or rediss:/],
    ['no URL at all', '::', /not a URL/],
    ['another scheme', 'http://u:hunter2@h:6379', /scheme must be redis: or rediss:, not http:/],
    ['a database out of range', 'redis://:hunter2@h:6379/16', /database must be 0 to 15/],
    ['a query', 'redis://:hunter2@h:6379/0?tls=true', /takes no query/],
  ])('refuses %s in one line, never quoting it', (_, value, reason) => {
    const error = (() => {
      try {
        parseEnv(dedup, { DEDUP_REDIS_URL: value });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(error.exitCode).toBe(78);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^DEDUP_REDIS_URL: /);
    expect(error.problems[0]).toMatch(reason);
    expect(error.message).not.toContain('hunter2');
  });
});
