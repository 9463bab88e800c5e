import { RecoveryHeader } from '@hello-rabbit/transport';
import { queues } from '@hello-rabbit/broker-config';
import { drainQueue, managementEndpoint, spawnApp, type ProcessResult } from '@hello-rabbit/testkit';
import amqplib, { type Options } from 'amqplib';

/** Runs the built tool to its end with plain node, as `pnpm --filter ops start` does. */
export function ops(
  url: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<ProcessResult> {
  return spawnApp('ops', args, {
    // The management API the test setup made sure of; the credentials are AMQP_URL's unless a test says otherwise.
    env: {
      AMQP_URL: url,
      LOG_LEVEL: 'warn',
      MANAGEMENT_URL: managementEndpoint().url,
      MANAGEMENT_USER: undefined,
      MANAGEMENT_PASSWORD: undefined,
      ...env,
    },
    timeoutMs: 60_000,
  }).exited;
}

/**
 * Runs the tool with --json and parses what it printed; `as` says what the test expects it
 * to be (the tests then check it field by field).
 */
export async function opsJson<T>(
  url: string,
  args: readonly string[],
  env: Record<string, string> = {},
  as: (value: unknown) => T = (value) => value as T,
): Promise<{ result: ProcessResult; json: T }> {
  const result = await ops(url, [...args, '--json'], env);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new Error(`not JSON (exit ${String(result.code)}):\n${result.stdout}\n${result.stderr}`);
  }
  return { result, json: as(parsed) };
}

export const lines = (text: string) => text.split('\n').filter((line) => line !== '');
/** stderr without the diagnostic log's JSON lines: what a person reads. */
export const humanLines = (text: string) => lines(text).filter((line) => !line.startsWith('{'));

export interface Letter {
  readonly id: string;
  readonly reason?: string | undefined;
  /** The dead-lettered-at header: a date, raw text, or null for none. @default now */
  readonly at?: Date | string | null;
  readonly body?: string | Buffer;
  readonly originalQueue?: string | null;
  readonly headers?: Record<string, unknown>;
  readonly contentType?: string;
}

/**
 * Puts messages in a dead-letter queue as the consumer engine leaves them there (its
 * headers, persistent, a content type), with a publisher confirm. The queue is declared as
 * the contract declares it unless `shape` says otherwise.
 */
export async function seedDeadLetters(
  url: string,
  queue: 'task_queue.dlq' | 'hello.dlq',
  letters: readonly Letter[],
  shape: Options.AssertQueue = queues[queue].options,
): Promise<void> {
  const connection = await amqplib.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, shape);
    for (const letter of letters) {
      const at = letter.at === undefined ? new Date() : letter.at;
      const headers: Record<string, unknown> = {
        ...(letter.reason === undefined ? {} : { [RecoveryHeader.reason]: letter.reason }),
        ...(letter.originalQueue === null
          ? {}
          : { [RecoveryHeader.queue]: letter.originalQueue ?? queue.replace(/\.dlq$/, '') }),
        ...(at === null ? {} : { [RecoveryHeader.at]: at instanceof Date ? at.toISOString() : at }),
        [RecoveryHeader.attempts]: 1,
        ...letter.headers,
      };
      channel.sendToQueue(
        queue,
        typeof letter.body === 'string' || letter.body === undefined
          ? Buffer.from(letter.body ?? `body of ${letter.id}`)
          : letter.body,
        {
          persistent: true,
          messageId: letter.id,
          contentType: letter.contentType ?? 'text/plain',
          appId: 'consumer',
          headers,
        },
      );
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** The messageIds in a queue, in the order the broker delivers them; the queue is emptied. */
export async function takeIds(url: string, queue: string): Promise<string[]> {
  return (await drainQueue(url, queue)).map((m) => String(m.properties.messageId));
}

export const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
export const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
