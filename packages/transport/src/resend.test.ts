import { createLogger } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import type { PublishOutcome, Publisher } from './publisher.js';
import { publishUntilSettled, sendAll, type SettleOptions } from './resend.js';

const lines: string[] = [];
const logger = createLogger({
  name: 'test',
  level: 'warn',
  destination: { write: (line: string) => lines.push(line) },
});

/** A publisher that answers each publish with the next of `outcomes` (the last one repeats). */
function answering(...outcomes: PublishOutcome['status'][]): Publisher & { readonly calls: number } {
  let calls = 0;
  const next = (options: { messageId: string }): Promise<PublishOutcome> => {
    const status = outcomes[Math.min(calls++, outcomes.length - 1)] ?? 'failed';
    if (status === 'confirmed') return Promise.resolve({ status, messageId: options.messageId });
    const reason = status === 'nacked' ? 'rejected by the broker (basic.nack)' : `${status} here`;
    return Promise.resolve({ status, messageId: options.messageId, reason });
  };
  return {
    publish: (_queue, _content, options) => next(options),
    publishTo: (_exchange, _key, _content, options) => next(options),
    inFlight: 0,
    close: () => Promise.resolve(),
    get calls() {
      return calls;
    },
  };
}

const message = { content: Buffer.from('task'), contentType: 'text/plain' };
const settle = (publisher: Publisher, deadlineMs: number, more: Partial<SettleOptions> = {}) =>
  publishUntilSettled(publisher, 'task_queue', message, 'm-1', {
    confirmTimeoutMs: 1000,
    deadline: Date.now() + deadlineMs,
    deadlineMs,
    logger,
    appId: 'test',
    ...more,
  });

describe('publishUntilSettled', () => {
  it('publishes a refused (nacked) message again until the broker takes it', async () => {
    const publisher = answering('nacked', 'nacked', 'confirmed');
    expect(await settle(publisher, 10_000)).toEqual({ status: 'confirmed', attempts: 3 });
    expect(lines.some((line) => line.includes('refused by the broker; publishing again'))).toBe(true);
  });

  it('counts a message refused at every attempt until the deadline as nacked, not in doubt', async () => {
    const publisher = answering('nacked');
    const settled = await settle(publisher, 1000);
    expect(settled).toMatchObject({ status: 'nacked', reason: 'rejected by the broker (basic.nack)' });
    expect(settled.attempts).toBeGreaterThan(1);
    expect(publisher.calls).toBe(settled.attempts);
  });

  it('counts one not confirmed until the deadline as failed, in doubt, saying why', async () => {
    const settled = await settle(answering('failed'), 1000);
    expect(settled.status).toBe('failed');
    expect(settled.reason).toMatch(/^failed here \(not confirmed within the 1000 ms deadline\)$/);
  });

  it('stops at once where the caller holds the resend of a refused message', async () => {
    const publisher = answering('nacked', 'confirmed');
    const asked: boolean[] = [];
    const settled = await settle(publisher, 10_000, {
      holdResend: (refused) => {
        asked.push(refused);
        return refused ? 'refused by the broker' : undefined;
      },
    });
    expect(settled).toEqual({ status: 'nacked', attempts: 1, reason: 'rejected by the broker (basic.nack)' });
    expect(asked).toEqual([true]);
  });

  it('never publishes a returned (unroutable) message again', async () => {
    const publisher = answering('returned', 'confirmed');
    expect(await settle(publisher, 10_000)).toMatchObject({ status: 'returned', attempts: 1 });
    expect(publisher.calls).toBe(1);
  });
});

describe('sendAll', () => {
  it('reports a message the broker took on a later attempt as confirmed', async () => {
    const report = await sendAll(answering('nacked', 'confirmed'), 'task_queue', 3, () => message, {
      window: 1,
      confirmTimeoutMs: 1000,
      deadlineMs: 10_000,
      logger,
      appId: 'test',
    });
    expect(report).toMatchObject({ total: 3, confirmed: 3, nacked: 0, failed: 0 });
  });
});
