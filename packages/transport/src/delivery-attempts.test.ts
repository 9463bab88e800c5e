import { describe, expect, it } from 'vitest';
import { countAttempts, HEADERS_TRUNCATED } from './delivery-attempts.js';

const retries = ['q.retry.1', 'q.retry.2'];
const death = (queue: string, count: number, reason = 'expired') => ({ queue, count, reason, exchange: '', time: new Date() });

describe('countAttempts', () => {
  it('counts a first delivery as attempt 1', () => {
    expect(countAttempts(undefined, false, retries)).toEqual({
      ok: true,
      count: { retries: 0, redeliveries: 0, uncounted: false, attempt: 1 },
    });
  });

  it('counts the expiries from its own retry queues, from the broker’s x-death', () => {
    const headers = { 'x-death': [death('q.retry.1', 1), death('q.retry.2', 2), death('elsewhere', 5), death('q.retry.1', 3, 'rejected')] };
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

  it.each([
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
    expect(countAttempts(headers, false, [])).toEqual({ ok: false, reason: 'malformed headers: a table nested too deep to decode' });
    expect(countAttempts({ a: 'plain' }, false, []).ok).toBe(true);
  });
});
