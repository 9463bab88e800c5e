/**
 * `pnpm bench`: the project's publish and consume paths side by side with raw amqplib and
 * the peer clients, against the broker at AMQP_URL (and, for e2e-cluster, a 3-node cluster
 * it boots). See ../README.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { brokerUrl, redacted, requireBroker, type TestVhost } from '@hello-rabbit/testkit';
import { BENCH_QUEUE, createBenchVhost, resetQueue, serverVersion } from './broker.js';
import { killRunners, runJob } from './child.js';
import { BenchCluster, killClusterLeftovers, nodeLabel } from './cluster.js';
import { probeClient } from './clients/connect.js';
import { renderChart } from './chart.js';
import { BASELINE, type ClientName, type OverloadJob } from './jobs.js';
import { renderMarkdown } from './markdown.js';
import { parseOptions, UsageError, USAGE, type BenchOptions } from './options.js';
import {
  CLIENT_LABELS,
  evaluateGoals,
  summarizeScenario,
  type BenchResults,
  type ClientAvailability,
  type OverloadSummary,
  type RoundOutcome,
} from './results.js';
import {
  cleanUpStartupRun,
  hasGnuTime,
  prepareStartupRun,
  killStartupChildren,
  runStartupProgram,
  startupPrograms,
  summarizeStartup,
  type StartupOutcome,
  type StartupSummary,
} from './startup.js';
import {
  clientsFor,
  measure,
  SCENARIOS,
  singleNode,
  type Endpoints,
  type Measurement,
  type RunSettings,
  type Scenario,
  type ScenarioId,
} from './scenarios.js';

const MiB = 2 ** 20;

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Clients in a different order each scenario and round, so none always goes first. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

let activeVhost: TestVhost | undefined;
/** The cluster of the cluster scenarios, while it runs. */
let activeCluster: BenchCluster | undefined;
/** Set by Ctrl+C: no new run is started while the cleanup runs. */
let interruptedAt: number | undefined;

function stopIfInterrupted(): void {
  if (interruptedAt !== undefined) throw new Error('interrupted');
}
/** The quick run's one vhost: making and deleting one per scenario takes longer than measuring. */
let sharedVhost: TestVhost | undefined;

async function withVhost<T>(label: string, fn: (url: string) => Promise<T>): Promise<T> {
  if (sharedVhost !== undefined) return fn(sharedVhost.url);
  const vhost = await createBenchVhost(label);
  activeVhost = vhost;
  try {
    return await fn(vhost.url);
  } finally {
    activeVhost = undefined;
    await vhost.dispose();
  }
}

