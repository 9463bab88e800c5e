import { describe, expect, it } from 'vitest';
import {
  countAttempts,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_DELAYS_MS,
  HEADERS_TRUNCATED,
  retryPolicyFor,
} from './retry-policy.js';

const retries = ['q.retry.1', 'q.retry.2'];
const death = (queue: string, count: number, reason = 'expired') => ({
  queue,
  count,
  reason,
  exchange: '',
  time: new Date(),
});

describe('countAttempts', () => {
  it('counts a first delivery as attempt 1', () => {
    expect(countAttempts(undefined, false, retries)).toEqual({
      ok: true,
      count: { retries: 0, redeliveries: 0, uncounted: false, attempt: 1 },
    });
  });

  it('counts the expiries from its own retry queues, from the broker’s x-death', () => {
    const headers = {
      'x-death': [
        death('q.retry.1', 1),
        death('q.retry.2', 2),
        death('elsewhere', 5),
        death('q.retry.1', 3, 'rejected'),
      ],
    };
    expect(countAttempts(headers, false, retries)).toMatchObject({ ok: true, count: { retries: 3, attempt: 4 } });
  });

  it("adds a quorum queue's own count of returned deliveries", () => {
    expect(countAttempts({ 'x-delivery-count': 2 }, true, retries)).toMatchObject({
      ok: true,
      count: { redeliveries: 2, uncounted: false, attempt: 3 },
    });
  });

  it('ignores x-delivery-count on a first delivery', () => {
    expect(countAttempts({ 'x-delivery-count': 7 }, false, retries)).toMatchObject({ ok: true, count: { attempt: 1 } });
  });

  it('marks a classic redelivery as uncounted, so the consumer counts it in a copy', () => {
    expect(countAttempts({ 'x-redeliveries': 1 }, true, retries)).toMatchObject({
      ok: true,
      count: { redeliveries: 1, uncounted: true, attempt: 3 },
    });
  });

  it("does not count the waits for another worker's claim (x-claim-waits) as attempts", () => {
    const headers = { 'x-death': [death('q.retry.1', 4)], 'x-claim-waits': 3 };
    expect(countAttempts(headers, false, retries)).toMatchObject({ ok: true, count: { retries: 1, attempt: 2 } });
    // More waits claimed than passes through the wait queues: never below zero.
    expect(countAttempts({ 'x-claim-waits': 9 }, false, retries)).toMatchObject({
      ok: true,
      count: { retries: 0, attempt: 1 },
    });
  });

  it.each([
    ['x-claim-waits is not a whole number', { 'x-claim-waits': 'many' }, /x-claim-waits/],
    ['x-death is not an array', { 'x-death': 'forged' }, /x-death/],
    ['an x-death entry has no count', { 'x-death': [{ queue: 'q.retry.1', reason: 'expired' }] }, /x-death/],
    ['an x-death count is negative', { 'x-death': [death('q.retry.1', -1)] }, /x-death/],
    ['x-redeliveries is not a whole number', { 'x-redeliveries': 'lots' }, /x-redeliveries/],
    ['x-redeliveries is negative', { 'x-redeliveries': -2 }, /x-redeliveries/],
  ])('refuses headers where %s', (_, headers, reason) => {
    const result = countAttempts(headers, false, retries);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('countAttempts on headers the decoder could not decode in full', () => {
  it('refuses a header table marked truncated (nested too deep)', () => {
    const headers: Record<string, unknown> = { a: '[not decoded: nested deeper than 64 levels]' };
    Object.defineProperty(headers, HEADERS_TRUNCATED, { value: true });
    expect(countAttempts(headers, false, [])).toEqual({
      ok: false,
      reason: 'malformed headers: a table nested too deep to decode',
    });
    expect(countAttempts({ a: 'plain' }, false, []).ok).toBe(true);
  });
});

describe('retryPolicyFor: what becomes of a failed delivery', () => {
  it('defaults to 5 attempts and delays of 1 s, 5 s and 30 s', () => {
    expect(DEFAULT_MAX_ATTEMPTS).toBe(5);
    expect(DEFAULT_RETRY_DELAYS_MS).toEqual([1000, 5000, 30_000]);
    expect(retryPolicyFor('task_queue').maxAttempts).toBe(5);
  });

  it("reads the wait queues and the dead-letter queue from the contract's subscription", () => {
    const policy = retryPolicyFor('task_queue');
    expect(policy.retryQueues).toEqual(['task_queue.retry.1', 'task_queue.retry.2', 'task_queue.retry.3']);
    expect(policy.deadLetterQueue).toBe('task_queue.dlq');
  });

  it('retries each failure in the next wait queue after its delay; past them, the last queue and delay repeat', () => {
    const policy = retryPolicyFor('task_queue', { maxAttempts: 6, retryDelaysMs: [100, 200] });
    expect([1, 2, 3, 4, 5].map((attempt) => policy.afterFailure(attempt, 'boom'))).toEqual([
      { action: 'retry', queue: 'task_queue.retry.1', delayMs: 100, reason: 'handler failed: boom' },
      { action: 'retry', queue: 'task_queue.retry.2', delayMs: 200, reason: 'handler failed: boom' },
      { action: 'retry', queue: 'task_queue.retry.3', delayMs: 200, reason: 'handler failed: boom' },
      { action: 'retry', queue: 'task_queue.retry.3', delayMs: 200, reason: 'handler failed: boom' },
      { action: 'retry', queue: 'task_queue.retry.3', delayMs: 200, reason: 'handler failed: boom' },
    ]);
  });

  it('dead-letters the failure of the last attempt, saying which it was', () => {
    expect(retryPolicyFor('task_queue', { maxAttempts: 3 }).afterFailure(3, 'boom')).toEqual({
      action: 'dead-letter',
      queue: 'task_queue.dlq',
      category: 'max_attempts',
      reason: 'handler failed: boom (attempt 3 of 3)',
      attempts: 3,
    });
  });

  it('dead-letters a failure at once on a subscription without wait queues (hello, rpc_queue)', () => {
    expect(retryPolicyFor('rpc_queue').afterFailure(1, 'no reply_to')).toEqual({
      action: 'dead-letter',
      queue: 'rpc_queue.dlq',
      category: 'handler_failed',
      reason: 'handler failed: no reply_to (attempt 1 of 5)',
      attempts: 1,
    });
  });

  it('gives up before the handler runs once the attempts that ended without an ack used them all up', () => {
    const policy = retryPolicyFor('task_queue', { maxAttempts: 2 });
    expect(policy.beforeAttempt(2)).toBeUndefined();
    expect(policy.beforeAttempt(3)).toEqual({
      action: 'dead-letter',
      queue: 'task_queue.dlq',
      category: 'max_attempts',
      reason: 'gave up after 2 attempts (the last ones ended without an ack)',
      attempts: 2,
    });
  });
});

describe('retryPolicyFor(...).claimWait', () => {
  it('waits in the first retry queue, no longer than the first retry delay, at least 100 ms', () => {
    const policy = retryPolicyFor('task_queue', { retryDelaysMs: [2000, 5000] });
    expect(policy.claimWait(30_000)).toEqual({ queue: 'task_queue.retry.1', delayMs: 2000 });
    expect(policy.claimWait(500)).toEqual({ queue: 'task_queue.retry.1', delayMs: 500 });
    expect(policy.claimWait(0)).toEqual({ queue: 'task_queue.retry.1', delayMs: 100 });
  });

  it('has nowhere to wait on a subscription without retry queues', () => {
    expect(retryPolicyFor('rpc_queue').claimWait(1000)).toBeUndefined();
  });
});
