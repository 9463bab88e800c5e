import {
  ctl,
  drainQueue,
  HELLO_QUEUES,
  inspectQueue,
  TASK_QUEUES,
  useTestVhost,
  withChannel,
} from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';
import type { QueueListing } from '../src/dlq-list.js';
import type { PurgedMessage } from '../src/dlq-purge.js';
import type { ReplayedMessage } from '../src/dlq-replay.js';
import type { MessageView } from '../src/message-view.js';
import { daysAgo, humanLines, ids, lines, ops, opsJson, seedDeadLetters, takeIds } from './helpers.js';

const broker = useTestVhost('ops-dlq', { queues: [...TASK_QUEUES, ...HELLO_QUEUES] });

const BOOM = 'handler failed: boom (attempt 5 of 5)';
const INVALID = 'invalid message: body is not valid UTF-8';

/** 40 dead letters (more than the 32 a quorum queue returns in order at once), two reasons. */
const forty = ids('m', 40).map((id, i) => ({ id, reason: i % 3 === 0 ? INVALID : BOOM, at: daysAgo(40 - i) }));

interface ReplaySummary {
  replayed: number;
  wouldReplay: number;
  failed: number;
  left: number;
  notFound: string[];
  elapsedMs: number;
  messages: ReplayedMessage[];
}

describe('ops dlq list', () => {
  it('counts the dead letters by reason, with the oldest, the newest and a few ids', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty);
    await seedDeadLetters(broker.url, 'hello.dlq', [{ id: 'h1', reason: undefined, at: null }]);
    const { result, json } = await opsJson<{ queues: QueueListing[] }>(broker.url, ['dlq', 'list']);
    expect(result.code).toBe(0);
    expect(json.queues).toEqual([
      {
        queue: 'hello.dlq',
        exists: true,
        total: 1,
        groups: [{ reason: null, count: 1, oldest: null, newest: null, undated: 1, sampleIds: ['h1'] }],
        interrupted: false,
      },
      {
        queue: 'task_queue.dlq',
        exists: true,
        total: 40,
        groups: [
          {
            reason: BOOM,
            count: 26,
            oldest: forty[1]?.at.toISOString(),
            newest: forty[38]?.at.toISOString(),
            undated: 0,
            sampleIds: ['m1', 'm2', 'm4'],
          },
          {
            reason: INVALID,
            count: 14,
            oldest: forty[0]?.at.toISOString(),
            newest: forty[39]?.at.toISOString(),
            undated: 0,
            sampleIds: ['m0', 'm3', 'm6'],
          },
        ],
        interrupted: false,
      },
      // The RPC server's dead letters (tutorial 6): none made in this vhost.
      { queue: 'rpc_queue.dlq', exists: false, total: 0, groups: [], interrupted: false },
    ]);

    const human = await ops(broker.url, ['dlq', 'list', 'task_queue.dlq']);
    expect(human.code).toBe(0);
    expect(lines(human.stdout)).toEqual([
      'task_queue.dlq: 40 dead letters, 2 reasons',
      `  26  ${BOOM}`,
      `      oldest ${forty[1]?.at.toISOString() ?? ''}, newest ${forty[38]?.at.toISOString() ?? ''}`,
      '      ids: m1, m2, m4, ...',
      `  14  ${INVALID}`,
      `      oldest ${forty[0]?.at.toISOString() ?? ''}, newest ${forty[39]?.at.toISOString() ?? ''}`,
      '      ids: m0, m3, m6, ...',
    ]);
  });

  // The broker counts the looks in x-delivery-count, which is harmless without a delivery limit.
  it('loses and reorders nothing, on a quorum queue', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty);
    for (let i = 0; i < 3; i++) expect((await ops(broker.url, ['dlq', 'list', 'task_queue.dlq'])).code).toBe(0);
    const messages = await drainQueue(broker.url, 'task_queue.dlq');
    expect(messages.map((m) => m.properties.messageId as unknown)).toEqual(forty.map((l) => l.id));
    // Three looks, three returns: every message is still there, each counted three times.
    expect(new Set(messages.map((m) => (m.properties.headers ?? {})['x-delivery-count'] as unknown))).toEqual(
      new Set([3]),
    );
  });

  it('loses and reorders nothing on a classic dead-letter queue (an adopted one) either', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty, { durable: true });
    expect((await ops(broker.url, ['dlq', 'list', 'task_queue.dlq'])).code).toBe(0);
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(forty.map((l) => l.id));
  });

  it('says when a queue does not exist: info when listing all, an error (66) when named', async () => {
    const all = await ops(broker.url, ['dlq', 'list']);
    expect(all.code).toBe(0);
    expect(lines(all.stdout)).toEqual([
      'hello.dlq: does not exist',
      'task_queue.dlq: does not exist',
      'rpc_queue.dlq: does not exist',
    ]);
    const named = await ops(broker.url, ['dlq', 'list', 'hello.dlq']);
    expect(named.code).toBe(66);
    expect(humanLines(named.stderr)).toEqual([
      `ops: queue 'hello.dlq' does not exist in vhost '${new URL(broker.url).pathname.slice(1)}'`,
    ]);
    // Looking did not create it.
    expect(await inspectQueue(broker.url, 'hello.dlq')).toBeUndefined();
  });

  it('refuses to browse a dead-letter queue with a delivery limit, and touches nothing', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty.slice(0, 3), {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 },
    });
    for (const args of [
      ['dlq', 'list', 'task_queue.dlq'],
      ['dlq', 'replay', 'task_queue.dlq', '--all'],
      ['dlq', 'purge', 'task_queue.dlq', '--older-than', '1d'],
    ]) {
      const result = await ops(broker.url, args);
      expect(result.code).toBe(1);
      expect(humanLines(result.stderr)).toEqual([
        expect.stringMatching(
          /^ops: refusing to browse 'task_queue\.dlq': it has a delivery limit of 5 \(its x-delivery-limit argument\)/,
        ) as unknown,
      ]);
    }
    const messages = await drainQueue(broker.url, 'task_queue.dlq');
    expect(messages.map((m) => m.properties.messageId as unknown)).toEqual(['m0', 'm1', 'm2']);
    // Never given back: this drain is their first delivery.
    expect(messages.map((m) => (m.properties.headers ?? {})['x-delivery-count'] as unknown)).toEqual([0, 0, 0]);
  });

  it("refuses as well when a policy sets the limit, even before the queue's statistics are in", async () => {
    const vhost = decodeURIComponent(new URL(broker.url).pathname.slice(1));
    await ctl('set_policy', '-p', vhost, 'dlq-limit', '^hello\\.dlq$', '{"delivery-limit": 3}', '--apply-to', 'queues');
    try {
      await seedDeadLetters(broker.url, 'hello.dlq', [{ id: 'h1' }]);
      const result = await ops(broker.url, ['dlq', 'list', 'hello.dlq']);
      expect(result.code).toBe(1);
      expect(humanLines(result.stderr)).toEqual([
        expect.stringMatching(
          /^ops: refusing to browse 'hello\.dlq': it has a delivery limit of 3 \(policy 'dlq-limit'\)/,
        ) as unknown,
      ]);
      expect(
        (await drainQueue(broker.url, 'hello.dlq')).map(
          (m) => (m.properties.headers ?? {})['x-delivery-count'] as unknown,
        ),
      ).toEqual([0]);
    } finally {
      await ctl('clear_policy', '-p', vhost, 'dlq-limit');
    }
  });
});

