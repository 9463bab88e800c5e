/** A count at a moment (epoch ms). */
export interface Sample {
  readonly time: number;
  readonly count: number;
}

/** An interval in which a count did not grow. */
export interface Stall {
  /** When the count last grew before it (epoch ms). */
  readonly start: number;
  /** When it grew again (or the last sample, when it never did). */
  readonly end: number;
  /** Whether it grew again. */
  readonly ended: boolean;
}

/**
 * The longest stall of a count that reaches past `from` (a fault), before the count reached
 * `done` (after that the count stops growing because the work is over, not stalled).
 */
export function longestStall(samples: readonly Sample[], from: number, done: number): Stall | undefined {
  let longest: Stall | undefined;
  let last: Sample | undefined;
  let since: number | undefined;
  const consider = (stall: Stall) => {
    if (stall.end <= from) return;
    if (longest === undefined || stall.end - stall.start > longest.end - longest.start) longest = stall;
  };
  for (const sample of samples) {
    if (last === undefined || sample.count > last.count) {
      if (last !== undefined && since !== undefined) consider({ start: since, end: sample.time, ended: true });
      since = sample.time;
      last = sample;
      if (sample.count >= done) return longest;
      continue;
    }
    last = { time: sample.time, count: last.count };
  }
  if (last !== undefined && since !== undefined && last.time > since)
    consider({ start: since, end: last.time, ended: false });
  return longest;
}

/**
 * Samples how the work goes (confirms reported by the producer, deliveries to the workers)
 * every `intervalMs`, so that a scenario can tell how long a fault stalled each, and when
 * the work went on again.
 */
export class ProgressMonitor {
  readonly confirms: Sample[] = [];
  readonly deliveries: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly read: () => { confirms: number; deliveries: number },
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => {
      this.sample();
    }, intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /**
   * After a fault at `from`: the longest stall of confirms and of deliveries (each before
   * it reached `done`), and the time to recover: from the fault until the later of the two
   * ended (0 when neither stalled `minMs` or more; undefined when one never went on).
   */
  recovery(
    from: number,
    done: number,
    minMs = 1000,
  ): { confirms?: Stall | undefined; deliveries?: Stall | undefined; seconds: number | undefined } {
    const confirms = longestStall(this.confirms, from, done);
    const deliveries = longestStall(this.deliveries, from, done);
    const stalls = [confirms, deliveries].filter(
      (stall): stall is Stall => stall !== undefined && stall.end - stall.start >= minMs,
    );
    const seconds = stalls.some((stall) => !stall.ended)
      ? undefined
      : Math.max(0, ...stalls.map((stall) => (stall.end - from) / 1000));
    return { confirms, deliveries, seconds };
  }

  private sample(): void {
    const time = Date.now();
    const { confirms, deliveries } = this.read();
    this.confirms.push({ time, count: confirms });
    this.deliveries.push({ time, count: deliveries });
  }
}

/** A stall for the notes: `4.2 s (from +1.0 s)`, times relative to the fault. */
export function describeStall(stall: Stall | undefined, from: number): string {
  if (stall === undefined) return 'none';
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const span = `+${s(Math.max(0, stall.start - from))} to +${s(stall.end - from)}`;
  return `${s(stall.end - stall.start)} (${span}${stall.ended ? '' : ', never went on'})`;
}
