// The whole-process publish of the startup scenario with nothing but amqplib: what the
// project's `producer --to task_queue --count N <text>` does. Declares the queue with the
// options in QUEUE_OPTIONS (JSON; the benchmark passes the contract's), publishes N
// persistent, mandatory messages `<text> #i` with at most PUBLISH_WINDOW awaiting their
// confirm, and exits 0 once the broker confirmed every one (1 if any was returned or nacked).
import { Buffer } from 'node:buffer';
import process from 'node:process';
import amqplib from 'amqplib';

const [queue = 'task_queue', countArg = '1', text = 'Hello World!'] = process.argv.slice(2);
const count = Number(countArg);
const window = Number(process.env.PUBLISH_WINDOW ?? 1000);
const connection = await amqplib.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672');
const channel = await connection.createConfirmChannel();
await channel.assertQueue(queue, JSON.parse(process.env.QUEUE_OPTIONS ?? '{"durable":true}'));
let returned = 0;
let nacked = 0;
channel.on('return', () => returned++);
let inFlight = 0;
let wake;
for (let index = 0; index < count; index++) {
  while (inFlight >= window) await new Promise((resolve) => (wake = resolve));
  inFlight++;
  channel.publish('', queue, Buffer.from(`${text} #${index + 1}`), { persistent: true, mandatory: true }, (err) => {
    if (err) nacked++;
    inFlight--;
    wake?.();
  });
}
await channel.waitForConfirms().catch(() => undefined);
await connection.close();
if (returned + nacked > 0) {
  process.stderr.write(`raw-publish: ${returned} returned, ${nacked} nacked\n`);
  process.exit(1);
}
process.stdout.write(` [x] Sent ${count} messages to '${queue}', all confirmed by the broker\n`);
