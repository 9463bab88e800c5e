import type { ClusterLayout } from './cluster.js';
import { BASELINE, REFERENCE, SHARED_STORE, type ClientName } from './jobs.js';
import { decodeHistogram, mergeHistograms, summarizeLatency, type LatencySummary } from './latency.js';
import type { Measurement, Scenario, ScenarioId } from './scenarios.js';
import type { StartupSummary } from './startup.js';
import { median, spread, type Spread } from './stats.js';

export const CLIENT_LABELS: Record<ClientName, string> = {
  project: 'hello-rabbit',
  'project-redis': 'hello-rabbit, Redis dedup store',
  amqplib: 'raw amqplib',
  'amqplib-mandatory': 'raw amqplib, mandatory',
  'rabbitmq-client': 'rabbitmq-client',
  'amqp-connection-manager': 'amqp-connection-manager',
};

/** One round's outcome for one client on one scenario. */
export type RoundOutcome =
  | { readonly round: number; readonly ok: true; readonly measurement: Measurement }
  | { readonly round: number; readonly ok: false; readonly error: string };

export interface ClientAvailability {
  readonly client: ClientName;
  readonly label: string;
  readonly available: boolean;
  readonly reason?: string;
}

export interface ClientSummary {
  readonly client: ClientName;
  readonly label: string;
  /** Rounds measured, and the errors of those that failed. */
  readonly rounds: number;
  readonly errors: readonly string[];
  readonly messagesPerSecond: Spread | null;
  /** Median over rounds of (this client's messages/s / raw amqplib's, same round). */
  readonly throughputRatio: number | null;
  /**
   * Median over rounds of (this client's messages/s / raw amqplib's with the mandatory flag,
   * same round): the ratio with the project's guarantee on both sides. Absent where the
   * reference did not run.
   */
  readonly referenceRatio?: number | null | undefined;
  /** Median over rounds of (this client's p99 / raw amqplib's p99, same round). */
  readonly p99Ratio: number | null;
  /** Median over rounds, µs. */
  readonly cpuMicrosPerMessage: number | null;
  /** Median over rounds of (this client's CPU per message / raw amqplib's, same round). */
  readonly cpuRatio: number | null;
  /** Every round's latencies together. */
  readonly latency: LatencySummary | null;
  readonly peakRssBytes: number | null;
  readonly producerPeakRssBytes?: number | undefined;
  readonly consumerPeakRssBytes?: number | undefined;
  /** Paced runs: the offered messages/s (median over rounds). */
  readonly offeredRate?: number;
  /**
   * Cluster runs: median over rounds of (this client's messages/s on the cluster / its own on
   * the single node, same round); null when no round has both.
   */
  readonly singleNodeRatio?: number | null | undefined;
  readonly perRound: readonly RoundFigures[];
}

/** A round's figures, without its histogram, for the JSON. */
export interface RoundFigures {
  readonly round: number;
  readonly messagesPerSecond?: number;
  readonly cpuMicrosPerMessage?: number;
  readonly p99Ms?: number | undefined;
  readonly peakRssBytes?: number;
  /** Cluster runs: the node of the queue's leader after the run. */
  readonly leaderNode?: string | undefined;
  readonly error?: string;
}

/** Where a cluster scenario ran: its nodes, which side was on which, where the leader was. */
export interface ClusterSummary extends ClusterLayout {
  /** The single-node scenario whose messages/s each client's are divided by (`singleNodeRatio`). */
  readonly comparedWith: ScenarioId;
  /** The queue's leader after the runs, each node once, in the order first seen. */
  readonly leaders: readonly string[];
  /** The nodes that had a member of the queue after every run. */
  readonly members: readonly string[];
}

export interface ScenarioSummary {
  readonly id: ScenarioId;
  readonly title: string;
  readonly measures: string;
  readonly ratioOf: Scenario['ratioOf'];
  /** Cluster scenarios, once the cluster booted. */
  readonly cluster?: ClusterSummary | undefined;
  readonly clients: readonly ClientSummary[];
}

function p99Of(measurement: Measurement): number | undefined {
  if (measurement.latency === undefined) return undefined;
  return summarizeLatency(decodeHistogram(measurement.latency))?.p99Ms;
}

/** Per-round ratios of `value` to the baseline's (or the reference's) in the same round, their median. */
function ratio(
  outcomes: readonly RoundOutcome[],
  baseline: readonly RoundOutcome[],
  value: (measurement: Measurement) => number | undefined,
): number | null {
  const ratios: number[] = [];
  for (const outcome of outcomes) {
    if (!outcome.ok) continue;
    const base = baseline.find((candidate) => candidate.round === outcome.round);
    if (base?.ok !== true) continue;
    const mine = value(outcome.measurement);
    const theirs = value(base.measurement);
    if (mine !== undefined && theirs !== undefined && theirs > 0) ratios.push(mine / theirs);
  }
  const middle = median(ratios);
  return Number.isFinite(middle) ? middle : null;
}

