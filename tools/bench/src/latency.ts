import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** A histogram of latencies in microseconds, up to two minutes, three significant digits. */
export function createHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/** Records a latency given in milliseconds; the histogram holds microseconds. */
export function recordMs(histogram: Histogram, ms: number): void {
  if (Number.isFinite(ms)) histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
}

/** One histogram holding every value of `encoded`. */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const merged = createHistogram();
  for (const one of encoded) merged.add(decodeHistogram(one));
  return merged;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarizeLatency(histogram: Histogram): LatencySummary | undefined {
  if (histogram.totalCount === 0) return undefined;
  return {
    count: histogram.totalCount,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    maxMs: histogram.maxValue / 1000,
  };
}
