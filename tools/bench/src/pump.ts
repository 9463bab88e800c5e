import { epochMs } from './clock.js';
import { recordMs, type Histogram } from './latency.js';

/** Sends message `index`, stamped `sentAt` (epoch ms); calls `done` once, with whether it was confirmed. */
export type Send = (index: number, sentAt: number, done: (confirmed: boolean) => void) => void;

export interface PumpOptions {
  readonly count: number;
  /** At most this many sent and not yet confirmed. */
  readonly window: number;
  readonly send: Send;
  /** Messages per second, on a fixed schedule; as fast as the window allows when absent. */
  readonly rate?: number | undefined;
  /** Receives each message's confirm latency. */
  readonly latency: Histogram;
}

export interface PumpResult {
  readonly confirmed: number;
  readonly failed: number;
  readonly firstSendAt: number;
  readonly lastConfirmAt: number;
}

/**
 * The one publishing loop every client is driven by: callbacks, no promise of its own, so
 * the baseline pays nothing for it. With a rate, message `i` is due at `start + i / rate`
 * and its latency counts from then, not from when the window let it go: a client that
 * falls behind the schedule shows it in its latency (no coordinated omission).
 */
export function pump(options: PumpOptions): Promise<PumpResult> {
  const { count, window, send, rate, latency } = options;
  const sentAt = new Float64Array(count);
  const interval = rate === undefined ? 0 : 1000 / rate;
  let next = 0;
  let inFlight = 0;
  let settled = 0;
  let failed = 0;
  let looping = false;
  let timer: NodeJS.Timeout | undefined;
  let start = 0;

  return new Promise((resolve) => {
    if (count === 0) {
      resolve({ confirmed: 0, failed: 0, firstSendAt: 0, lastConfirmAt: 0 });
      return;
    }
    const complete = (index: number, confirmed: boolean) => {
      const now = epochMs();
      inFlight--;
      settled++;
      if (confirmed) recordMs(latency, now - (sentAt[index] ?? now));
      else failed++;
      if (settled === count) {
        resolve({ confirmed: count - failed, failed, firstSendAt: start, lastConfirmAt: now });
        return;
      }
      loop();
    };
    const loop = () => {
      // A send that completes synchronously re-enters here; the outer loop carries on.
      if (looping) return;
      looping = true;
      const now = epochMs();
      while (next < count && inFlight < window) {
        const due = start + next * interval;
        if (interval > 0 && due > now) {
          timer ??= setTimeout(() => {
            timer = undefined;
            loop();
          }, due - now);
          break;
        }
        const index = next++;
        inFlight++;
        const stamp = interval > 0 ? due : epochMs();
        sentAt[index] = stamp;
        send(index, stamp, (confirmed) => {
          complete(index, confirmed);
        });
      }
      looping = false;
    };
    start = epochMs();
    loop();
  });
}
