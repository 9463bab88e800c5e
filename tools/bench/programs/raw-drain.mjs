// The whole-process consume of the startup scenario with nothing but amqplib: connect,
// declare `hello` as the tutorial does, consume with PREFETCH unacknowledged at most (the
// benchmark passes the project's), print the tutorial's line for each message and ack it.
// SIGTERM closes the connection and exits.
import process from 'node:process';
import amqplib from 'amqplib';

const connection = await amqplib.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672');
const channel = await connection.createChannel();
await channel.prefetch(Number(process.env.PREFETCH ?? 10));
await channel.assertQueue('hello', { durable: false });
await channel.consume('hello', (message) => {
  if (message === null) return;
  process.stdout.write(` [x] Received '${message.content.toString()}'\n`);
  channel.ack(message);
});
process.stdout.write(' [*] Waiting for messages. To exit press CTRL+C\n');
process.once('SIGTERM', () => {
  void connection.close().finally(() => process.exit(0));
});
