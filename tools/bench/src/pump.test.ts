import { describe, expect, it } from 'vitest';
import { createHistogram } from './latency.js';
import { pump, type Send } from './pump.js';

/** A fake client that confirms each message after `delayMs`, and tracks how many are in flight. */
function fakeClient(delayMs: number, fail: (index: number) => boolean = () => false) {
  const stats = { inFlight: 0, maxInFlight: 0, sent: [] as number[] };
  const send: Send = (index, _sentAt, done) => {
    stats.sent.push(index);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    setTimeout(() => {
      stats.inFlight--;
      done(!fail(index));
    }, delayMs);
  };
  return { stats, send };
}

describe('pump', () => {
  it('sends every message once, never more than the window unconfirmed', async () => {
    const { stats, send } = fakeClient(2);
    const latency = createHistogram();
    const result = await pump({ count: 500, window: 32, send, latency });
    expect(result).toMatchObject({ confirmed: 500, failed: 0 });
    expect(stats.maxInFlight).toBe(32);
    expect([...stats.sent].sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(latency.totalCount).toBe(500);
  });

  it('counts the messages that were not confirmed, and leaves them out of the latency', async () => {
    const { send } = fakeClient(1, (index) => index % 10 === 0);
    const latency = createHistogram();
    const result = await pump({ count: 100, window: 8, send, latency });
    expect(result).toMatchObject({ confirmed: 90, failed: 10 });
    expect(latency.totalCount).toBe(90);
  });

  it('copes with a client that confirms synchronously', async () => {
    const send: Send = (_index, _sentAt, done) => {
      done(true);
    };
    const result = await pump({ count: 10_000, window: 1000, send, latency: createHistogram() });
    expect(result.confirmed).toBe(10_000);
  });

  it('keeps to the rate when one is given, stamping each message with its scheduled time', async () => {
    const stamps: number[] = [];
    const send: Send = (_index, sentAt, done) => {
      stamps.push(sentAt);
      setImmediate(() => {
        done(true);
      });
    };
    const result = await pump({ count: 50, window: 1000, rate: 500, send, latency: createHistogram() });
    // 50 messages at 500/s: the last is due 98 ms after the first.
    expect(result.lastConfirmAt - result.firstSendAt).toBeGreaterThanOrEqual(95);
    expect((stamps[49] ?? 0) - (stamps[0] ?? 0)).toBeCloseTo(98, 5);
  });
});
