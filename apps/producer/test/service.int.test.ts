import net from 'node:net';
import {
  drainQueue,
  eventually,
  HELLO_QUEUES,
  inspectQueue,
  spawnApp,
  TASK_QUEUES,
  useTcpProxy,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';
import { ServiceProcess } from './support/service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const broker = useTestVhost('producer-service', { queues: [...HELLO_QUEUES, ...TASK_QUEUES] });

/** `producer serve` on the file's vhost, killed after the test if still running. */
const serve = (env: Record<string, string> = {}) =>
  ServiceProcess.start({ AMQP_URL: broker.url, ...env }, (app, args, options) => broker.spawnApp(app, args, options));

/** The file's vhost, reached through a proxy that can cut the network. */
const proxied = useTcpProxy(() => broker.url);

describe('producer serve: publishing', () => {
  it('answers a JSON message 202 with its messageId once confirmed, and the message is in the queue', async () => {
    const service = await serve();
    const answer = await service.post('hello', { message: 'Hello World!' });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      messageId: expect.stringMatching(UUID) as unknown,
      publication: 'hello',
      queue: 'hello',
    });

    const [message, ...others] = await drainQueue(broker.url, 'hello');
    expect(others).toEqual([]);
    expect(message?.body).toBe('Hello World!');
    expect(message?.properties).toMatchObject({
      messageId: answer.body.messageId,
      contentType: 'text/plain',
      appId: 'producer',
      deliveryMode: 2,
    });
  });

  it('takes the text itself as text/plain, and publishes tasks to task_queue', async () => {
    const service = await serve();
    const answer = await service.post('task_queue', 'First message.');
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ publication: 'task_queue', queue: 'task_queue' });
    expect(
      (await drainQueue(broker.url, 'task_queue')).map((m) => [m.body, m.properties.messageId as unknown]),
    ).toEqual([['First message.', answer.body.messageId]]);
  });

  it('makes an Idempotency-Key the messageId; a repeat gets the first answer again, published only once', async () => {
    const service = await serve();
    const first = await service.post('hello', { message: 'order 42' }, { 'idempotency-key': 'order-42' });
    const retry = await service.post('hello', { message: 'order 42' }, { 'idempotency-key': 'order-42' });
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(first.body).toEqual({ messageId: 'order-42', publication: 'hello', queue: 'hello' });
    expect(retry.body).toEqual(first.body);
    expect([first.headers.get('idempotent-replayed'), retry.headers.get('idempotent-replayed')]).toEqual([
      null,
      'true',
    ]);
    // The same key with another text is a client's mistake, not a repeat.
    const reused = await service.post('hello', { message: 'order 43' }, { 'idempotency-key': 'order-42' });
    expect(reused.status).toBe(422);
    expect(reused.body.message).toBe(
      'this Idempotency-Key was used for another message; use a new key for a new message',
    );
    expect((await drainQueue(broker.url, 'hello')).map((m) => [m.body, m.properties.messageId as unknown])).toEqual([
      ['order 42', 'order-42'],
    ]);
  });

  // The repeat is the same message: the consumer suppresses it.
  it('with DEDUP_WINDOW=0, does not check keys: a repeat is published again', async () => {
    const service = await serve({ DEDUP_WINDOW: '0' });
    const first = await service.post('hello', { message: 'order 42' }, { 'idempotency-key': 'order-42' });
    const retry = await service.post('hello', { message: 'order 42' }, { 'idempotency-key': 'order-42' });
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect((await drainQueue(broker.url, 'hello')).map((m) => m.properties.messageId as unknown)).toEqual([
      'order-42',
      'order-42',
    ]);
  });

  it('shows the messages on /metrics as they flow: published, confirmed, confirm latency, none in flight', async () => {
    const service = await serve();
    expect(await service.metric('hello_rabbit_messages_published_total{queue="hello"}')).toBe(0);
    for (let i = 0; i < 3; i++) expect((await service.post('hello', `Hi #${i}`)).status).toBe(202);
    expect(await service.metric('hello_rabbit_messages_published_total{queue="hello"}')).toBe(3);
    expect(await service.metric('hello_rabbit_messages_confirmed_total{queue="hello"}')).toBe(3);
    expect(await service.metric('hello_rabbit_confirm_latency_seconds_count{queue="hello"}')).toBe(3);
    expect(await service.metric('hello_rabbit_messages_resent_total{queue="hello"}')).toBe(0);
    expect(await service.metric('hello_rabbit_in_flight_messages{direction="publish"}')).toBe(0);
    expect(await service.metric('hello_rabbit_broker_connected')).toBe(1);
    // Node's default process metrics are there too.
    expect(await service.metric('process_start_time_seconds')).toBeGreaterThan(0);
    expect(await drainQueue(broker.url, 'hello')).toHaveLength(3);
  });

  it('is live and ready once listening', async () => {
    const service = await serve();
    expect(await service.get('/health/live')).toMatchObject({ status: 200, body: { status: 'live' } });
    expect(await service.get('/health/ready')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('logs one line per message with its messageId and queue, and its text only with LOG_PAYLOADS=true', async () => {
    const quiet = await serve();
    await quiet.post('hello', 'a private text', { 'idempotency-key': 'quiet-1' });
    await eventually(() => quiet.log().some((line) => line.msg === 'message confirmed'), 10_000, 'the log line');
    expect(quiet.log().find((line) => line.msg === 'message confirmed')).toMatchObject({
      messageId: 'quiet-1',
      queue: 'hello',
      statusCode: 202,
    });
    expect(quiet.process.stderr).not.toContain('a private text');

    const verbose = await serve({ LOG_PAYLOADS: 'true' });
    await verbose.post('hello', 'a logged text', { 'idempotency-key': 'verbose-1' });
    await eventually(() => verbose.log().some((line) => line.msg === 'message confirmed'), 10_000, 'the log line');
    expect(verbose.log().find((line) => line.msg === 'message confirmed')).toMatchObject({
      messageId: 'verbose-1',
      payload: 'a logged text',
    });
  });
});

describe('producer serve: refused messages', () => {
  it.each([
    ['an empty message', { message: '' }, 'body/message must NOT have fewer than 1 characters'],
    ['a message that is not text', { message: 42 }, 'body/message must be string'],
    ['a body without a message', { text: 'Hi' }, "body must have required property 'message'"],
    ['a body with more than the message', { message: 'Hi', priority: 1 }, 'body must NOT have additional properties'],
    ['an empty text/plain body', '', 'body must NOT have fewer than 1 characters'],
  ])("answers %s 400 with the schema's reason, and publishes nothing", async (_, body, reason) => {
    const service = await serve();
    const answer = await service.post('hello', body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: reason });
    expect((await inspectQueue(broker.url, 'hello'))?.messageCount).toBe(0);
  });

  it('answers a body that is not JSON 400, and another content type 415', async () => {
    const service = await serve();
    expect((await service.post('hello', '{"message": ', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await service.post('hello', '<message>Hi</message>', { 'content-type': 'application/xml' })).status).toBe(
      415,
    );
  });

  it('answers an Idempotency-Key that could not be a messageId 400', async () => {
    const service = await serve();
    for (const key of ['has spaces', 'x'.repeat(129), 'ünïcode']) {
      const answer = await service.post('hello', { message: 'Hi' }, { 'idempotency-key': key });
      expect(answer.status, key).toBe(400);
      expect(answer.body.message).toMatch(/^headers\/idempotency-key must match pattern/);
    }
    expect((await inspectQueue(broker.url, 'hello'))?.messageCount).toBe(0);
  });

  // The size is counted in bytes, not characters.
  it("answers 413 to a message over the contract's 64 KiB, and to a huge body before reading it", async () => {
    const service = await serve();
    const tooLong = await service.post('hello', { message: 'x'.repeat(65_537) });
    expect(tooLong.status).toBe(413);
    expect(tooLong.body.message).toBe("invalid 'hello' message: 65537 bytes is over the limit of 65536");
    // 40,000 characters, 80,000 bytes in UTF-8.
    const multibyte = await service.post('task_queue', 'é'.repeat(40_000));
    expect(multibyte.status).toBe(413);
    expect(multibyte.body.message).toBe("invalid 'task' message: 80000 bytes is over the limit of 65536");
    const huge = await service.post('hello', 'x'.repeat(1_000_000));
    expect(huge.status).toBe(413);
    expect(huge.body.message).toBe('Request body is too large');
    // Exactly at the limit is fine.
    expect((await service.post('hello', 'x'.repeat(65_536))).status).toBe(202);
    expect((await drainQueue(broker.url, 'hello')).map((m) => m.body.length)).toEqual([65_536]);
  });

  it('answers an unknown publication 404, naming the ones there are', async () => {
    const service = await serve();
    const answer = await service.post('hello.dlq', { message: 'Hi' });
    expect(answer.status).toBe(404);
    expect(answer.body.message).toBe("no publication named 'hello.dlq'; the publications are hello, task_queue");
    expect((await service.post('nope', 'not even read')).status).toBe(404);
  });
});

describe('producer serve: when the broker does not take the message', () => {
  it('answers 502 when the queue is gone (the message comes back unroutable), and counts it returned', async () => {
    const service = await serve();
    await withChannel(broker.url, (channel) => channel.deleteQueue('hello'));
    const answer = await service.post('hello', 'nobody home');
    expect(answer.status).toBe(502);
    expect(answer.body.message).toMatch(/^returned by the broker: NO_ROUTE/);
    expect(answer.headers.get('retry-after')).toBeNull();
    expect(await service.metric('hello_rabbit_messages_returned_total{queue="hello"}')).toBe(1);
    expect(await service.metric('hello_rabbit_messages_confirmed_total{queue="hello"}')).toBe(0);
  });

  it('answers 503 with Retry-After when the broker refuses it (nack), and counts it failed', async () => {
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('hello', {
        durable: false,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      }),
    );
    const service = await serve({ HTTP_RETRY_AFTER_SECONDS: '3' });
    const answer = await service.post('hello', 'no room', { 'idempotency-key': 'no-room-1' });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('3');
    expect(answer.body).toMatchObject({ messageId: 'no-room-1', message: 'rejected by the broker (basic.nack)' });
    expect(await service.metric('hello_rabbit_messages_publish_failed_total{queue="hello",reason="nacked"}')).toBe(1);
  });

  it('answers 503 with Retry-After at once when PUBLISH_WINDOW messages are in flight; never queues it', async () => {
    const service = await serve({
      AMQP_URL: await proxied.open(),
      PUBLISH_WINDOW: '1',
      HTTP_RETRY_AFTER_SECONDS: '7',
      // The cut network must hold the confirm, not end the connection.
      AMQP_HEARTBEAT_SECONDS: '0',
      PUBLISH_CONFIRM_TIMEOUT_MS: '120000',
    });
    proxied.proxy?.cut();
    const held = service.post('hello', 'held', { 'idempotency-key': 'held-1' });
    await eventually(
      async () => (await service.metric('hello_rabbit_in_flight_messages{direction="publish"}')) === 1,
      30_000,
      'one message in flight',
    );

    const refused = await service.post('hello', 'one too many', { 'idempotency-key': 'too-many-1' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(refused.body).toMatchObject({
      messageId: 'too-many-1',
      message: '1 messages already await their confirm (PUBLISH_WINDOW)',
    });

    proxied.proxy?.restore();
    expect(await held).toMatchObject({ status: 202, body: { messageId: 'held-1' } });
    expect((await drainQueue(broker.url, 'hello')).map((m) => m.body)).toEqual(['held']);
  });
});

describe('producer serve: when a confirm does not come', () => {
  it('republishes with the same messageId until one is confirmed, then answers 202; counts the resends', async () => {
    const service = await serve({
      AMQP_URL: await proxied.open(),
      AMQP_HEARTBEAT_SECONDS: '0',
      PUBLISH_CONFIRM_TIMEOUT_MS: '1000',
    });
    // A first message opens the confirm channel, so that the next one is written to it.
    expect((await service.post('hello', 'first')).status).toBe(202);
    proxied.proxy?.cut();
    const answer = service.post('hello', 'resent', { 'idempotency-key': 'resent-1' });
    await eventually(
      async () => (await service.metric('hello_rabbit_messages_resent_total{queue="hello"}')) >= 1,
      30_000,
      'a resend',
    );
    proxied.proxy?.restore();
    expect(await answer).toMatchObject({ status: 202, body: { messageId: 'resent-1' } });
    expect(await service.metric('hello_rabbit_messages_published_total{queue="hello"}')).toBe(2);
    expect(await service.metric('hello_rabbit_messages_confirmed_total{queue="hello"}')).toBe(2);
    expect(await service.metric('hello_rabbit_messages_publish_failed_total{queue="hello",reason="unconfirmed"}')).toBe(
      0,
    );
    // Every copy the broker got carries the same messageId: the consumer does it once.
    const copies = (await drainQueue(broker.url, 'hello')).filter((m) => m.body === 'resent');
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect(new Set(copies.map((m) => m.properties.messageId as unknown))).toEqual(new Set(['resent-1']));
  });
});

describe('producer serve: stopping', () => {
  it('on SIGTERM: not ready, then 503 for new messages, confirm and 202 for the one in flight, exit 0', async () => {
    const service = await serve({
      AMQP_URL: await proxied.open(),
      AMQP_HEARTBEAT_SECONDS: '0',
      PUBLISH_CONFIRM_TIMEOUT_MS: '120000',
      SHUTDOWN_DELAY_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '120000',
    });
    // A message in flight (its confirm held by the cut network) holds the shutdown.
    proxied.proxy?.cut();
    const inFlight = service.post('hello', 'in flight at SIGTERM', { 'idempotency-key': 'in-flight-1' });
    await eventually(
      async () => (await service.metric('hello_rabbit_in_flight_messages{direction="publish"}')) === 1,
      30_000,
      'one message in flight',
    );

    service.process.child.kill('SIGTERM');
    await eventually(async () => (await service.get('/health/ready')).status === 503, 30_000, 'readiness down');
    expect(await service.get('/health/ready')).toMatchObject({
      status: 503,
      body: { status: 'not ready', reasons: ['shutting down'] },
    });
    expect((await service.get('/health/live')).status).toBe(200);

    // After SHUTDOWN_DELAY_MS, new messages are refused while the one in flight settles.
    await eventually(
      () => service.process.stderr.includes('new messages are refused; waiting for the ones in flight'),
      30_000,
      'refusing',
    );
    const late = await service.post('hello', 'too late');
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(late.body.message).toBe('the service is shutting down');
    expect(service.process.child.exitCode).toBeNull();

    proxied.proxy?.restore();
    expect(await inFlight).toMatchObject({ status: 202, body: { messageId: 'in-flight-1' } });
    const exit = await service.process.exited;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^ \[\*\] Listening on http:\/\/127\.0\.0\.1:\d+\. To exit press CTRL\+C\n$/);
    expect((await drainQueue(broker.url, 'hello')).map((m) => m.body)).toEqual(['in flight at SIGTERM']);
  });

  it('answers 503 to a message still unconfirmed at SHUTDOWN_TIMEOUT_MS, then exits 0', async () => {
    const service = await serve({
      AMQP_URL: await proxied.open(),
      AMQP_HEARTBEAT_SECONDS: '0',
      PUBLISH_CONFIRM_TIMEOUT_MS: '120000',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    proxied.proxy?.cut();
    const stuck = service.post('hello', 'stuck', { 'idempotency-key': 'stuck-1' });
    await eventually(
      async () => (await service.metric('hello_rabbit_in_flight_messages{direction="publish"}')) === 1,
      30_000,
      'one message in flight',
    );
    service.process.child.kill('SIGTERM');
    const answer = await stuck;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.body).toMatchObject({
      messageId: 'stuck-1',
      message: 'the service stopped before the broker confirmed the message; retry with the same Idempotency-Key',
    });
    expect((await service.process.exited).code).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('with nothing in flight, %s stops it cleanly with exit 0', async (signal) => {
    const service = await serve();
    expect((await service.post('hello', 'before')).status).toBe(202);
    const exit = await service.process.stop(signal);
    expect(exit.code).toBe(0);
    expect(service.log().map((line) => line.msg)).toContain('stopped');
  });
});

describe('producer serve: cannot start', () => {
  const start = (env: Record<string, string>) =>
    spawnApp('producer', ['serve'], { env: { AMQP_URL: broker.url, LOG_LEVEL: 'silent', ...env }, timeoutMs: 60_000 })
      .exited;

  it('names every bad setting, one line each, and exits 78', async () => {
    const result = await start({ HTTP_PORT: 'eighty', LOG_PAYLOADS: 'maybe', HTTP_HOST: 'no spaces please' });
    expect(result.code).toBe(78);
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      'producer: HTTP_HOST: must be a host name or an IP address, e.g. 0.0.0.0 or ::',
      'producer: HTTP_PORT: must be a port number from 0 to 65535',
      'producer: LOG_PAYLOADS: must be true or false',
    ]);
  });

  it('says which setting to change when the port is taken, and exits 78', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const result = await start({ HTTP_PORT: String(port) });
      expect(result.code).toBe(78);
      expect(result.stderr).toBe(`producer: HTTP_PORT: 127.0.0.1:${port} is already in use\n`);
    } finally {
      taken.close();
    }
  });

  it('exits 69 with one line when the broker cannot be reached', async () => {
    const result = await start({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' });
    expect(result.code).toBe(69);
    expect(result.stderr).toBe(
      'producer: cannot reach the broker at 127.0.0.1:1: connection refused (is RabbitMQ running?)\n',
    );
  });
});
