import { HELLO_QUEUES, pikaPrograms, pythonWithPika, spawnApp, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { beforeEach, describe, expect, it } from 'vitest';

const broker = useTestVhost('producer-interop', { queues: HELLO_QUEUES });

const producer = () => spawnApp('producer', [], { env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' } }).exited;
const receive = (...flags: string[]) =>
  broker.start(pythonWithPika(), [pikaPrograms.receive, '--max', '1', ...flags], { env: { AMQP_URL: broker.url } });

describe.each([
  ['the original tutorial (classic, not durable)', []],
  ['the current tutorials (durable quorum)', ['--quorum']],
])("our producer and pika's receive.py on a 'hello' declared as in %s", (_, flags) => {
  beforeEach(async () => {
    // Where the current tutorials run, 'hello' is already there as a durable quorum queue.
    if (flags.includes('--quorum')) {
      await withChannel(broker.url, (channel) =>
        channel.assertQueue('hello', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
      );
    }
  });

  it('receive.py started first gets our Hello World!', async () => {
    const receiver = receive(...flags);
    await receiver.waitForOutput(/Waiting for messages/);
    const sent = await producer();
    expect(sent.stdout).toBe(" [x] Sent 'Hello World!'\n");
    expect(sent.code).toBe(0);
    await receiver.waitForOutput(/Received 'Hello World!'/);
    expect((await receiver.exited).code).toBe(0);
  });

  it('receive.py started after our producer gets the waiting message', async () => {
    const sent = await producer();
    expect(sent.code).toBe(0);
    const receiver = receive(...flags);
    await receiver.waitForOutput(/Received 'Hello World!'/);
    expect((await receiver.exited).code).toBe(0);
  });
});