describe('ops dlq show', () => {
  it('shows a dead letter by its id: properties, headers, body', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', [
      { id: 'a', reason: BOOM },
      { id: 'b', reason: BOOM, body: 'the task.', at: '2024-05-01T10:00:00.000Z', headers: { 'trace-id': 't-1' } },
    ]);
    const result = await ops(broker.url, ['dlq', 'show', 'task_queue.dlq', 'b']);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      "message 'b' in 'task_queue.dlq', position 2 of 2",
      'properties:',
      '  contentType: text/plain',
      '  deliveryMode: 2',
      '  messageId: b',
      '  appId: consumer',
      '  redelivered: false',
      'headers:',
      '  trace-id: t-1',
      '  x-attempts: 1',
      `  x-dead-letter-reason: ${BOOM}`,
      '  x-dead-lettered-at: 2024-05-01T10:00:00.000Z',
      // The quorum queue's count of earlier deliveries given back: none.
      '  x-delivery-count: 0',
      '  x-original-queue: task_queue',
      'body (9 bytes, text):',
      '  the task.',
    ]);
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(['a', 'b']);
  });

  it('cuts a long body and shows a binary one as base64', async () => {
    const binary = Buffer.from([0xff, 0x00, 0x10]);
    await seedDeadLetters(broker.url, 'hello.dlq', [
      { id: 'long', body: 'x'.repeat(10_000) },
      { id: 'bin', body: binary, contentType: 'application/octet-stream' },
    ]);
    const long = await opsJson<{ matches: MessageView[] }>(broker.url, [
      'dlq',
      'show',
      'hello.dlq',
      'long',
      '--max-bytes',
      '100',
    ]);
    expect(long.json.matches[0]?.body).toEqual({
      bytes: 10_000,
      encoding: 'utf8',
      text: 'x'.repeat(100),
      truncated: true,
    });
    const text = await ops(broker.url, ['dlq', 'show', 'hello.dlq', 'long', '--max-bytes', '100']);
    expect(text.stdout).toContain('body (10000 bytes, text, first 100 shown (--max-bytes for more)):');
    const bin = await opsJson<{ matches: MessageView[] }>(broker.url, ['dlq', 'show', 'hello.dlq', 'bin']);
    expect(bin.json.matches[0]?.body).toEqual({
      bytes: 3,
      encoding: 'base64',
      text: binary.toString('base64'),
      truncated: false,
    });
  });

  it('exits 66 when no message has the id', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', [{ id: 'a' }]);
    const result = await ops(broker.url, ['dlq', 'show', 'task_queue.dlq', 'zzz']);
    expect(result.code).toBe(66);
    expect(humanLines(result.stderr)).toEqual([
      "ops: no message with id 'zzz' among the 1 messages of 'task_queue.dlq'",
    ]);
  });
});

