import { describe, expect, it } from 'vitest';
import { nodeEndpoints, parseAmqpUrl, scrubSecret, urlWithoutCredentials, withPassword } from './amqp-url.js';

const endpoint = (url: string) => {
  const parsed = parseAmqpUrl(url);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.endpoint;
};

describe('parseAmqpUrl', () => {
  it('reads host, port, user and the default vhost', () => {
    expect(endpoint('amqp://guest:guest@localhost:5672')).toMatchObject({
      protocol: 'amqp',
      host: 'localhost',
      port: 5672,
      user: 'guest',
      password: 'guest',
      vhost: '/',
    });
  });

  it('takes the protocol default ports', () => {
    expect(endpoint('amqp://h').port).toBe(5672);
    expect(endpoint('amqps://h').port).toBe(5671);
  });

  it('decodes a %-encoded password and vhost', () => {
    const e = endpoint('amqp://app:p%40ss%3Aw%2Frd@broker/%2F');
    expect(e.password).toBe('p@ss:w/rd');
    expect(e.vhost).toBe('/');
    expect(endpoint('amqp://h/orders').vhost).toBe('orders');
  });

  it('never shows the password in the redacted form', () => {
    const e = endpoint('amqp://app:p%40ss%3Aw%2Frd@broker:5673/orders');
    expect(e.redacted).toBe('amqp://app:***@broker:5673/orders');
  });

  it.each([
    ['not a url', /not a valid URL/],
    ['http://guest:guest@localhost:5672', /must start with amqp:\/\/ or amqps:\/\//],
    ['amqp://guest:guest@localhost:notaport', /not a valid URL/],
    ['amqp://guest:guest@localhost/a/b', /unencoded "\/"/],
    ['amqp://guest:%E0%A4%A@localhost', /badly %-encoded/],
  ])('explains why %s is not a broker URL', (url, reason) => {
    const parsed = parseAmqpUrl(url);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toMatch(reason);
      expect(parsed.reason).not.toContain('guest:');
    }
  });
});

describe('scrubSecret', () => {
  it('removes the secret, plain and %-encoded', () => {
    expect(scrubSecret('a p@ss b p%40ss c', 'p@ss')).toBe('a *** b *** c');
  });

  it('removes the JSON-escaped form too, as a log line holds it', () => {
    const secret = 'a"b\\c';
    expect(scrubSecret(JSON.stringify({ password: secret }), secret)).toBe('{"password":"***"}');
  });

  it('leaves text alone when there is no secret', () => {
    expect(scrubSecret('guest', '')).toBe('guest');
  });
});

describe('withPassword', () => {
  it('puts any password into a URL that names only the user, %-encoded, and keeps it as it is', () => {
    const secret = 'p@ss:w/rd%#?ü "x"';
    const e = withPassword(endpoint('amqps://app@broker:5671/orders'), secret);
    expect(e).toMatchObject({
      user: 'app',
      password: secret,
      host: 'broker',
      port: 5671,
      vhost: 'orders',
      protocol: 'amqps',
    });
    expect(e.redacted).toBe('amqps://app:***@broker:5671/orders');
    expect(endpoint(e.url).password).toBe(secret);
  });
});

describe('urlWithoutCredentials', () => {
  it('drops the user and the password, nothing else', () => {
    expect(urlWithoutCredentials(endpoint('amqps://app:s3cret@broker:5671/orders?heartbeat=5'))).toBe(
      'amqps://broker:5671/orders?heartbeat=5',
    );
  });
});

describe('nodeEndpoints', () => {
  it('is the endpoint itself when it names no cluster', () => {
    const e = endpoint('amqp://app:pw@broker:5673/orders');
    expect(nodeEndpoints(e)).toEqual([e]);
  });

  it("gives each node the URL's protocol, login, vhost and TLS, and its own host and port", () => {
    const tls = { servername: 'rabbit.internal' };
    const e = {
      ...endpoint('amqps://app:p%40ss@broker/orders'),
      tls,
      nodes: [
        { host: 'n1', port: 5671 },
        { host: '[::1]', port: 5676 },
      ],
    };
    const [n1, n2] = nodeEndpoints(e);
    expect(n1).toEqual({ ...endpoint('amqps://app:p%40ss@n1:5671/orders'), tls });
    expect(n2).toMatchObject({ host: '[::1]', port: 5676, user: 'app', password: 'p@ss', vhost: 'orders', tls });
    expect(n2?.url).toBe('amqps://app:p%40ss@[::1]:5676/orders');
    expect(n2?.redacted).toBe('amqps://app:***@[::1]:5676/orders');
    expect(n1).not.toHaveProperty('nodes');
  });
});
