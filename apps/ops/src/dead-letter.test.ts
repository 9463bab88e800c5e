import { RecoveryHeader } from '@hello-rabbit/transport';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_QUEUES, readDeadLetter, replayHeaders, replayTarget } from './dead-letter.js';

const consumerHeaders = {
  [RecoveryHeader.reason]: 'handler failed: boom (attempt 5 of 5)',
  [RecoveryHeader.queue]: 'task_queue',
  [RecoveryHeader.at]: '2024-05-01T10:00:00.000Z',
  [RecoveryHeader.attempts]: 5,
};

describe('readDeadLetter', () => {
  it('reads the headers the consumer sets on a dead letter', () => {
    expect(readDeadLetter({ messageId: 'm1', headers: consumerHeaders })).toEqual({
      messageId: 'm1',
      reason: 'handler failed: boom (attempt 5 of 5)',
      originalQueue: 'task_queue',
      attempts: 5,
      deadLetteredAt: new Date('2024-05-01T10:00:00.000Z'),
      replayCount: 0,
    });
  });

  it('leaves out what is missing or malformed instead of guessing', () => {
    expect(
      readDeadLetter({
        headers: { [RecoveryHeader.at]: 'yesterday', [RecoveryHeader.attempts]: -1, 'x-replay-count': 'two' },
      }),
    ).toEqual({
      messageId: undefined,
      reason: undefined,
      originalQueue: undefined,
      attempts: undefined,
      deadLetteredAt: undefined,
      replayCount: 0,
    });
  });

  it('reads byte headers as UTF-8 text', () => {
    expect(readDeadLetter({ headers: { [RecoveryHeader.reason]: Buffer.from('bad') } }).reason).toBe('bad');
  });
});

describe('replayTarget', () => {
  it('is the original queue of the header', () => {
    expect(replayTarget('task_queue.dlq', readDeadLetter({ headers: consumerHeaders }))).toEqual({
      ok: true,
      queue: 'task_queue',
    });
  });

  it('is the dead-letter queue without .dlq when the header is missing', () => {
    expect(replayTarget('hello.dlq', readDeadLetter({}))).toEqual({ ok: true, queue: 'hello' });
  });

  it('refuses a queue no consumer of the contract reads (a forged or foreign header)', () => {
    expect(
      replayTarget('hello.dlq', readDeadLetter({ headers: { [RecoveryHeader.queue]: 'task_queue.retry.1' } })),
    ).toEqual({
      ok: false,
      reason: "its original queue 'task_queue.retry.1' is not a queue the contract's consumers read",
    });
  });

  it('knows the dead-letter queues of the contract', () => {
    expect([...DEAD_LETTER_QUEUES].sort()).toEqual(['hello.dlq', 'rpc_queue.dlq', 'task_queue.dlq']);
  });
});

describe('replayHeaders', () => {
  const now = new Date('2024-06-01T00:00:00.000Z');

  it('keeps the application headers, drops the dead-letter and broker ones, records the replay', () => {
    const headers = {
      ...consumerHeaders,
      'x-redeliveries': 2,
      'x-death': [{ queue: 'task_queue.retry.1', reason: 'expired', count: 1 }],
      'x-first-death-queue': 'task_queue.retry.1',
      'x-first-death-reason': 'expired',
      'x-first-death-exchange': '',
      'x-delivery-count': 3,
      rascal: { originalQueue: 'task_queue' },
      'trace-id': 'abc',
      tenant: 42,
    };
    expect(replayHeaders(headers, readDeadLetter({ headers }), 'task_queue.dlq', now)).toEqual({
      'trace-id': 'abc',
      tenant: 42,
      'x-replayed-at': '2024-06-01T00:00:00.000Z',
      'x-replay-count': 1,
      'x-replayed-from': 'task_queue.dlq',
    });
  });

  it('counts replays of a message replayed before', () => {
    const headers = { ...consumerHeaders, 'x-replay-count': 2, 'x-replayed-at': '2024-01-01T00:00:00.000Z' };
    expect(replayHeaders(headers, readDeadLetter({ headers }), 'task_queue.dlq', now)).toMatchObject({
      'x-replay-count': 3,
      'x-replayed-at': '2024-06-01T00:00:00.000Z',
    });
  });
});