describe('ops dlq replay', () => {
  it('--dry-run prints what would move and moves nothing', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty.slice(0, 5));
    const result = await ops(broker.url, ['dlq', 'replay', 'task_queue.dlq', '--all', '--dry-run']);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      ...forty.slice(0, 5).map((l) => ` [ ] would replay '${l.id}' to 'task_queue' (dead-lettered for: ${l.reason})`),
      "dry run: 5 dead letters of 'task_queue.dlq' would be replayed; nothing was moved",
    ]);
    expect(await inspectQueue(broker.url, 'task_queue')).toBeUndefined();
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(ids('m', 5));
  });

  it('picks by --id, by --reason and up to --limit, and leaves the rest in place and in order', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty);
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('task_queue', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );

    const byId = await opsJson<ReplaySummary>(broker.url, [
      'dlq',
      'replay',
      'task_queue.dlq',
      '--id',
      'm35',
      '--id',
      'm7',
      '--rate',
      '1000',
    ]);
    expect(byId.result.code).toBe(0);
    expect(byId.json.messages.map((m) => [m.messageId, m.status])).toEqual([
      ['m7', 'replayed'],
      ['m35', 'replayed'],
    ]);

    const byReason = await opsJson<ReplaySummary>(broker.url, [
      'dlq',
      'replay',
      'task_queue.dlq',
      '--reason',
      'NOT VALID utf-8',
      '--limit',
      '3',
      '--rate',
      '1000',
    ]);
    expect(byReason.result.code).toBe(0);
    expect(byReason.json.messages.map((m) => m.messageId)).toEqual(['m0', 'm3', 'm6']);

    const both = await opsJson<ReplaySummary>(broker.url, [
      'dlq',
      'replay',
      'task_queue.dlq',
      '--id',
      'm9',
      '--id',
      'm10',
      '--reason',
      'utf-8',
      '--rate',
      '1000',
    ]);
    expect(both.json.messages.map((m) => m.messageId)).toEqual(['m9']);
    expect(both.result.code).toBe(66);
    expect(both.json.notFound).toEqual(['m10']);

    const moved = new Set(['m7', 'm35', 'm0', 'm3', 'm6', 'm9']);
    expect(await takeIds(broker.url, 'task_queue')).toEqual(['m7', 'm35', 'm0', 'm3', 'm6', 'm9']);
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(forty.map((l) => l.id).filter((id) => !moved.has(id)));
  });

  it('keeps the dead letter if the broker refuses the copy: no queue (returned) or a full one (nacked)', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty.slice(0, 3));
    // No task_queue at all: the mandatory copy comes back.
    const returned = await ops(broker.url, ['dlq', 'replay', 'task_queue.dlq', '--all']);
    expect(returned.code).toBe(1);
    expect(lines(returned.stdout)).toEqual([
      " [!] could not replay 'm0' to 'task_queue': returned by the broker: no queue 'task_queue' (mandatory); " +
        "it stays in 'task_queue.dlq'",
      "replayed 0 dead letters from 'task_queue.dlq' in " +
        (/in (\d+\.\d) s/.exec(returned.stdout)?.[1] ?? '?') +
        " s (at most 10/s); 3 left in 'task_queue.dlq'",
      "stopped early: a copy was not confirmed (returned by the broker: no queue 'task_queue' (mandatory)); " +
        "the rest stays in 'task_queue.dlq'",
    ]);
    // A task_queue that refuses every message: the copy is nacked.
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('task_queue', {
        durable: true,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      }),
    );
    const nacked = await opsJson<ReplaySummary>(broker.url, ['dlq', 'replay', 'task_queue.dlq', '--all']);
    expect(nacked.result.code).toBe(1);
    expect(nacked.json.messages).toEqual([
      {
        messageId: 'm0',
        target: 'task_queue',
        status: 'failed',
        reason: INVALID,
        error: 'rejected by the broker (basic.nack)',
      },
    ]);
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(['m0', 'm1', 'm2']);
  });

  it('leaves a dead letter whose original queue is not one the contract consumes', async () => {
    await seedDeadLetters(broker.url, 'hello.dlq', [
      { id: 'odd', reason: 'x', originalQueue: 'task_queue.retry.1' },
      { id: 'ok', reason: 'x' },
    ]);
    await withChannel(broker.url, (channel) => channel.assertQueue('hello', { durable: false }));
    const result = await ops(broker.url, ['dlq', 'replay', 'hello.dlq', '--all']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      " [!] skipped 'odd': its original queue 'task_queue.retry.1' is not a queue the contract's consumers read; " +
        "it stays in 'hello.dlq'",
    );
    expect(await takeIds(broker.url, 'hello')).toEqual(['ok']);
    expect(await takeIds(broker.url, 'hello.dlq')).toEqual(['odd']);
  });

  it('publishes at most --rate messages a second', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', forty.slice(0, 6));
    await withChannel(broker.url, (channel) =>
      channel.assertQueue('task_queue', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    );
    const rate = 20;
    const { result, json } = await opsJson<ReplaySummary>(broker.url, [
      'dlq',
      'replay',
      'task_queue.dlq',
      '--all',
      '--rate',
      String(rate),
    ]);
    expect(result.code).toBe(0);
    const times = json.messages.map((m) => m.publishedAt ?? Number.NaN);
    expect(times).toHaveLength(6);
    // Each publish waits for the interval after the one before: a lower bound, never flaky.
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? Number.NaN));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000 / rate);
    expect(json.elapsedMs).toBeGreaterThanOrEqual(((times.length - 1) * 1000) / rate);
  });
});

