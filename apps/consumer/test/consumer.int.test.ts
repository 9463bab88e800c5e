import {
  drainQueue,
  HELLO_QUEUES,
  inspectQueue,
  runProcess,
  spawnApp,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

const WAITING = ' [*] Waiting for messages. To exit press CTRL+C';
const broker = useTestVhost('consumer', { queues: HELLO_QUEUES });

/** Starts the built consumer with plain node, as `pnpm --filter consumer start` does. */
const consumer = (env: Record<string, string | undefined> = {}, args: string[] = []) =>
  broker.spawnApp('consumer', args, {
    env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn', ...env },
    timeoutMs: 60_000,
  });

/** Publishes with amqp-tools' amqp-publish, a C client that knows nothing of ours. */
function amqpPublish(body: string | Buffer, ...flags: string[]) {
  return runProcess('amqp-publish', [`--url=${broker.url}`, '-r', 'hello', ...flags], {
    input: body,
    timeoutMs: 10_000,
  }).then((result) => {
    if (result.code !== 0) throw new Error(`amqp-publish failed: ${result.stderr}`);
  });
}

const sendText = (body: string) =>
  withChannel(broker.url, async (channel) => {
    channel.sendToQueue('hello', Buffer.from(body), { contentType: 'text/plain' });
    await channel.close();
  });

describe('the consumer', () => {
  it("prints the waiting line, then each message as ' [x] Received '<body>'' and acks it", async () => {
    const c = consumer();
    await c.waitForOutput(/Waiting for messages/);
    for (const body of ['Hello World!', 'second', 'third']) await sendText(body);
    await c.waitForOutput(/Received 'third'/);
    expect(c.stdout.split('\n').filter(Boolean)).toEqual([
      WAITING,
      " [x] Received 'Hello World!'",
      " [x] Received 'second'",
      " [x] Received 'third'",
    ]);
    const stopped = await c.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    // Acked, not merely delivered: nothing returns to the queue when the consumer is gone.
    expect(await inspectQueue(broker.url, 'hello')).toMatchObject({ messageCount: 0, consumerCount: 0 });
  });

  it('takes the messages already waiting in the queue when it starts', async () => {
    await withChannel(broker.url, (channel) => channel.assertQueue('hello', { durable: false }));
    await sendText('early');
    const c = consumer();
    await c.waitForOutput(/Received 'early'/);
  });

  it('reads a message without content type from a non-Node client', async () => {
    const c = consumer();
    await c.waitForOutput(/Waiting for messages/);
    await amqpPublish('from amqp-publish');
    await c.waitForOutput(/Received 'from amqp-publish'/);
  });

  it('dead-letters a message it cannot read, with the reason, and goes on with the next', async () => {
    const c = consumer();
    await c.waitForOutput(/Waiting for messages/);
    await amqpPublish(Buffer.from([0xc3, 0x28, 0xff]), '-C', 'text/plain', '-p');
    await amqpPublish('{"a":1}', '-C', 'application/json');
    await sendText('good after bad');
    await c.waitForOutput(/Received 'good after bad'/);
    expect(c.stdout).not.toMatch(/Received '\{"a":1\}'/);
    await c.stop('SIGTERM');

    // Handled side by side (prefetch 10), the two dead letters may reach hello.dlq in either order.
    const dead = await drainQueue(broker.url, 'hello.dlq');
    expect(dead.map((m) => m.properties.headers?.['x-dead-letter-reason'] as unknown).sort()).toEqual([
      'invalid message: body is not valid UTF-8',
      "invalid message: content type 'application/json' is not accepted",
    ]);
    for (const letter of dead) {
      expect(letter.properties.headers).toMatchObject({ 'x-original-queue': 'hello' });
      expect(letter.properties.headers?.['x-dead-lettered-at']).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(await inspectQueue(broker.url, 'hello')).toMatchObject({ messageCount: 0 });
  });

  it('adopts an existing durable quorum hello, as the current tutorials declare it', async () => {
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('hello', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
    const c = consumer();
    await c.waitForOutput(/Waiting for messages/);
    await sendText('into quorum');
    await c.waitForOutput(/Received 'into quorum'/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops cleanly on %s: exit 0, consumer gone', async (signal) => {
    const c = consumer({ LOG_LEVEL: 'info' });
    await c.waitForOutput(/Waiting for messages/);
    const result = await c.stop(signal);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/"msg":"stopped"/);
    expect(await inspectQueue(broker.url, 'hello')).toMatchObject({ consumerCount: 0 });
  });

  it('hands back the deliveries it had not started when it stops, losing none', async () => {
    await withChannel(broker.url, async (channel) => {
      await channel.assertQueue('hello', { durable: false });
      for (let i = 1; i <= 500; i++) channel.sendToQueue('hello', Buffer.from(`n${i}`));
      await channel.close();
    });
    const c = consumer({ CONSUMER_PREFETCH: '50' });
    await c.waitForOutput(/Received 'n1'/);
    const result = await c.stop('SIGTERM');
    expect(result.code).toBe(0);
    const printed = result.stdout.split('\n').filter((l) => l.startsWith(' [x] Received')).length;
    const left = await drainQueue(broker.url, 'hello');
    // Every message was either handled (printed, then acked) or is back in the queue.
    expect(printed + left.length).toBe(500);
  });
});

describe('the consumer, given bad input', () => {
  const lines = (text: string) => text.split('\n').filter(Boolean);

  it.each([
    ['an unknown flag', 64, ['--bogus'], {}, /^consumer: unknown option '--bogus'$/],
    [
      'a malformed AMQP_URL',
      78,
      [],
      { AMQP_URL: 'amqp://guest:guest@localhost:port' },
      /^consumer: AMQP_URL: is not a valid URL/,
    ],
    [
      'a bad prefetch',
      78,
      [],
      { CONSUMER_PREFETCH: 'lots' },
      /^consumer: CONSUMER_PREFETCH: must be a whole number of messages from 1 to 65535$/,
    ],
    [
      'no broker on the port',
      69,
      [],
      { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' },
      /^consumer: cannot reach the broker at 127\.0\.0\.1:1: connection refused/,
    ],
    [
      'wrong credentials',
      77,
      [],
      { AMQP_URL: 'amqp://guest:N0tTheP4ss@localhost:5672' },
      /^consumer: the broker at localhost:5672 refused the login of user 'guest'/,
    ],
  ])('%s gets a one-line error and exit code %i', async (_, code, args, env, message) => {
    const result = await spawnApp('consumer', args, { env: { AMQP_URL: broker.url, LOG_LEVEL: undefined, ...env } })
      .exited;
    expect(result.code).toBe(code);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(lines(result.stderr)[0]).toMatch(message);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('N0tTheP4ss');
  });
});
