import { HELLO_QUEUES, useTestVhost } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';
import { ctrlC, startApp } from './repo.js';

const broker = useTestVhost('e2e-start', { queues: HELLO_QUEUES });

const start = (app: 'producer' | 'consumer', ...args: string[]) => startApp(broker, app, ...args);

describe("the README's two commands", () => {
  it('consumer first, then producer: Hello World! goes across, and CTRL+C stops the consumer with exit 0', async () => {
    const consumer = start('consumer');
    await consumer.waitForOutput(/^ \[\*\] Waiting for messages\. To exit press CTRL\+C$/, 60_000);

    const producer = start('producer');
    const sent = await producer.exited;
    expect(sent.stdout).toMatch(/^ \[x\] Sent 'Hello World!'$/m);
    expect(sent.code).toBe(0);

    await consumer.waitForOutput(/^ \[x\] Received 'Hello World!'$/);
    const stopped = await ctrlC(consumer);
    // pnpm reports the script's own exit code: 0, not ELIFECYCLE.
    expect(stopped.stderr).not.toMatch(/ELIFECYCLE/);
    expect(stopped.code).toBe(0);
  });

  it('producer first, with its own text and --count, then consumer: every message is received', async () => {
    const sent = await start('producer', '--count', '3', 'Hi there').exited;
    expect(sent.stdout).toMatch(/^ \[x\] Sent 3 messages to 'hello', all confirmed by the broker$/m);
    expect(sent.code).toBe(0);

    const consumer = start('consumer');
    await consumer.waitForOutput(/Received 'Hi there #3'/, 60_000);
    for (const n of [1, 2, 3]) expect(consumer.stdout).toContain(` [x] Received 'Hi there #${n}'`);
    const stopped = await ctrlC(consumer);
    expect(stopped.code, stopped.stderr).toBe(0);
  });

  it('a bad flag gets a one-line error and a non-zero exit through pnpm too', async () => {
    const result = await start('producer', '--count', 'abc').exited;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^producer: option '--count <n>' argument 'abc' is invalid\./m);
  });
});
