import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, inspectQueue, spawnApp, TASK_QUEUES, useTestVhost } from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const vhost = useTestVhost('e2e-tracing', { queues: TASK_QUEUES });
const recordSpans = fileURLToPath(new URL('../otel/record-spans.mjs', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hello-rabbit-traces-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface RecordedSpan {
  readonly app: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  /** 2: error (SpanStatusCode.ERROR). */
  readonly status: number;
  readonly attributes: Record<string, unknown>;
}

describe('one trace across the producer, the broker and the consumer', () => {
  it('from the publish, through every attempt and retry, to the dead letter; each app registers an SDK', async () => {
    const file = join(dir, 'spans.jsonl');
    const env = (app: string) => ({
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'warn',
      TRACE_SPANS_FILE: file,
      TRACE_APP_NAME: app,
    });

    const consumer = vhost.spawnApp('consumer', ['--from', 'task_queue'], {
      nodeArgs: ['--import', recordSpans],
      env: {
        ...env('consumer'),
        WORK_UNIT_MS: '0',
        MAX_ATTEMPTS: '2',
        RETRY_DELAYS_MS: '100',
        FAIL_TASKS_MATCHING: '^boom',
      },
      timeoutMs: 90_000,
    });
    await consumer.waitForOutput(/Waiting for messages/);
    const sent = await spawnApp('producer', ['boom task', '--to', 'task_queue'], {
      nodeArgs: ['--import', recordSpans],
      env: env('producer'),
    }).exited;
    expect(sent.code, sent.stderr).toBe(0);
    await eventually(
      async () => (await inspectQueue(vhost.url, 'task_queue.dlq'))?.messageCount === 1,
      20_000,
      'the dead letter',
    );
    expect((await consumer.stop('SIGTERM')).code).toBe(0);

    const spans = (await readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RecordedSpan);
    const named = (app: string, name: string) => spans.filter((s) => s.app === app && s.name === name);
    const [publish] = named('producer', 'task_queue publish');
    const processes = named('consumer', 'task_queue process').sort(
      (a, b) => Number(a.attributes['messaging.rabbitmq.attempt']) - Number(b.attributes['messaging.rabbitmq.attempt']),
    );
    const [retry] = named('consumer', 'task_queue.retry.1 publish');
    const [deadLetter] = named('consumer', 'task_queue.dlq publish');
    if (publish === undefined || retry === undefined || deadLetter === undefined)
      throw new Error(`spans missing: ${JSON.stringify(spans)}`);
    const [first, second] = processes;
    if (first === undefined || second === undefined) throw new Error(`process spans missing: ${JSON.stringify(spans)}`);

    // One trace, two processes: every span of it shares the producer's trace id.
    for (const span of [first, retry, second, deadLetter]) expect(span.traceId).toBe(publish.traceId);
    // publish -> attempt 1 (failed) -> the retry's copy -> attempt 2 (failed) -> the dead letter.
    expect(first.parentSpanId).toBe(publish.spanId);
    expect(retry.parentSpanId).toBe(first.spanId);
    expect(second.parentSpanId).toBe(retry.spanId);
    expect(deadLetter.parentSpanId).toBe(second.spanId);
    expect([first.status, second.status]).toEqual([2, 2]);
    expect(first.attributes['messaging.message.id']).toBe(publish.attributes['messaging.message.id']);
  });
});
