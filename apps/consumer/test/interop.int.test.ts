import {
  HELLO_QUEUES,
  pikaPrograms,
  pythonWithPika,
  runProcess,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { beforeEach, describe, expect, it } from 'vitest';

const broker = useTestVhost('consumer-interop', { queues: HELLO_QUEUES });

const consumer = () => broker.spawnApp('consumer', [], { env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' } });
const send = (...flags: string[]) =>
  runProcess(pythonWithPika(), [pikaPrograms.send, ...flags], { env: { AMQP_URL: broker.url } });

describe.each([
  ['the original tutorial (classic, not durable)', []],
  ['the current tutorials (durable quorum)', ['--quorum']],
])("pika's send.py and our consumer on a 'hello' declared as in %s", (_, flags) => {
  beforeEach(async () => {
    // Where the current tutorials run, 'hello' is already there as a durable quorum queue.
    if (flags.includes('--quorum')) {
      await withChannel(broker.url, (channel) =>
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
