import { fileURLToPath } from 'node:url';
import {
  createTestVhost,
  pikaPrograms,
  pythonWithPika,
  RunningProcess,
  runProcess,
  withChannel,
  type TestVhost,
} from '@hello-rabbit/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let vhost: TestVhost;
let python: string;
const running: RunningProcess[] = [];

beforeAll(async () => {
  python = pythonWithPika();
  vhost = await createTestVhost('consumer-interop');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await withChannel(vhost.url, async (channel) => {
    await channel.deleteQueue('hello');
    await channel.deleteQueue('hello.dlq');
  });
});
afterAll(async () => {
  await vhost.dispose();
});

const consumer = () => {
  const p = new RunningProcess(process.execPath, [main], { env: { AMQP_URL: vhost.url, LOG_LEVEL: 'warn' } });
  running.push(p);
  return p;
};
const send = (...flags: string[]) => runProcess(python, [pikaPrograms.send, ...flags], { env: { AMQP_URL: vhost.url } });

describe.each([
  ['the original tutorial (classic, not durable)', []],
  ['the current tutorials (durable quorum)', ['--quorum']],
])("pika's send.py and our consumer on a 'hello' declared as in %s", (_, flags) => {
  beforeEach(async () => {
    // Where the current tutorials run, 'hello' is already there as a durable quorum queue.
    if (flags.includes('--quorum')) {
      await withChannel(vhost.url, (channel) =>
        channel.assertQueue('hello', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
      );
    }
  });

  it('our consumer started first receives what send.py sends', async () => {
    const c = consumer();
    await c.waitForOutput(/Waiting for messages/);
    const sent = await send(...flags);
    expect(sent.stdout).toBe(" [x] Sent 'Hello World!'\n");
    expect(sent.code).toBe(0);
    await c.waitForOutput(/^ \[x\] Received 'Hello World!'$/);
  });

  it('our consumer started after send.py receives the waiting message', async () => {
    const sent = await send(...flags);
    expect(sent.code).toBe(0);
    const c = consumer();
    await c.waitForOutput(/^ \[x\] Received 'Hello World!'$/);
    expect((await c.stop('SIGTERM')).code).toBe(0);
  });
});
