// The consumer of the startup scenario with nothing but amqplib: connect, declare `hello` as
// the tutorial does, consume (with PREFETCH unacknowledged at most, when given: the
// benchmark passes the project's for the drain), print the tutorial's line for each message
// and ack it, say it is waiting. SIGTERM closes the connection and exits.
import process from 'node:process';
import amqplib from 'amqplib';

const connection = await amqplib.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672');
const channel = await connection.createChannel();
if (process.env.PREFETCH !== undefined) await channel.prefetch(Number(process.env.PREFETCH));
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
