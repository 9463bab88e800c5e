// The one-shot Hello World send of the startup scenario, with nothing but amqplib: what the
// project's `producer 'Hello World!'` does (declare `hello` as the tutorial does, one
// persistent, mandatory, confirmed publish, close), as a fresh process of its own.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import amqplib from 'amqplib';

const body = process.argv[2] ?? 'Hello World!';
const connection = await amqplib.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672');
const channel = await connection.createConfirmChannel();
await channel.assertQueue('hello', { durable: false });
channel.publish('', 'hello', Buffer.from(body), { persistent: true, mandatory: true });
await channel.waitForConfirms();
process.stdout.write(` [x] Sent '${body}'\n`);
await connection.close();
