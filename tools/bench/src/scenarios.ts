import { BENCH_QUEUE, prefill, queueDepth, resetQueue, type QueueType } from './broker.js';
import { runJob, startRunner } from './child.js';
import {
  REFERENCE,
  SHARED_STORE,
  type ClientName,
  type ConsumeJob,
  type JobResult,
  type PublishJob,
  type PublishResult,
} from './jobs.js';

export const SCENARIO_IDS = [
  'publish-classic',
  'publish-quorum',
  'publish-quorum-10k',
  'consume',
  'e2e',
  'e2e-cluster',
  'e2e-half-rate',
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** What is measured, for the report. */
  readonly measures: string;
  readonly kind: 'publish' | 'consume' | 'e2e';
  readonly queueType: QueueType;
  readonly bodySize: number;
  /** What the ratio to raw amqplib compares: messages/s (higher is better) or p99 latency (lower is better). */
  readonly ratioOf: 'throughput' | 'p99';
  /**
   * Runs on the 3-node cluster the benchmark boots (src/cluster.ts) instead of the broker at
   * AMQP_URL; its messages/s are also divided by those of `comparedWith`, the same
   * measurement on the single node, client by client and round by round.
   */
  readonly cluster?: { readonly comparedWith: ScenarioId };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'publish-classic',
    title: 'confirmed publish, classic durable queue, 100 B',
    measures: 'messages/s from the first publish to the last confirm; latency: publish to confirm',
    kind: 'publish',
    queueType: 'classic',
    bodySize: 100,
    ratioOf: 'throughput',
  },
  {
    id: 'publish-quorum',
    title: 'confirmed publish, quorum queue, 100 B',
    measures: 'messages/s from the first publish to the last confirm; latency: publish to confirm',
    kind: 'publish',
    queueType: 'quorum',
    bodySize: 100,
    ratioOf: 'throughput',
  },
  {
    id: 'publish-quorum-10k',
    title: 'confirmed publish, quorum queue, 10 KB',
    measures: 'messages/s from the first publish to the last confirm; latency: publish to confirm',
    kind: 'publish',
    queueType: 'quorum',
    bodySize: 10 * 1024,
    ratioOf: 'throughput',
  },
  {
    id: 'consume',
    title: 'consume with manual acks (prefetch 1000), quorum queue',
    measures: 'messages/s from the first delivery to the last, from a queue filled beforehand; one ack per message',
    kind: 'consume',
    queueType: 'quorum',
    bodySize: 100,
    ratioOf: 'throughput',
  },
  {
    id: 'e2e',
    title: 'end to end, producer + consumer processes, quorum queue',
    measures: 'messages/s from the first publish to the last delivery; latency: publish to delivery',
    kind: 'e2e',
    queueType: 'quorum',
    bodySize: 100,
    ratioOf: 'throughput',
  },
  {
    id: 'e2e-cluster',
    title: 'end to end on a 3-node cluster, producer and consumer on different nodes, quorum queue',
    measures:
      'the end-to-end run on a cluster of three private nodes: ' +
      'the producer connected to node 1, the consumer to node 2, the queue declared through node 3 (its leader); ' +
      'messages/s from the first publish to the last delivery; latency: publish to delivery',
    kind: 'e2e',
    queueType: 'quorum',
    bodySize: 100,
    ratioOf: 'throughput',
    cluster: { comparedWith: 'e2e' },
  },
  {
    id: 'e2e-half-rate',
    title: "end to end at half the raw pair's max rate",
    measures:
      "the publisher paced at half the raw amqplib pair's messages/s of the same round; " +
      'latency: scheduled publish time to delivery',
    kind: 'e2e',
    queueType: 'quorum',
    bodySize: 100,
    ratioOf: 'p99',
  },
];

/**
 * The clients a scenario runs: the reference (raw amqplib with the mandatory flag) only
 * where the flag is what differs, the confirmed publishes; the project's path with the
 * Redis dedup store only where the store works, consume and end to end (single node).
 */
export function clientsFor(scenario: Scenario, clients: readonly ClientName[]): ClientName[] {
  return clients.filter(
    (client) =>
      (client !== REFERENCE || scenario.kind === 'publish') &&
      (client !== SHARED_STORE || scenario.id === 'consume' || scenario.id === 'e2e'),
  );
}

/** The scenarios that need the cluster: left out of --quick unless asked for by name. */
export const CLUSTER_SCENARIO_IDS: readonly ScenarioId[] = SCENARIOS.flatMap((scenario) =>
  scenario.cluster === undefined ? [] : [scenario.id],
);

/**
 * Where a measurement connects, as AMQP URLs of one vhost. On a single node all three are
 * the same; on the cluster each may be another node's.
 */
export interface Endpoints {
  /** Declares, empties, fills and checks the queue: a quorum queue's leader goes to this node. */
  readonly admin: string;
  /** The publishing process. */
  readonly producer: string;
  /** The consuming process. */
  readonly consumer: string;
}

/** Every side on the one broker at `url`. */
export function singleNode(url: string): Endpoints {
  return { admin: url, producer: url, consumer: url };
}

export interface RunSettings {
  readonly window: number;
  readonly prefetch: number;
  /** Runner time limit. */
  readonly timeoutMs: number;
  /** Where runners write CPU profiles, when asked to. */
  readonly profileDir?: string | undefined;
}