function maxOf(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length === 0 ? undefined : Math.max(...present);
}

/** What a cluster scenario is summarized with. */
export interface ClusterContext {
  /** The cluster's layout, when it booted. */
  readonly layout?: ClusterLayout | undefined;
  /** Every client's rounds of the single-node scenario the cluster's are compared with. */
  readonly singleNode: ReadonlyMap<ClientName, readonly RoundOutcome[]>;
}

export function summarizeScenario(
  scenario: Scenario,
  clients: readonly ClientName[],
  outcomes: ReadonlyMap<ClientName, readonly RoundOutcome[]>,
  cluster?: ClusterContext,
): ScenarioSummary {
  const baseline = outcomes.get(BASELINE) ?? [];
  const reference = clients.includes(REFERENCE) ? (outcomes.get(REFERENCE) ?? []) : undefined;
  const placements = clients.flatMap((client) =>
    (outcomes.get(client) ?? []).flatMap((outcome) => (outcome.ok ? [outcome.measurement] : [])),
  );
  const leaders = new Set(
    placements.flatMap((measurement) => (measurement.leaderNode === undefined ? [] : [measurement.leaderNode])),
  );
  const memberLists = placements.flatMap((measurement) =>
    measurement.queueMembers === undefined ? [] : [measurement.queueMembers],
  );
  const members = (cluster?.layout?.nodes ?? []).filter(
    (node) => memberLists.length > 0 && memberLists.every((list) => list.includes(node)),
  );
  return {
    id: scenario.id,
    title: scenario.title,
    measures: scenario.measures,
    ratioOf: scenario.ratioOf,
    cluster:
      scenario.cluster === undefined || cluster?.layout === undefined
        ? undefined
        : { ...cluster.layout, comparedWith: scenario.cluster.comparedWith, leaders: [...leaders], members },
    clients: clients.map((client): ClientSummary => {
      const mine = outcomes.get(client) ?? [];
      const ok = mine.flatMap((outcome) => (outcome.ok ? [outcome.measurement] : []));
      const latencies = ok.flatMap((measurement) => (measurement.latency === undefined ? [] : [measurement.latency]));
      const cpu = median(ok.map((measurement) => measurement.cpuMicrosPerMessage));
      const offered = median(
        ok.flatMap((measurement) => (measurement.offeredRate === undefined ? [] : [measurement.offeredRate])),
      );
      const producerRss = maxOf(ok.map((measurement) => measurement.producerPeakRssBytes));
      const consumerRss = maxOf(ok.map((measurement) => measurement.consumerPeakRssBytes));
      return {
        client,
        label: CLIENT_LABELS[client],
        rounds: ok.length,
        errors: mine.flatMap((outcome) => (outcome.ok ? [] : [`round ${String(outcome.round)}: ${outcome.error}`])),
        messagesPerSecond: spread(ok.map((measurement) => measurement.messagesPerSecond)) ?? null,
        throughputRatio: ratio(mine, baseline, (measurement) => measurement.messagesPerSecond),
        referenceRatio:
          reference === undefined ? undefined : ratio(mine, reference, (measurement) => measurement.messagesPerSecond),
        p99Ratio: ratio(mine, baseline, p99Of),
        cpuMicrosPerMessage: Number.isFinite(cpu) ? cpu : null,
        cpuRatio: ratio(mine, baseline, (measurement) => measurement.cpuMicrosPerMessage),
        latency: latencies.length === 0 ? null : (summarizeLatency(mergeHistograms(latencies)) ?? null),
        peakRssBytes: maxOf(ok.map((measurement) => measurement.peakRssBytes)) ?? null,
        producerPeakRssBytes: producerRss,
        consumerPeakRssBytes: consumerRss,
        ...(Number.isFinite(offered) ? { offeredRate: offered } : {}),
        singleNodeRatio:
          scenario.cluster === undefined || cluster === undefined
            ? undefined
            : ratio(mine, cluster.singleNode.get(client) ?? [], (measurement) => measurement.messagesPerSecond),
        perRound: mine.map((outcome): RoundFigures => {
          if (!outcome.ok) return { round: outcome.round, error: outcome.error };
          const p99Ms = p99Of(outcome.measurement);
          const { leaderNode } = outcome.measurement;
          return {
            round: outcome.round,
            messagesPerSecond: outcome.measurement.messagesPerSecond,
            cpuMicrosPerMessage: outcome.measurement.cpuMicrosPerMessage,
            p99Ms,
            peakRssBytes: outcome.measurement.peakRssBytes,
            leaderNode,
          };
        }),
      };
    }),
  };
}

