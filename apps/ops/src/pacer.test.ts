import { describe, expect, it } from 'vitest';
import { createPacer } from './pacer.js';

describe('createPacer', () => {
  it('lets the first event through at once and spaces the next ones by the interval', async () => {
    const pacer = createPacer(50);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await pacer.next());
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(20);
  });

  it('does not make up for a slow step with a burst', async () => {
    const pacer = createPacer(100);
    const first = await pacer.next();
    // A slow step of 60 ms by the pacer's own clock (a 60 ms timer may end at 59 by Date.now).
    while (Date.now() - first < 60) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await pacer.next();
    const third = await pacer.next();
    expect(second - first).toBeGreaterThanOrEqual(60);
    expect(third - second).toBeGreaterThanOrEqual(10);
  });

  it('stops waiting when aborted', async () => {
    const pacer = createPacer(0.01);
    await pacer.next();
    const controller = new AbortController();
    const waiting = pacer.next(controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeTypeOf('number');
  });
});