/** One client's figures for one scenario in one round. */
export interface Measurement {
  readonly messages: number;
  readonly messagesPerSecond: number;
  /** Client CPU (user + system) per message, µs; for end to end, producer and consumer together. */
  readonly cpuMicrosPerMessage: number;
  /** Peak RSS of the measuring process (the larger of producer and consumer, end to end). */
  readonly peakRssBytes: number;
  readonly producerPeakRssBytes?: number;
  readonly consumerPeakRssBytes?: number;
  /** HDR histogram of latencies in µs, compressed base64. */
  readonly latency?: string | undefined;
  /** Paced runs: the offered rate. */
  readonly offeredRate?: number | undefined;
  /** Cluster runs: the node the queue's leader was on after the run (rabbitmqctl list_queues). */
  readonly leaderNode?: string;
  /** Cluster runs: the nodes with a member of the queue after the run. */
  readonly queueMembers?: readonly string[];
}

function expectRole<R extends JobResult['role']>(result: JobResult, role: R): Extract<JobResult, { role: R }> {
  if (result.role !== role) throw new Error(`expected a ${role} result, got ${result.role}`);
  return result as Extract<JobResult, { role: R }>;
}

function perSecond(messages: number, fromMs: number, toMs: number): number {
  return toMs > fromMs ? (messages * 1000) / (toMs - fromMs) : Number.NaN;
}

/**
 * Measures one client on one scenario, in the endpoints' vhost: the queue is emptied and
 * declared again first (through `admin`), so every client starts from the same state.
 */
export async function measure(
  scenario: Scenario,
  client: ClientName,
  endpoints: Endpoints,
  count: number,
  settings: RunSettings,
  { round, rate }: { readonly round: number; readonly rate?: number | undefined },
): Promise<Measurement> {
  const queue = BENCH_QUEUE;
  const runner = (role: string) => ({
    timeoutMs: settings.timeoutMs,
    profile:
      settings.profileDir === undefined
        ? undefined
        : { dir: settings.profileDir, name: `${scenario.id}-${client}-${role}-r${String(round)}` },
  });
  const { admin } = endpoints;
  await resetQueue(admin, queue, scenario.queueType);

  if (scenario.kind === 'publish') {
    const job: PublishJob = {
      role: 'publish',
      client,
      url: endpoints.producer,
      queue,
      count,
      bodySize: scenario.bodySize,
      window: settings.window,
      stamp: false,
    };
    const result = expectRole(await runJob(job, runner('publish')), 'publish');
    failIfUnconfirmed(result);
    return {
      messages: count,
      messagesPerSecond: perSecond(result.confirmed, result.firstSendAt, result.lastConfirmAt),
      cpuMicrosPerMessage: result.cpuMicros / count,
      peakRssBytes: result.maxRssBytes,
      latency: result.latency,
    };
  }

  if (scenario.kind === 'consume') {
    await prefill(admin, queue, count, scenario.bodySize);
    const job: ConsumeJob = {
      role: 'consume',
      client,
      url: endpoints.consumer,
      queue,
      count,
      prefetch: settings.prefetch,
      stamped: false,
    };
    const result = expectRole(await runJob(job, runner('consume')), 'consume');
    await expectDrained(admin, queue, client);
    return {
      messages: count,
      // From the first delivery to the last: count - 1 intervals.
      messagesPerSecond: perSecond(result.received - 1, result.firstDeliveryAt, result.lastDeliveryAt),
      cpuMicrosPerMessage: result.cpuMicros / count,
      peakRssBytes: result.maxRssBytes,
    };
  }

  // End to end: the consumer process subscribes first, then the producer process publishes.
  const consumerJob: ConsumeJob = {
    role: 'consume',
    client,
    url: endpoints.consumer,
    queue,
    count,
    prefetch: settings.prefetch,
    stamped: true,
  };
  const consumer = startRunner(consumerJob, runner('consumer'));
  let produced: PublishResult;
  try {
    await consumer.ready;
    const producerJob: PublishJob = {
      role: 'publish',
      client,
      url: endpoints.producer,
      queue,
      count,
      bodySize: scenario.bodySize,
      window: settings.window,
      stamp: true,
      rate,
    };
    produced = expectRole(await runJob(producerJob, runner('producer')), 'publish');
    failIfUnconfirmed(produced);
  } catch (err) {
    // The consumer would wait for messages that are not coming.
    consumer.kill();
    await consumer.result.catch(() => undefined);
    throw err;
  }
  const consumed = expectRole(await consumer.result, 'consume');
  await expectDrained(admin, queue, client);
  return {
    messages: count,
    messagesPerSecond: perSecond(count, produced.firstSendAt, consumed.lastDeliveryAt),
    cpuMicrosPerMessage: (produced.cpuMicros + consumed.cpuMicros) / count,
    peakRssBytes: Math.max(produced.maxRssBytes, consumed.maxRssBytes),
    producerPeakRssBytes: produced.maxRssBytes,
    consumerPeakRssBytes: consumed.maxRssBytes,
    latency: consumed.latency,
    offeredRate: rate,
  };
}

function failIfUnconfirmed(result: PublishResult): void {
  if (result.failed > 0)
    throw new Error(
      `${String(result.failed)} of ${String(result.failed + result.confirmed)} messages were not confirmed`,
    );
}

/** Every message acked: a client that lost acks must not look fast. */
async function expectDrained(url: string, queue: string, client: ClientName): Promise<void> {
  const left = await queueDepth(url, queue);
  if (left > 0) throw new Error(`${client} left ${String(left)} messages in ${queue} (not acked)`);
}