export interface OverloadSummary {
  readonly client: ClientName;
  readonly label: string;
  readonly seconds: number;
  readonly bodySize: number;
  readonly queueType: string;
  /** Offered messages/s: ten times what the broker took from raw amqplib in the 10 KB quorum scenario. */
  readonly offeredRate: number;
  readonly offered: number;
  readonly confirmed: number;
  readonly failed: number;
  readonly confirmedPerSecond: number;
  readonly maxInFlight: number;
  /** Publishes the offering side started at once. */
  readonly concurrency: number;
  /** Publishes started and not yet settled, seen by the offering side: the client's back-pressure holds the rest. */
  readonly maxPending: number;
  readonly readyRssBytes: number;
  readonly peakRssBytes: number;
  /** Highest RSS in the first and in the second half of the run: a bounded client levels off. */
  readonly firstHalfPeakRssBytes: number;
  readonly secondHalfPeakRssBytes: number;
  readonly memoryCapBytes: number;
  readonly withinCap: boolean;
  readonly error?: string;
}

export interface Goal {
  readonly goal: string;
  readonly scenario?: ScenarioId | 'overload';
  readonly value: number | null;
  readonly target: string;
  readonly met: boolean;
}

/** The goals for the project's path, checked against this run's figures. */
export function evaluateGoals(scenarios: readonly ScenarioSummary[], overload: OverloadSummary | undefined): Goal[] {
  const goals: Goal[] = [];
  for (const scenario of scenarios) {
    const project = scenario.clients.find((summary) => summary.client === 'project');
    if (project === undefined) continue;
    if (scenario.ratioOf === 'throughput') {
      goals.push({
        goal: `${scenario.title}: messages/s ratio to raw amqplib`,
        scenario: scenario.id,
        value: project.throughputRatio,
        target: '>= 1.0',
        met: project.throughputRatio !== null && project.throughputRatio >= 1,
      });
      const peers = scenario.clients.filter(
        (summary) =>
          summary.client !== 'project' &&
          summary.client !== BASELINE &&
          summary.client !== REFERENCE &&
          summary.client !== SHARED_STORE,
      );
      const best = peers
        .filter((summary) => summary.messagesPerSecond !== null)
        .sort((a, b) => (b.messagesPerSecond?.median ?? 0) - (a.messagesPerSecond?.median ?? 0))[0];
      if (best !== undefined && project.messagesPerSecond !== null && best.messagesPerSecond !== null) {
        const value = project.messagesPerSecond.median / best.messagesPerSecond.median;
        goals.push({
          goal: `${scenario.title}: messages/s against the best peer (${best.label})`,
          scenario: scenario.id,
          value,
          target: '>= 1.0',
          met: value >= 1,
        });
      }
      goals.push({
        goal: `${scenario.title}: client CPU per message, ratio to raw amqplib`,
        scenario: scenario.id,
        value: project.cpuRatio,
        target: '<= 1.3',
        met: project.cpuRatio !== null && project.cpuRatio <= 1.3,
      });
    } else {
      goals.push({
        goal: `${scenario.title}: p99 latency, ratio to the raw pair's at the same rate`,
        scenario: scenario.id,
        value: project.p99Ratio,
        target: '<= 1.5',
        met: project.p99Ratio !== null && project.p99Ratio <= 1.5,
      });
    }
  }
  if (overload !== undefined) {
    goals.push({
      goal:
        "overload (offered 10x the broker's rate): peak RSS in MiB, " +
        `cap ${String(Math.round(overload.memoryCapBytes / 2 ** 20))} MiB`,
      scenario: 'overload',
      value: overload.error === undefined ? overload.peakRssBytes / 2 ** 20 : null,
      target: `<= ${String(Math.round(overload.memoryCapBytes / 2 ** 20))}`,
      met: overload.error === undefined && overload.withinCap,
    });
  }
  return goals;
}

export interface BenchResults {
  readonly meta: {
    readonly startedAt: string;
    readonly durationSeconds: number;
    readonly quick: boolean;
    readonly rounds: number;
    readonly node: string;
    readonly broker: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly platform: string;
    /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
    readonly loadAverage: { readonly start: number; readonly end: number };
    readonly settings: {
      readonly count: number;
      readonly largeCount: number;
      readonly window: number;
      readonly prefetch: number;
      readonly pacedSeconds: number;
      readonly overloadSeconds: number;
    };
  };
  readonly clients: readonly ClientAvailability[];
  readonly scenarios: readonly ScenarioSummary[];
  /** The project's path, then raw amqplib under the same load for reference. */
  readonly overload: readonly OverloadSummary[];
  /** Whole processes: a one-shot send, --help, a consumer to ready; absent when not asked for. */
  readonly startup?: StartupSummary | undefined;
  readonly goals: readonly Goal[];
}
