import { eventually, inspectQueue, RunningProcess } from '@hello-rabbit/testkit';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { requireWorkQueueApps } from '../src/apps.js';
import { DEAD_LETTER_QUEUE } from '../src/fault-run.js';
import { Scenario } from '../src/scenario.js';

const MESSAGES = 3;
const MAX_ATTEMPTS = 3;
const RETRY_DELAYS_MS = [200, 400];
const alwaysThrows = fileURLToPath(new URL('../scripts/always-throws.mjs', import.meta.url));

/** ` [!] attempt <n> of '<body>' at <epoch ms>`, one line per call of the handler. */
const ATTEMPT = /^ \[!\] attempt (\d+) of '(.*)' at (\d+)$/;

let scenario: Scenario | undefined;
let worker: RunningProcess | undefined;
afterEach(async () => {
  await worker?.stop('SIGKILL');
  worker = undefined;
  await scenario?.close();
  scenario = undefined;
});

describe('a handler that always throws (the transport startConsumer)', () => {
  // Without a hot loop.
  it(`retries each message with backoff, then dead-letters it after ${MAX_ATTEMPTS} attempts`, async () => {
    await requireWorkQueueApps();
    scenario = await Scenario.open('handler always throws', { label: 'throws' });
    const { run, vhost } = scenario;

    worker = new RunningProcess(process.execPath, [alwaysThrows], {
      env: {
        AMQP_URL: vhost.url,
        MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(','),
        LOG_LEVEL: 'info',
      },
      timeoutMs: 5 * 60_000,
    });
    const throwing = worker;
    await throwing.waitForOutput(/Waiting for messages/, 60_000);
    run.startProducer({ count: MESSAGES, text: 'throws' });

    await eventually(
      async () => ((await inspectQueue(vhost.url, DEAD_LETTER_QUEUE))?.messageCount ?? 0) >= MESSAGES,
      60_000,
      `${MESSAGES} messages in ${DEAD_LETTER_QUEUE}`,
      200,
    );
    // Time for a hot loop, if there were one, to show.
    await sleep(2 * Math.max(...RETRY_DELAYS_MS) + 1000);
    const attempts = throwing.stdout.split('\n').flatMap((line) => {
      const match = ATTEMPT.exec(line);
      return match === null ? [] : [{ attempt: Number(match[1]), body: match[2] ?? '', at: Number(match[3]) }];
    });
    const stopped = await throwing.stop('SIGTERM');

    const settled = await run.settle();
    const { books } = settled;
    const byBody = new Map<string, typeof attempts>();
    for (const attempt of attempts) byBody.set(attempt.body, [...(byBody.get(attempt.body) ?? []), attempt]);
    run.record(
      books,
      `${attempts.length} handler calls for ${MESSAGES} messages ` +
        `(max ${MAX_ATTEMPTS} attempts, retry delays ${RETRY_DELAYS_MS.join('/')} ms); ` +
        'each dead-lettered with x-attempts ' +
        [...new Set(settled.deadLetters.map((m) => String(m.properties.headers?.['x-attempts'])))].join('/'),
    );

    expect(books.lost, 'confirmed but neither delivered nor dead-lettered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(books.confirmed).toBe(MESSAGES);
    expect(books.deadLettered).toBe(MESSAGES);
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
    // Exactly MAX_ATTEMPTS calls per message, numbered 1..MAX_ATTEMPTS: no hot loop.
    for (const body of run.producers[0]?.bodies() ?? []) {
      const calls = byBody.get(body) ?? [];
      expect(
        calls.map((call) => call.attempt),
        `attempts of '${body}'`,
      ).toEqual([1, 2, 3]);
      // Each retry waited at least (most of) its backoff in a wait queue.
      for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
        const gap = (calls[i + 1]?.at ?? 0) - (calls[i]?.at ?? 0);
        expect(gap, `backoff before attempt ${i + 2} of '${body}'`).toBeGreaterThanOrEqual(delay * 0.8);
      }
    }
    expect(attempts).toHaveLength(MESSAGES * MAX_ATTEMPTS);
    for (const message of settled.deadLetters) {
      const headers = message.properties.headers ?? {};
      expect(headers['x-dead-letter-reason'], message.body).toMatch(/this handler always throws/);
      expect(headers['x-attempts'], message.body).toBe(MAX_ATTEMPTS);
      expect(headers['x-original-queue'], message.body).toBe('task_queue');
      expect(Number.isNaN(Date.parse(String(headers['x-dead-lettered-at']))), message.body).toBe(false);
    }
  });
});
