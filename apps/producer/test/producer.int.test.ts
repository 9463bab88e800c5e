import { drainQueue, HELLO_QUEUES, spawnApp, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const broker = useTestVhost('producer', { queues: HELLO_QUEUES });

/** Runs the built producer with plain node, as `pnpm --filter producer start` does. */
function producer(args: string[], env: Record<string, string | undefined> = {}) {
  return spawnApp('producer', args, {
    env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn', ...env },
    timeoutMs: 30_000,
  }).exited;
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');
/** stderr without the diagnostic log's JSON lines: what a person reads. */
const humanLines = (text: string) => lines(text).filter((line) => !line.startsWith('{'));

describe('the producer', () => {
  it("sends 'Hello World!' to the queue hello, confirmed by the broker, and exits 0", async () => {
    const result = await producer([]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(" [x] Sent 'Hello World!'\n");
    expect(result.code).toBe(0);
    const messages = await drainQueue(broker.url, 'hello');
    expect(messages).toHaveLength(1);
    expect(messages[0]?.body).toBe('Hello World!');
    expect(messages[0]?.properties).toMatchObject({
      contentType: 'text/plain',
      appId: 'producer',
      messageId: expect.stringMatching(UUID) as unknown,
    });
  });

  it('sends its arguments, joined by spaces, instead', async () => {
    const result = await producer(['Hi', 'there']);
    expect(result.stdout).toBe(" [x] Sent 'Hi there'\n");
    expect((await drainQueue(broker.url, 'hello')).map((m) => m.body)).toEqual(['Hi there']);
  });

  it('with --count N sends N numbered messages, each with its own messageId, and prints one summary line', async () => {
    const result = await producer(['--count', '25', 'Hi']);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([" [x] Sent 25 messages to 'hello', all confirmed by the broker"]);
    const messages = await drainQueue(broker.url, 'hello');
    expect(messages.map((m) => m.body).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `Hi #${i + 1}`).sort());
    expect(new Set(messages.map((m) => m.properties.messageId as unknown)).size).toBe(25);
  });

  // It publishes the message again until PUBLISH_DEADLINE_MS (a refusal may be for a moment).
  it('exits 1 and says why when the broker refuses the message (nack) to the end', async () => {
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('hello', {
        durable: false,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      }),
    );
    const single = await producer([], { PUBLISH_DEADLINE_MS: '1000' });
    expect(single.code).toBe(1);
    expect(single.stdout).toBe('');
    expect(humanLines(single.stderr)).toEqual([
      "producer: 'Hello World!' was not sent: rejected by the broker (basic.nack)",
    ]);

    const many = await producer(['--count', '3'], { PUBLISH_DEADLINE_MS: '1000' });
    expect(many.code).toBe(1);
    expect(many.stdout).toBe('');
    expect(humanLines(many.stderr)).toEqual([
      "producer: sent 0 of 3 messages to 'hello': 0 confirmed, 0 returned, 3 nacked, 0 failed; " +
        'first failure: rejected by the broker (basic.nack)',
    ]);
  });

  it('adopts an existing durable quorum hello, as the current tutorials declare it', async () => {
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('hello', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
    const result = await producer([]);
    expect(result.code).toBe(0);
    expect((await drainQueue(broker.url, 'hello')).map((m) => m.body)).toEqual(['Hello World!']);
  });
});

describe('the producer, given bad input', () => {
  const password = 'Sup3r$ecret';
  const withPassword = (url: string, pass: string) => {
    const u = new URL(url);
    u.password = encodeURIComponent(pass);
    return u.toString();
  };
  const noVhost = () => {
    const u = new URL(broker.url);
    u.pathname = '/no-such-vhost';
    return u.toString();
  };

  it.each([
    [
      'a bad --count',
      64,
      ['--count', 'abc'],
      {},
      /^producer: option '--count <n>' argument 'abc' is invalid\. it must be a whole number/,
    ],
    ['an unknown flag', 64, ['--bogus'], {}, /^producer: unknown option '--bogus'$/],
    [
      'a malformed AMQP_URL',
      78,
      [],
      { AMQP_URL: `http://guest:${password}@localhost` },
      /^producer: AMQP_URL: must start with amqp:\/\//,
    ],
    [
      'a bad timeout setting',
      78,
      [],
      { AMQP_CONNECT_TIMEOUT_MS: 'soon' },
      /^producer: AMQP_CONNECT_TIMEOUT_MS: must be a whole number/,
    ],
    [
      'no broker on the port',
      69,
      [],
      { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' },
      /^producer: cannot reach the broker at 127\.0\.0\.1:1: connection refused/,
    ],
    [
      'a host that does not exist',
      69,
      [],
      { AMQP_URL: 'amqp://guest:guest@no-such-host.invalid' },
      /^producer: cannot reach the broker: host 'no-such-host\.invalid' not found$/,
    ],
    [
      'a too large message',
      64,
      ['x'.repeat(70_000)],
      {},
      /^producer: invalid 'hello' message: 70000 bytes is over the limit of 65536$/,
    ],
  ])('%s gets a one-line error and exit code %i', async (_, code, args, env, message) => {
    const result = await producer(args, { LOG_LEVEL: undefined, ...env });
    expect(result.code).toBe(code);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(lines(result.stderr)[0]).toMatch(message);
    expect(result.stdout).toBe('');
    expect(`${result.stdout}${result.stderr}`).not.toContain(password);
  });

  it('wrong credentials get a one-line error without the password', async () => {
    const result = await producer([], { LOG_LEVEL: 'trace', AMQP_URL: withPassword(broker.url, password) });
    expect(result.code).toBe(77);
    expect(result.stderr).toContain(
      "producer: the broker at localhost:5672 refused the login of user 'guest': wrong username or password",
    );
    expect(`${result.stdout}${result.stderr}`).not.toContain(password);
    expect(`${result.stdout}${result.stderr}`).not.toContain(encodeURIComponent(password));
  });

  it('a vhost that does not exist gets a one-line error', async () => {
    const result = await producer([], { LOG_LEVEL: undefined, AMQP_URL: noVhost() });
    expect(result.code).toBe(77);
    expect(lines(result.stderr)).toEqual([
      "producer: the broker at localhost:5672 refused vhost 'no-such-vhost' for user 'guest': " +
        'it does not exist or the user has no access',
    ]);
  });
});
