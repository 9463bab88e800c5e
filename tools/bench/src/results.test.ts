import { describe, expect, it } from 'vitest';
import type { ClientName } from './jobs.js';
import { createHistogram, encodeHistogram, recordMs } from './latency.js';
import { evaluateGoals, summarizeScenario, type RoundOutcome } from './results.js';
import { SCENARIOS, type Measurement } from './scenarios.js';
import { median } from './stats.js';

function measurement(messagesPerSecond: number, cpuMicrosPerMessage: number, p99Ms?: number): Measurement {
  const histogram = createHistogram();
  if (p99Ms !== undefined) for (let i = 0; i < 100; i++) recordMs(histogram, p99Ms);
  return {
    messages: 1000,
    messagesPerSecond,
    cpuMicrosPerMessage,
    peakRssBytes: 100 * 2 ** 20,
    ...(p99Ms === undefined ? {} : { latency: encodeHistogram(histogram) }),
  };
}

const publishClassic = SCENARIOS.find((scenario) => scenario.id === 'publish-classic');
const halfRate = SCENARIOS.find((scenario) => scenario.id === 'e2e-half-rate');

describe('median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('a scenario summary', () => {
  it('takes ratios to raw amqplib round by round, then their median', () => {
    if (publishClassic === undefined) throw new Error('no publish-classic scenario');
    const outcomes = new Map<ClientName, RoundOutcome[]>([
      [
        'amqplib',
        [1, 2, 3].map((round) => ({ round, ok: true as const, measurement: measurement(1000 * round, 10) })),
      ],
      [
        'project',
        [
          { round: 1, ok: true, measurement: measurement(1100, 12) },
          { round: 2, ok: true, measurement: measurement(1800, 11) },
          { round: 3, ok: false, error: 'boom' },
        ],
      ],
    ]);
    const summary = summarizeScenario(publishClassic, ['project', 'amqplib'], outcomes);
    const project = summary.clients.find((client) => client.client === 'project');
    expect(project?.rounds).toBe(2);
    expect(project?.errors).toEqual(['round 3: boom']);
    // Ratios 1.1 and 0.9: their median is 1.0, though the rates' medians differ.
    expect(project?.throughputRatio).toBeCloseTo(1.0, 5);
    expect(project?.cpuRatio).toBeCloseTo(1.15, 5);
    expect(project?.messagesPerSecond).toEqual({ median: 1450, min: 1100, max: 1800 });
  });

  it('compares p99 latencies for the half-rate run, and says which goals are short', () => {
    if (halfRate === undefined) throw new Error('no e2e-half-rate scenario');
    const outcomes = new Map<ClientName, RoundOutcome[]>([
      ['amqplib', [{ round: 1, ok: true, measurement: measurement(500, 10, 10) }]],
      ['project', [{ round: 1, ok: true, measurement: measurement(500, 10, 20) }]],
    ]);
    const summary = summarizeScenario(halfRate, ['project', 'amqplib'], outcomes);
    expect(summary.clients[0]?.p99Ratio).toBeCloseTo(2, 1);
    const goals = evaluateGoals([summary], undefined);
    expect(goals).toHaveLength(1);
    expect(goals[0]).toMatchObject({ target: '<= 1.5', met: false });
  });
});
