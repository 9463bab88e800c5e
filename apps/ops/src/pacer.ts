/** Spaces events out: at most `ratePerSecond`, measured between any two consecutive ones. */
export interface Pacer {
  /**
   * Resolves when the next event may happen: the first at once, each later one at least
   * `1000 / rate` ms after the one before. Resolves early, at once, when `signal` aborts.
   * @returns the time it resolved (ms since the epoch).
   */
  next(signal?: AbortSignal): Promise<number>;
}

/**
 * Each event waits for the interval after the previous one, so a slow step (a late
 * confirm) is never made up for by a burst: the consumers downstream see at most the rate.
 */
export function createPacer(ratePerSecond: number, now: () => number = Date.now): Pacer {
  const intervalMs = 1000 / ratePerSecond;
  let last: number | undefined;
  return {
    next: async (signal) => {
      if (last !== undefined) {
        const due = last + intervalMs;
        // Timers may fire a millisecond early by the wall clock: wait until it agrees.
        while (now() < due && signal?.aborted !== true) await sleep(Math.max(1, Math.ceil(due - now())), signal);
      }
      last = now();
      return last;
    },
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
