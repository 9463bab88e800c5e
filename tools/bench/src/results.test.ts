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
    latency: p99Ms === undefined ? undefined : encodeHistogram(histogram),
  };
}

const publishClassic = SCENARIOS.find((scenario) => scenario.id === 'publish-classic');
const halfRate = SCENARIOS.find((scenario) => scenario.id === 'e2e-half-rate');
const onCluster = SCENARIOS.find((scenario) => scenario.id === 'e2e-cluster');

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
      ['amqplib', [1, 2, 3].map((round) => ({ round, ok: true as const, measurement: measurement(1000 * round, 10) }))],
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

  it("divides each client's cluster rate by its single-node rate of the same round; says where the leader was", () => {
    if (onCluster === undefined) throw new Error('no e2e-cluster scenario');
    const nodes = ['n1@localhost', 'n2@localhost', 'n3@localhost'];
    const layout = {
      broker: 'RabbitMQ 3.10.8',
      nodes,
      producerNode: 'n1@localhost',
      consumerNode: 'n2@localhost',
      declaredOn: 'n3@localhost',
      bootSeconds: 20,
    };
    const placed = (rate: number, leaderNode: string, queueMembers = nodes): Measurement => ({
      ...measurement(rate, 10),
      leaderNode,
      queueMembers,
    });
    const single = new Map<ClientName, RoundOutcome[]>([
      ['amqplib', [1, 2].map((round) => ({ round, ok: true as const, measurement: measurement(1000 * round, 10) }))],
      ['project', [1, 2].map((round) => ({ round, ok: true as const, measurement: measurement(1000 * round, 10) }))],
    ]);
    const cluster = new Map<ClientName, RoundOutcome[]>([
      [
        'amqplib',
        [
          { round: 1, ok: true, measurement: placed(500, 'n3@localhost') },
          { round: 2, ok: true, measurement: placed(1000, 'n3@localhost') },
        ],
      ],
      [
        'project',
        [
          // Ratios 0.8 and 0.6: the median is 0.7.
          { round: 1, ok: true, measurement: placed(800, 'n3@localhost') },
          { round: 2, ok: true, measurement: placed(1200, 'n1@localhost', ['n1@localhost', 'n3@localhost']) },
        ],
      ],
    ]);
    const summary = summarizeScenario(onCluster, ['project', 'amqplib'], cluster, { layout, singleNode: single });
    const [project, raw] = summary.clients;
    expect(project?.singleNodeRatio).toBeCloseTo(0.7, 5);
    expect(raw?.singleNodeRatio).toBeCloseTo(0.5, 5);
    // The ratio to raw amqplib is taken on the cluster, as in every other scenario.
    expect(project?.throughputRatio).toBeCloseTo((1.6 + 1.2) / 2, 5);
    expect(project?.perRound.map((round) => round.leaderNode)).toEqual(['n3@localhost', 'n1@localhost']);
    expect(summary.cluster).toMatchObject({
      ...layout,
      comparedWith: 'e2e',
      leaders: ['n3@localhost', 'n1@localhost'],
      members: ['n1@localhost', 'n3@localhost'],
    });

    // A single-node scenario has neither.
    if (publishClassic === undefined) throw new Error('no publish-classic scenario');
    const plain = summarizeScenario(publishClassic, ['amqplib'], single);
    expect(plain.cluster).toBeUndefined();
    expect(plain.clients[0]?.singleNodeRatio).toBeUndefined();
  });

  it('leaves the cluster out of the summary when it did not boot', () => {
    if (onCluster === undefined) throw new Error('no e2e-cluster scenario');
    const failed = new Map<ClientName, RoundOutcome[]>([
      ['amqplib', [{ round: 1, ok: false, error: 'no cluster: boom' }]],
    ]);
    const summary = summarizeScenario(onCluster, ['amqplib'], failed, { layout: undefined, singleNode: new Map() });
    expect(summary.cluster).toBeUndefined();
    expect(summary.clients[0]).toMatchObject({
      rounds: 0,
      errors: ['round 1: no cluster: boom'],
      singleNodeRatio: null,
    });
  });
});
