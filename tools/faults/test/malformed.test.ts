import { eventually, inspectQueue, pythonWithPika, runProcess, type DrainedMessage } from '@hello-rabbit/testkit';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { requireWorkQueueApps } from '../src/apps.js';
import type { ProducerStatus } from '../src/books.js';
import { DEAD_LETTER_QUEUE } from '../src/fault-run.js';
import { Scenario } from '../src/scenario.js';

const corpus = fileURLToPath(new URL('../python/malformed.py', import.meta.url));

interface CorpusLine {
  readonly id: string;
  readonly kind: 'malformed' | 'good';
  readonly status?: ProducerStatus;
}

function parseCorpusOutput(stdout: string): CorpusLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as CorpusLine);
}

/**
 * What the reason of each kind of case must speak of (by the case name's prefix, see
 * python/malformed.py): the message was refused as what it is, not retried or given up on.
 */
const REASON_OF_KIND: readonly [prefix: string, reason: RegExp][] = [
  ['utf8-', /utf-?8/i],
  ['content-type-', /content.type/i],
  ['empty-', /empty|JSON/i],
  ['oversize-', /limit|large|bytes/i],
  ['invalid-json-', /JSON/i],
  ['deep-', /deep|nest|depth/i],
  ['proto-key-', /__proto__|constructor|prototype/],
  ['json-shape-', /JSON|shape|task|object|key/i],
  ['x-death-', /x-death/i],
  ['x-redeliveries-', /x-redeliveries/i],
];

function caseOf(message: DrainedMessage): string {
  const value: unknown = message.properties.headers?.['x-case'];
  return typeof value === 'string' ? value : `(no x-case) ${message.body.slice(0, 60)}`;
}

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('a corpus of malformed messages from a non-Node client (Python pika)', () => {
  it('dead-letters each with its reason, never crashes the worker, and then does the good messages', async () => {
    await requireWorkQueueApps();
    const python = pythonWithPika();
    const listed = parseCorpusOutput((await runProcess(python, [corpus, '--list'])).stdout);
    const malformed = listed.filter((line) => line.kind === 'malformed').map((line) => line.id);
    const good = listed.filter((line) => line.kind === 'good').map((line) => line.id);
    expect(malformed.length).toBeGreaterThanOrEqual(50);

    scenario = await Scenario.open(`${malformed.length} malformed messages (pika)`, { label: 'malformed' });
    const { run, vhost } = scenario;
    const worker = run.startWorker('worker', { WORK_UNIT_MS: '0' });
    await run.consumersReady(1);
    const pid = worker.pid;

    const sent = await runProcess(python, [corpus], { env: { AMQP_URL: vhost.url }, timeoutMs: 120_000 });
    expect(sent.code, sent.stderr).toBe(0);
    const outcomes = parseCorpusOutput(sent.stdout);
    for (const line of outcomes) run.sentBy(line.id, line.status);
    for (const id of [...malformed, ...good]) if (!outcomes.some((line) => line.id === id)) run.sentBy(id, undefined);

    await eventually(
      async () =>
        good.every((id) => worker.received().includes(id)) &&
        ((await inspectQueue(vhost.url, DEAD_LETTER_QUEUE))?.messageCount ?? 0) >= malformed.length,
      120_000,
      `the good messages done and ${malformed.length} dead letters`,
      200,
    );
    const aliveThroughout = worker.alive && worker.pid === pid;
    const settled = await run.settle({ deadLetterId: caseOf });
    const { books } = settled;
    const reasons = new Map<string, unknown>(
      settled.deadLetters.map((message) => [caseOf(message), message.properties.headers?.['x-dead-letter-reason']]),
    );
    run.record(
      books,
      `${malformed.length} malformed + ${good.length} good; ` +
        `worker ${aliveThroughout ? 'ran throughout (same pid, no restart)' : 'DIED'}; ` +
        `${new Set([...reasons.values()].map(String)).size} distinct reasons`,
    );

    expect(books.lost, 'confirmed but neither delivered nor dead-lettered').toEqual([]);
    expect(books.unexpected, 'delivered or dead-lettered, never sent').toEqual([]);
    expect(books.confirmed).toBe(malformed.length + good.length);
    expect(aliveThroughout, worker.process.stderr.slice(-3000)).toBe(true);
    expect(settled.exits.get('worker')?.code, worker.process.stderr.slice(-3000)).toBe(0);
    // Each malformed message is in the dead-letter queue, once, with a reason; no worker saw it.
    expect([...reasons.keys()].sort()).toEqual([...malformed].sort());
    expect(settled.deadLetters).toHaveLength(malformed.length);
    for (const [name, reason] of reasons) {
      const expected = REASON_OF_KIND.find(([prefix]) => name.startsWith(prefix))?.[1];
      expect(expected, `the test knows the kind of case ${name}`).toBeDefined();
      expect(typeof reason === 'string' ? reason : String(reason), `reason of ${name}`).toMatch(expected ?? /./);
    }
    for (const message of settled.deadLetters)
      expect(message.properties.headers?.['x-original-queue']).toBe('task_queue');
    expect(worker.received().filter((body) => !good.includes(body))).toEqual([]);
    // The good messages after them were done, each once.
    expect(worker.received()).toEqual(good);
    expect(worker.inHand()).toBe(0);
    expect(settled.leftInQueue).toHaveLength(0);
  });
});