describe('ops dlq purge', () => {
  const [tenDays, eightDays, thirtyDays] = [daysAgo(10), daysAgo(8), daysAgo(30)];
  const letters = [
    { id: 'old1', reason: BOOM, at: tenDays },
    { id: 'new1', reason: BOOM, at: daysAgo(1) },
    { id: 'old2', reason: INVALID, at: eightDays },
    { id: 'undated', reason: BOOM, at: null },
    { id: 'garbled', reason: BOOM, at: 'last tuesday' },
    { id: 'old3', reason: BOOM, at: thirtyDays },
    { id: 'new2', reason: INVALID, at: new Date() },
  ];

  it('removes only the dead letters dead-lettered before --older-than; --dry-run removes nothing', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', letters);
    const dry = await opsJson<{ wouldDelete: number; deleted: number; messages: PurgedMessage[] }>(broker.url, [
      'dlq',
      'purge',
      'task_queue.dlq',
      '--older-than',
      '7d',
      '--dry-run',
    ]);
    expect(dry.result.code).toBe(0);
    expect(dry.json).toMatchObject({ wouldDelete: 3, deleted: 0 });
    expect(dry.json.messages.map((m) => m.messageId)).toEqual(['old1', 'old2', 'old3']);
    expect((await inspectQueue(broker.url, 'task_queue.dlq'))?.messageCount).toBe(7);

    const purge = await ops(broker.url, ['dlq', 'purge', 'task_queue.dlq', '--older-than', '7d']);
    expect(purge.code).toBe(0);
    expect(lines(purge.stdout).slice(0, 3)).toEqual([
      ` [x] deleted 'old1', dead-lettered ${tenDays.toISOString()} for: ${BOOM}`,
      ` [x] deleted 'old2', dead-lettered ${eightDays.toISOString()} for: ${INVALID}`,
      ` [x] deleted 'old3', dead-lettered ${thirtyDays.toISOString()} for: ${BOOM}`,
    ]);
    expect(lines(purge.stdout)[4]).toBe('left in place: 2 newer, 2 undated (no x-dead-lettered-at header)');
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(['new1', 'undated', 'garbled', 'new2']);
  });

  it('with --reason, removes only the old ones of that reason', async () => {
    await seedDeadLetters(broker.url, 'task_queue.dlq', letters);
    const { result, json } = await opsJson<{ deleted: number; keptOtherReason: number }>(broker.url, [
      'dlq',
      'purge',
      'task_queue.dlq',
      '--older-than',
      '1w',
      '--reason',
      'utf-8',
    ]);
    expect(result.code).toBe(0);
    expect(json).toMatchObject({ deleted: 1, keptOtherReason: 2 });
    expect(await takeIds(broker.url, 'task_queue.dlq')).toEqual(['old1', 'new1', 'undated', 'garbled', 'old3', 'new2']);
  });
});
