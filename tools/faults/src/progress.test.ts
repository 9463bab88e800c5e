import { describe, expect, it } from 'vitest';
import { longestStall } from './progress.js';

const series = (...points: [number, number][]) => points.map(([time, count]) => ({ time, count }));

describe('longestStall', () => {
  it('finds the longest interval without growth that reaches past the fault', () => {
    const samples = series([0, 0], [1, 10], [2, 10], [3, 10], [4, 20], [5, 20], [6, 30]);
    expect(longestStall(samples, 1.5, 100)).toEqual({ start: 1, end: 4, ended: true });
  });

  it('ignores stalls that ended before the fault, and everything once the count is done', () => {
    const samples = series([0, 0], [10, 0], [11, 5], [12, 6], [13, 10], [50, 10]);
    expect(longestStall(samples, 11.5, 10)).toEqual({ start: 11, end: 12, ended: true });
  });

  it('a count that never grows again ends at the last sample, not ended', () => {
    expect(longestStall(series([0, 0], [1, 5], [9, 5]), 2, 100)).toEqual({ start: 1, end: 9, ended: false });
  });
});
