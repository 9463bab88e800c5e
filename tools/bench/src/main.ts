/**
 * `pnpm bench`: the project's publish and consume paths side by side with raw amqplib and
 * the peer clients, against the broker at AMQP_URL. See ../README.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { brokerUrl, redacted, requireBroker, type TestVhost } from '@hello-rabbit/testkit';
import { BENCH_QUEUE, createBenchVhost, resetQueue, serverVersion } from './broker.js';
import { killRunners, runJob } from './child.js';
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
import { measure, SCENARIOS, type RunSettings, type ScenarioId } from './scenarios.js';

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
 * The overload check: `client` is offered ten times what the broker takes, and its peak RSS
 * is measured. The project's publisher gets twice its in-flight cap in concurrent publishes
 * (its own back-pressure holds the rest); raw amqplib, which has none, gets exactly its
 * window, as the reference of what a bounded producer costs.
 */
async function runOverload(client: ClientName, options: BenchOptions, offeredRate: number, settings: RunSettings): Promise<OverloadSummary> {
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
        `${where}: offered ${Math.round(offeredRate).toLocaleString('en-US')} msg/s, ${Math.round(summary.confirmedPerSecond).toLocaleString('en-US')} msg/s confirmed, ` +
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
    scenarios.map((scenario) => [scenario.id, new Map(clients.map((client) => [client, []]))]),
  );
  say(
    `benchmark: ${broker} at ${redacted(url)}, ${String(options.rounds)} round(s), ${scenarios.length.toString()} scenario(s), ` +
      `clients: ${clients.map((client) => CLIENT_LABELS[client]).join(', ')}`,
  );

  for (let round = 1; round <= options.rounds; round++) {
    for (const [index, scenario] of scenarios.entries()) {
      const record = outcomes.get(scenario.id) as Map<ClientName, RoundOutcome[]>;
      let rate: number | undefined;
      if (scenario.id === 'e2e-half-rate') {
        const raw = outcomes.get('e2e')?.get(BASELINE)?.find((outcome) => outcome.round === round);
        if (raw?.ok !== true) {
          for (const client of clients) record.get(client)?.push({ round, ok: false, error: "no raw amqplib end-to-end rate in this round" });
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
      await withVhost(`${scenario.id}-r${String(round)}`, async (url) => {
        for (const client of rotate(clients, round - 1 + index)) {
          const where = `[round ${String(round)}/${String(options.rounds)}] ${scenario.id} · ${CLIENT_LABELS[client]}`;
          try {
            const measurement = await measure(scenario, client, url, count, settings, { round, rate });
            record.get(client)?.push({ round, ok: true, measurement });
            say(
              `${where}: ${Math.round(measurement.messagesPerSecond).toLocaleString('en-US')} msg/s, ` +
                `${measurement.cpuMicrosPerMessage.toFixed(1)} µs CPU/msg, peak RSS ${(measurement.peakRssBytes / MiB).toFixed(0)} MiB`,
            );
          } catch (err) {
            record.get(client)?.push({ round, ok: false, error: messageOf(err) });
            say(`${where}: failed: ${messageOf(err)}`);
          }
        }
      });
    }
  }

  const summaries = scenarios.map((scenario) => summarizeScenario(scenario, clients, outcomes.get(scenario.id) ?? new Map()));

  const overload: OverloadSummary[] = [];
  if (options.overload && clients.includes('project')) {
    const rawLarge = summaries.find((summary) => summary.id === 'publish-quorum-10k')?.clients.find((summary) => summary.client === BASELINE);
    // Ten times what the broker took from raw amqplib in the 10 KB scenario (without that
    // scenario, ten times a rate a 2-core machine does not reach).
    const offeredRate = 10 * (rawLarge?.messagesPerSecond?.median ?? 10_000);
    for (const client of ['project', BASELINE] as const) overload.push(await runOverload(client, options, offeredRate, settings));
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
    goals: evaluateGoals(summaries, overload.find((one) => one.client === 'project')),
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
  say(`bench: wrote latest.json, latest.md and chart.svg to ${options.outDir} (${results.meta.durationSeconds.toFixed(0)} s)`);
  return 0;
}

/** Ctrl+C: no runner or vhost left behind. */
process.once('SIGINT', () => {
  killRunners();
  const vhost = activeVhost;
  const exit = () => process.exit(130);
  if (vhost === undefined) exit();
  else vhost.dispose().then(exit, exit);
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    killRunners();
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
