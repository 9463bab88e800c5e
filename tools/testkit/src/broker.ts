import amqplib from 'amqplib';

/** The broker the integration tests use: AMQP_URL, as for the apps. */
export function brokerUrl(): string {
  const value = process.env.AMQP_URL;
  return value === undefined || value === '' ? 'amqp://guest:guest@localhost:5672' : value;
}

/** The broker URL with its password hidden, for messages. */
export function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/**
 * Fails with a clear message when no broker answers: integration tests never skip
 * silently.
 */
export async function requireBroker(url = brokerUrl()): Promise<void> {
  try {
    const connection = await amqplib.connect(url, { timeout: 5000, noDelay: true });
    await connection.close();
  } catch (err) {
    throw new Error(
      `the integration tests need a RabbitMQ broker at ${redacted(url)} and none answered ` +
        `(${(err as Error).message}). Start one with 'pnpm broker:up', or set AMQP_URL.`,
      { cause: err },
    );
  }
}

/**
 * Opens a connection and a confirm channel, runs `fn`, closes both. Whatever `fn` published
 * is confirmed by the broker before the channel closes, whether `fn` closes it or this does:
 * without confirms the broker promises nothing, and under load a quorum queue was seen to
 * miss the last messages of a channel closed right after publishing them.
 */
export async function withChannel<T>(url: string, fn: (channel: amqplib.ConfirmChannel) => Promise<T>): Promise<T> {
  const connection = await amqplib.connect(url, { timeout: 5000, noDelay: true });
  try {
    const channel = await connection.createConfirmChannel();
    const state = { open: true };
    channel.once('close', () => {
      state.open = false;
    });
    const close = channel.close.bind(channel);
    channel.close = async () => {
      await channel.waitForConfirms();
      await close();
    };
    const result = await fn(channel);
    if (state.open) await channel.waitForConfirms();
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** A queue's counts, as `queue.declare` (passive) reports them. */
export interface QueueState {
  readonly messageCount: number;
  readonly consumerCount: number;
}

/** Whether a queue exists, and its counts. */
export async function inspectQueue(url: string, queue: string): Promise<QueueState | undefined> {
  const connection = await amqplib.connect(url, { timeout: 5000, noDelay: true });
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return await channel.checkQueue(queue);
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return undefined;
    throw err;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** A message taken by `drainQueue`: its body as text, and its properties. */
export interface DrainedMessage {
  readonly body: string;
  readonly properties: amqplib.MessageProperties;
}

/** Takes every message now in a queue (basic.get until empty), acking each. */
export async function drainQueue(url: string, queue: string): Promise<DrainedMessage[]> {
  return withChannel(url, async (channel) => {
    const out: DrainedMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) return out;
      out.push({ body: message.content.toString('utf8'), properties: message.properties });
      channel.ack(message);
    }
  });
}
