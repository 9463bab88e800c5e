import { drainQueue, eventually, RabbitNode, spawnApp, type RunningProcess } from '@hello-rabbit/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServiceProcess } from './support/service.js';

// These tests stop and block a broker, so they run on a private node of their own (other
// ports, data in a temporary directory), never on the shared one.
let node: RabbitNode | undefined;
let vhostUrl = '';
const processes: RunningProcess[] = [];

beforeAll(async () => {
  node = await RabbitNode.boot({ label: 'producer-service' });
  vhostUrl = (await node.addVhost('service')).url;
}, 180_000);

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
});

afterAll(async () => {
  await node?.stop();
}, 120_000);

function privateNode(): RabbitNode {
  if (node === undefined) throw new Error('the private node is booted in beforeAll');
  return node;
}

const serve = (env: Record<string, string> = {}) =>
  ServiceProcess.start(
    { AMQP_URL: vhostUrl, AMQP_HEARTBEAT_SECONDS: '2', HTTP_RETRY_AFTER_SECONDS: '2', ...env },
    (app, args, options) => {
      const child = spawnApp(app, args, options);
      processes.push(child);
      return child;
    },
  );

describe('producer serve, through a broker restart', () => {
  it('drops readiness and answers 503 while the broker is away; ready and publishing once it is back', async () => {
    const rabbit = privateNode();
    const service = await serve();
    expect((await service.get('/health/ready')).status).toBe(200);
    expect(await service.metric('hello_rabbit_broker_connected')).toBe(1);

    await rabbit.stopApp();
    await eventually(async () => (await service.get('/health/ready')).status === 503, 60_000, 'readiness down');
    expect(await service.get('/health/ready')).toMatchObject({
      status: 503,
      body: { status: 'not ready', reasons: ['not connected to the broker (reconnecting)'] },
    });
    expect(await service.metric('hello_rabbit_broker_connected')).toBe(0);
    // Still alive: only readiness follows the broker.
    expect((await service.get('/health/live')).status).toBe(200);
    const away = await service.post('hello', 'while the broker is away');
    expect(away.status).toBe(503);
    expect(away.headers.get('retry-after')).toBe('2');
    expect(away.body.message).toBe('not connected to the broker (reconnecting)');

    await rabbit.startApp();
    await eventually(async () => (await service.get('/health/ready')).status === 200, 90_000, 'readiness back');
    expect(await service.metric('hello_rabbit_broker_connected')).toBe(1);
    const back = await service.post('hello', 'once the broker is back');
    expect(back.status).toBe(202);
    expect((await drainQueue(vhostUrl, 'hello')).map((m) => m.body)).toEqual(['once the broker is back']);
  });

  it('drops readiness and answers 503 while a memory alarm blocks publishing, and recovers when it lifts', async () => {
    const rabbit = privateNode();
    const service = await serve({ PUBLISH_CONFIRM_TIMEOUT_MS: '2000' });
    try {
      // A high watermark of 0 sets the memory alarm off at once. The broker blocks a
      // connection, and tells it (connection.blocked), when it next publishes: the first
      // message gets no confirm in time and is answered 503; it waits in the broker's
      // socket buffer, in doubt.
      await rabbit.ctl(['set_vm_memory_high_watermark', '0']);
      const held = await service.post('hello', 'held by the alarm');
      expect(held.status).toBe(503);
      expect(held.headers.get('retry-after')).toBe('2');
      expect(held.body.message).toMatch(
        /^not confirmed: .*; it may have reached the broker: retry with the same Idempotency-Key$/,
      );

      await eventually(async () => (await service.get('/health/ready')).status === 503, 60_000, 'readiness down');
      expect((await service.get('/health/ready')).body).toEqual({
        status: 'not ready',
        reasons: ['the broker blocks publishing (resource alarm)'],
      });
      expect(await service.metric('hello_rabbit_broker_blocked')).toBe(1);
      expect(
        await service.metric('hello_rabbit_messages_publish_failed_total{queue="hello",reason="unconfirmed"}'),
      ).toBe(1);
      // From then on, refused at once.
      const refused = await service.post('hello', 'refused during the alarm');
      expect(refused.status).toBe(503);
      expect(refused.body.message).toBe('the broker blocks publishing (resource alarm)');
    } finally {
      await rabbit.ctl(['set_vm_memory_high_watermark', '0.4']);
    }
    await eventually(async () => (await service.get('/health/ready')).status === 200, 60_000, 'readiness back');
    expect(await service.metric('hello_rabbit_broker_blocked')).toBe(0);
    expect((await service.post('hello', 'after the alarm')).status).toBe(202);
    // The message answered 503 "in doubt" did reach the queue once the alarm lifted (a client
    // retry with the same Idempotency-Key would be a duplicate the consumer suppresses); the
    // one refused at once did not.
    const bodies = (await drainQueue(vhostUrl, 'hello')).map((m) => m.body);
    expect(bodies).toContain('after the alarm');
    expect(bodies).toContain('held by the alarm');
    expect(bodies).not.toContain('refused during the alarm');
  });
});