/** Runs `fn` with one vhost for every scenario (the queue is still declared anew for each run). */
async function withSharedVhost<T>(fn: () => Promise<T>): Promise<T> {
  sharedVhost = await createBenchVhost('quick');
  activeVhost = sharedVhost;
  try {
    return await fn();
  } finally {
    const vhost = sharedVhost;
    sharedVhost = undefined;
    activeVhost = undefined;
    await vhost.dispose();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Boots the cluster once for the whole run. A cluster that does not boot (no RabbitMQ
 * installed here, say) fails its scenario's runs, not the benchmark.
 */
async function bootCluster(): Promise<{ readonly cluster?: BenchCluster; readonly error?: string }> {
  say('cluster: booting 3 private RabbitMQ nodes and joining them (tens of seconds)...');
  try {
    const cluster = await BenchCluster.boot();
    activeCluster = cluster;
    const { layout } = cluster;
    say(
      `cluster: up in ${layout.bootSeconds.toFixed(0)} s (${layout.nodes.join(', ')}); ` +
        `producer on ${nodeLabel(layout, layout.producerNode)}, ` +
        `consumer on ${nodeLabel(layout, layout.consumerNode)}, ` +
        `queue declared through ${nodeLabel(layout, layout.declaredOn)}`,
    );
    return { cluster };
  } catch (err) {
    // The nodes are rabbitmq-server processes of this machine's RabbitMQ (not a container's).
    say(
      'cluster: failed to boot (it needs RabbitMQ installed here: /usr/lib/rabbitmq/bin, or RABBITMQ_BIN): ' +
        messageOf(err),
    );
    return { error: `no cluster: ${messageOf(err).split('\n')[0] ?? ''}` };
  }
}

async function stopCluster(): Promise<void> {
  const cluster = activeCluster;
  if (cluster === undefined) return;
  say('cluster: stopping its nodes');
  await cluster.stop();
  activeCluster = undefined;
}

/** Where the queue's leader and members are after a cluster run; a failed look-up costs only the note. */
async function placementAfterRun(
  cluster: BenchCluster,
  vhost: string,
): Promise<Pick<Measurement, 'leaderNode' | 'queueMembers'>> {
  try {
    const { leader, members } = await cluster.members(vhost, BENCH_QUEUE);
    return { leaderNode: leader, queueMembers: members };
  } catch (err) {
    say(`cluster: could not tell where the queue's leader is: ${messageOf(err)}`);
    return {};
  }
}

/**
 * The overload check: `client` is offered ten times what the broker takes, and its peak RSS
 * is measured. The project's publisher gets twice its in-flight cap in concurrent publishes
 * (its own back-pressure holds the rest); raw amqplib, which has none, gets exactly its
 * window, as the reference of what a bounded producer costs.
 */
async function runOverload(
  client: ClientName,
  options: BenchOptions,
  offeredRate: number,
  settings: RunSettings,
): Promise<OverloadSummary> {
  const concurrency = client === 'project' ? 2 * options.window : options.window;
  const base = {
    client,
    label: CLIENT_LABELS[client],
    seconds: options.overloadSeconds,
    bodySize: 10 * 1024,
    queueType: 'quorum',
    offeredRate,
    maxInFlight: options.window,
    concurrency,
    memoryCapBytes: options.memoryCapBytes,
  };
  const where = `overload · ${CLIENT_LABELS[client]}`;
  try {
    return await withVhost(`overload-${client}`, async (url) => {
      await resetQueue(url, BENCH_QUEUE, 'quorum');
      const job: OverloadJob = {
        role: 'overload',
        client,
        url,
        queue: BENCH_QUEUE,
        seconds: options.overloadSeconds,
        offeredRate,
        bodySize: base.bodySize,
        window: options.window,
        concurrency,
      };
      const result = await runJob(job, { timeoutMs: options.overloadSeconds * 1000 + settings.timeoutMs });
      if (result.role !== 'overload') throw new Error(`expected an overload result, got ${result.role}`);
      const half = Math.floor(result.rssSamples.length / 2);
      const peakOf = (samples: readonly number[]) => (samples.length === 0 ? 0 : Math.max(...samples));
      const summary: OverloadSummary = {
        ...base,
        offered: result.offered,
        confirmed: result.confirmed,
        failed: result.failed,
        confirmedPerSecond: result.confirmed / options.overloadSeconds,
        maxPending: result.maxPending,
        readyRssBytes: result.readyRssBytes,
        peakRssBytes: result.maxRssBytes,
        firstHalfPeakRssBytes: peakOf(result.rssSamples.slice(0, half)),
        secondHalfPeakRssBytes: peakOf(result.rssSamples.slice(half)),
        withinCap: result.maxRssBytes <= options.memoryCapBytes,
      };
      say(
        `${where}: offered ${Math.round(offeredRate).toLocaleString('en-US')} msg/s, ` +
          `${Math.round(summary.confirmedPerSecond).toLocaleString('en-US')} msg/s confirmed, ` +
          `peak RSS ${(summary.peakRssBytes / MiB).toFixed(0)} MiB`,
      );
      return summary;
    });
  } catch (err) {
    say(`${where}: failed: ${messageOf(err)}`);
    return {
      ...base,
      offered: 0,
      confirmed: 0,
      failed: 0,
      confirmedPerSecond: 0,
      maxPending: 0,
      readyRssBytes: 0,
      peakRssBytes: 0,
      firstHalfPeakRssBytes: 0,
      secondHalfPeakRssBytes: 0,
      withinCap: false,
      error: messageOf(err),
    };
  }
}

/**
 * The startup scenario: every program as a fresh whole process, in a different order each
 * round, in a vhost of the round's own; `hello` is deleted after each program, so every
 * send and consumer declares it anew and nothing sent is left behind.
 */
async function runStartup(options: BenchOptions, settings: RunSettings): Promise<StartupSummary> {
  const { programs, skipped } = startupPrograms(
    options.quick ? { publish: 2000, drain: 1000 } : { publish: 100_000, drain: 50_000 },
  );
  for (const one of skipped) say(`startup: ${one.label} skipped: ${one.reason}`);
  const timed = hasGnuTime();
  if (!timed) say('startup: no /usr/bin/time here: wall time only (CPU and peak RSS of the consumers from /proc)');
  const outcomes = new Map<string, StartupOutcome[]>(programs.map((program) => [program.id, []]));
  for (let round = 1; round <= options.rounds; round++) {
    stopIfInterrupted();
    await withVhost(`startup-r${String(round)}`, async (url) => {
      for (const program of rotate(programs, round - 1)) {
        stopIfInterrupted();
        const where = `[round ${String(round)}/${String(options.rounds)}] startup · ${program.label}`;
        try {
          await prepareStartupRun(program, url);
          const run = await runStartupProgram(program, url, timed, settings.timeoutMs);
          outcomes.get(program.id)?.push({ round, ok: true, run });
          say(
            `${where}: ${run.wallMs.toFixed(0)} ms` +
              (run.cpuMs === undefined ? '' : `, CPU ${run.cpuMs.toFixed(0)} ms`) +
              (run.peakRssBytes === undefined ? '' : `, peak RSS ${(run.peakRssBytes / MiB).toFixed(0)} MiB`),
          );
        } catch (err) {
          outcomes.get(program.id)?.push({ round, ok: false, error: messageOf(err) });
          say(`${where}: failed: ${messageOf(err)}`);
        }
        await cleanUpStartupRun(program, url);
      }
    });
  }
  return summarizeStartup(programs, outcomes, timed ? 'gnu-time' : 'wall-only', skipped);
}

/** What the cluster scenarios run on: the cluster, or why there is none. */
interface ClusterState {
  readonly cluster?: BenchCluster | undefined;
  readonly clusterError?: string | undefined;
}

/** One round: every scenario, each with every client in turn, in a vhost of its own. */
async function runRound(
  round: number,
  scenarios: readonly Scenario[],
  clients: readonly ClientName[],
  outcomes: ReadonlyMap<ScenarioId, Map<ClientName, RoundOutcome[]>>,
  options: BenchOptions,
  settings: RunSettings,
  { cluster, clusterError }: ClusterState,
): Promise<void> {
  for (const [index, scenario] of scenarios.entries()) {
    stopIfInterrupted();
    const record = outcomes.get(scenario.id) as Map<ClientName, RoundOutcome[]>;
    const onCluster = scenario.cluster === undefined ? undefined : cluster;
    if (scenario.cluster !== undefined && onCluster === undefined) {
      for (const client of clients) record.get(client)?.push({ round, ok: false, error: clusterError ?? 'no cluster' });
      continue;
    }
    let rate: number | undefined;
    if (scenario.id === 'e2e-half-rate') {
      const raw = outcomes
        .get('e2e')
        ?.get(BASELINE)
        ?.find((outcome) => outcome.round === round);
      if (raw?.ok !== true) {
        for (const client of clients)
          record.get(client)?.push({ round, ok: false, error: 'no raw amqplib end-to-end rate in this round' });
        continue;
      }
      rate = raw.measurement.messagesPerSecond / 2;
    }
    const count =
      rate !== undefined
        ? Math.max(100, Math.round(rate * options.pacedSeconds))
        : scenario.id === 'publish-quorum-10k'
          ? options.largeCount
          : options.count;
    const label = `${scenario.id}-r${String(round)}`;
    const inVhost = (fn: (endpoints: Endpoints, clusterVhost?: string) => Promise<void>): Promise<void> =>
      onCluster === undefined ? withVhost(label, (url) => fn(singleNode(url))) : onCluster.withVhost(label, fn);
    await inVhost(async (endpoints, clusterVhost) => {
      for (const client of rotate(clientsFor(scenario, clients), round - 1 + index)) {
        stopIfInterrupted();
        const where = `[round ${String(round)}/${String(options.rounds)}] ${scenario.id} · ${CLIENT_LABELS[client]}`;
        try {
          let measurement = await measure(scenario, client, endpoints, count, settings, { round, rate });
          if (onCluster !== undefined && clusterVhost !== undefined)
            measurement = { ...measurement, ...(await placementAfterRun(onCluster, clusterVhost)) };
          record.get(client)?.push({ round, ok: true, measurement });
          say(
            `${where}: ${Math.round(measurement.messagesPerSecond).toLocaleString('en-US')} msg/s, ` +
              `${measurement.cpuMicrosPerMessage.toFixed(1)} µs CPU/msg, ` +
              `peak RSS ${(measurement.peakRssBytes / MiB).toFixed(0)} MiB` +
              (onCluster === undefined || measurement.leaderNode === undefined
                ? ''
                : `, leader on ${nodeLabel(onCluster.layout, measurement.leaderNode)}`),
          );
        } catch (err) {
          record.get(client)?.push({ round, ok: false, error: messageOf(err) });
          say(`${where}: failed: ${messageOf(err)}`);
        }
      }
    });
  }
}

async function bench(options: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const loadBefore = os.loadavg()[0] ?? 0;
  const url = brokerUrl();
  await requireBroker(url);
  const broker = await serverVersion(url);

  const availability: ClientAvailability[] = [];
  for (const client of options.clients) {
    const probe = await probeClient(client);
    availability.push({ client, label: CLIENT_LABELS[client], ...probe });
    if (!probe.available) say(`${CLIENT_LABELS[client]}: unavailable (${probe.reason})`);
  }
  const clients = availability.filter((one) => one.available).map((one) => one.client);
  if (!clients.includes(BASELINE)) throw new Error('raw amqplib, the baseline, does not load');

  const settings: RunSettings = {
    window: options.window,
    prefetch: options.prefetch,
    timeoutMs: options.quick ? 60_000 : 180_000,
    profileDir: options.profile ? join(options.outDir, 'profiles') : undefined,
  };
  const scenarios = SCENARIOS.filter((scenario) => options.scenarios.includes(scenario.id));
  const outcomes = new Map<ScenarioId, Map<ClientName, RoundOutcome[]>>(
    scenarios.map((scenario) => [scenario.id, new Map(clientsFor(scenario, clients).map((client) => [client, []]))]),
  );
  say(
    `benchmark: ${broker} at ${redacted(url)}, ${String(options.rounds)} round(s), ` +
      `${scenarios.length.toString()} scenario(s), ` +
      `clients: ${clients.map((client) => CLIENT_LABELS[client]).join(', ')}`,
  );

  // Once for the whole run, before the first round: booting takes both cores for a while.
  const { cluster, error: clusterError } = scenarios.some((scenario) => scenario.cluster !== undefined)
    ? await bootCluster()
    : {};
  try {
    for (let round = 1; round <= options.rounds; round++)
      await runRound(round, scenarios, clients, outcomes, options, settings, { cluster, clusterError });
  } finally {
    // Before the overload check: three idle nodes are not nothing on two cores.
    await stopCluster();
  }

  const summaries = scenarios.map((scenario) =>
    summarizeScenario(
      scenario,
      clientsFor(scenario, clients),
      outcomes.get(scenario.id) ?? new Map(),
      scenario.cluster === undefined
        ? undefined
        : { layout: cluster?.layout, singleNode: outcomes.get(scenario.cluster.comparedWith) ?? new Map() },
    ),
  );

  // Before the overload check, after the rounds of the others: alone on the machine as far as this benchmark goes.
  const startup = options.startup ? await runStartup(options, settings) : undefined;

  const overload: OverloadSummary[] = [];
  if (options.overload && clients.includes('project')) {
    const rawLarge = summaries
      .find((summary) => summary.id === 'publish-quorum-10k')
      ?.clients.find((summary) => summary.client === BASELINE);
    // Ten times what the broker took from raw amqplib in the 10 KB scenario (without that
    // scenario, ten times a rate a 2-core machine does not reach).
    const offeredRate = 10 * (rawLarge?.messagesPerSecond?.median ?? 10_000);
    for (const client of ['project', BASELINE] as const)
      overload.push(await runOverload(client, options, offeredRate, settings));
  }

  return {
    meta: {
      startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
      quick: options.quick,
      rounds: options.rounds,
      node: process.versions.node,
      broker,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAverage: { start: loadBefore, end: os.loadavg()[0] ?? 0 },
      settings: {
        count: options.count,
        largeCount: options.largeCount,
        window: options.window,
        prefetch: options.prefetch,
        pacedSeconds: options.pacedSeconds,
        overloadSeconds: options.overloadSeconds,
      },
    },
    clients: availability,
    scenarios: summaries,
    overload,
    startup,
    goals: evaluateGoals(
      summaries,
      overload.find((one) => one.client === 'project'),
    ),
  };
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    return 64;
  }
  if (options === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  const chosen = options;
  const results = await (options.quick ? withSharedVhost(() => bench(chosen)) : bench(chosen));
  const markdown = renderMarkdown(results);
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(options.outDir, 'latest.md'), markdown);
  await writeFile(join(options.outDir, 'chart.svg'), await renderChart(results));
  process.stdout.write(`${markdown}\n`);
  say(
    `bench: wrote latest.json, latest.md and chart.svg to ${options.outDir} ` +
      `(${results.meta.durationSeconds.toFixed(0)} s)`,
  );
  return 0;
}

/**
 * Ctrl+C (or a SIGTERM from whatever runs the benchmark): no runner, vhost or cluster node
 * left behind. The nodes run in sessions of their own, so only this stops them; a second
 * signal does not cut that short (tsx may relay the terminal's own once more).
 */
function onSignal(exitCode: number): void {
  if (interruptedAt !== undefined) {
    if (Date.now() - interruptedAt > 1000)
      say("bench: still cleaning up (the cluster's nodes take a few seconds to stop)");
    return;
  }
  interruptedAt = Date.now();
  say(`bench: interrupted; cleaning up${activeCluster === undefined ? '' : " (stopping the cluster's nodes)"}`);
  killRunners();
  killStartupChildren();
  void Promise.allSettled([activeVhost?.dispose(), activeCluster?.stop()])
    .then(() => killClusterLeftovers())
    .finally(() => process.exit(exitCode));
}
process.on('SIGINT', () => {
  onSignal(130);
});
process.on('SIGTERM', () => {
  onSignal(143);
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Interrupted: the signal's handler cleans up and exits.
    if (interruptedAt !== undefined) return;
    killRunners();
    killStartupChildren();
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
