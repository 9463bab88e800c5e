import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { requireWorkQueueApps } from '../src/apps.js';
import { Scenario } from '../src/scenario.js';

const MESSAGES = 5000;
/** Closing takes milliseconds; this is generous. */
const EXIT_WITHIN_MS = 30_000;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

describe('the connection drops just as the producer closes, after its last confirm', () => {
  it('the producer still exits 0: every message was confirmed', async () => {
    await requireWorkQueueApps();
    // A broker bounce that lands as the producer closes does the same; a reset through the
    // proxy lands there every time.
    scenario = await Scenario.open('connection lost as the producer closes', { label: 'closing', proxy: {} });
    const { run, vhost } = scenario;
    const proxy = scenario.proxy;
    if (proxy === undefined) throw new Error('the scenario has no proxy');

    run.startWorker('worker', { WORK_UNIT_MS: '0' }, vhost.url);
    await run.consumersReady(1);
    const producer = run.startProducer({ count: MESSAGES, text: 'closing' });
    await eventually(() => run.reported() >= MESSAGES || !producer.alive, 120_000, 'every message settled', 1);
    const closing = producer.alive;
    const resetAt = Date.now();
    proxy.reset();

    const exit = await Promise.race([producer.process.exited, sleep(EXIT_WITHIN_MS).then(() => undefined)]);
    if (exit === undefined) await producer.process.stop('SIGKILL');
    const settled = await run.settle();
    const { books } = settled;
    const printed = /Sent \d+ messages/.test(producer.process.stdout);
    run.record(
      books,
      exit === undefined
        ? `producer ${printed ? 'printed its summary, then ' : ''}HUNG: ` +
            `still running ${EXIT_WITHIN_MS / 1000} s after the reset (killed)`
        : `producer exited ${String(exit.code)} ${((Date.now() - resetAt) / 1000).toFixed(1)} s after the reset`,
    );

    expect(books.lost, 'confirmed but never delivered').toEqual([]);
    expect(books.unexpected).toEqual([]);
    expect(books.confirmed).toBe(MESSAGES);
    expect(closing, 'the reset came while the producer was closing').toBe(true);
    expect(
      exit,
      `the producer exits within ${EXIT_WITHIN_MS / 1000} s of the reset\n${producer.process.stderr.slice(-3000)}`,
    ).toBeDefined();
    expect(exit?.code, producer.process.stderr.slice(-2000)).toBe(0);
  });
});
