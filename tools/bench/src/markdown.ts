import { nodeLabel } from './cluster.js';
import { REFERENCE, SHARED_STORE } from './jobs.js';
import type { BenchResults, ClientSummary, ScenarioSummary } from './results.js';

const MiB = 2 ** 20;

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function thousands(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : Math.round(value).toLocaleString('en-US');
}

function ms(value: number | undefined): string {
  if (value === undefined) return '–';
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function ratioCell(scenario: ScenarioSummary, summary: ClientSummary): string {
  if (scenario.ratioOf === 'p99') return summary.p99Ratio === null ? '–' : `p99 ×${summary.p99Ratio.toFixed(2)}`;
  return fixed(summary.throughputRatio, 2);
}

function rssCell(summary: ClientSummary): string {
  if (summary.producerPeakRssBytes !== undefined && summary.consumerPeakRssBytes !== undefined) {
    return `${(summary.producerPeakRssBytes / MiB).toFixed(0)} / ${(summary.consumerPeakRssBytes / MiB).toFixed(0)}`;
  }
  return summary.peakRssBytes === null ? '–' : (summary.peakRssBytes / MiB).toFixed(0);
}

/** The results table: one row per scenario and client. */
export function resultsTable(results: BenchResults): string {
  const lines = [
    '| scenario | client | msg/s median | msg/s min–max | ratio to raw | CPU µs/msg | CPU ratio | ' +
      'p50 ms | p99 ms | max ms | peak RSS MiB |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const scenario of results.scenarios) {
    for (const summary of scenario.clients) {
      const rate = summary.messagesPerSecond;
      const failed = summary.rounds === 0;
      lines.push(
        [
          '',
          scenario.title,
          summary.label,
          failed ? 'failed' : thousands(rate?.median),
          rate === null ? '–' : `${thousands(rate.min)}–${thousands(rate.max)}`,
          ratioCell(scenario, summary),
          fixed(summary.cpuMicrosPerMessage, 1),
          fixed(summary.cpuRatio, 2),
          ms(summary.latency?.p50Ms),
          ms(summary.latency?.p99Ms),
          ms(summary.latency?.maxMs),
          rssCell(summary),
          '',
        ]
          .join(' | ')
          .trim(),
      );
    }
  }
  return lines.join('\n');
}

/**
 * What asking for returns costs: raw amqplib with the `mandatory` flag beside raw amqplib
 * without it, and the project's path (which always sets it) against both.
 */
export function mandatorySection(results: BenchResults): string[] {
  const rows: string[] = [];
  for (const scenario of results.scenarios) {
    const reference = scenario.clients.find((summary) => summary.client === REFERENCE);
    const project = scenario.clients.find((summary) => summary.client === 'project');
    if (reference === undefined) continue;
    rows.push(
      `| ${scenario.title} | ${fixed(reference.throughputRatio, 2)} | ${fixed(project?.throughputRatio, 2)} | ` +
        `${fixed(project?.referenceRatio, 2)} |`,
    );
  }
  if (rows.length === 0) return [];
  return [
    '',
    '## What the mandatory flag costs',
    '',
    "The project's publisher sets `mandatory` on every message, so that one no queue takes comes " +
      'back (`returned`) instead of being confirmed and dropped; raw amqplib, the baseline, does not. ' +
      '*raw amqplib, mandatory* is raw amqplib with that flag and nothing else: the broker-side price of the ' +
      "guarantee, and the fair comparison for the project's path. Each figure is " +
      'the median over rounds of the per-round ratio of messages/s.',
    '',
    '| scenario | raw amqplib, mandatory / raw amqplib | hello-rabbit / raw amqplib | ' +
      'hello-rabbit / raw amqplib, mandatory |',
    '|---|--:|--:|--:|',
    ...rows,
  ];
}

/**
 * What the shared dedup store costs: the project's path with its store on Redis beside the
 * same path with the store in memory (the default), in consume and end to end.
 */
export function sharedStoreSection(results: BenchResults): string[] {
  const rows: string[] = [];
  for (const scenario of results.scenarios) {
    const redis = scenario.clients.find((summary) => summary.client === SHARED_STORE);
    const memory = scenario.clients.find((summary) => summary.client === 'project');
    if (redis === undefined || memory === undefined) continue;
    const rate = (summary: typeof redis) => summary.messagesPerSecond?.median ?? null;
    const over = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
    rows.push(
      `| ${scenario.title} | ${fixed(rate(memory), 0)} | ${fixed(rate(redis), 0)} | ` +
        `${fixed(over(rate(redis), rate(memory)), 2)} | ` +
        `${fixed(memory.cpuMicrosPerMessage, 1)} | ${fixed(redis.cpuMicrosPerMessage, 1)} | ` +
        `${fixed(redis.throughputRatio, 2)} |`,
    );
  }
  if (rows.length === 0) return [];
  return [
    '',
    '## What the shared dedup store costs',
    '',
    "The project's consumer claims each task in its dedup store before the handler and marks it done before the ack. " +
      '*in memory* is the default store (per process); *Redis* is the store every worker shares ' +
      "(`DEDUP_REDIS_URL`, here the machine's Redis on 127.0.0.1): two round trips to Redis per message. " +
      'messages/s and CPU µs per message are medians over rounds; *Redis / in memory* is the ratio of the two ' +
      'medians; the last column is the Redis run against raw amqplib, the ' +
      'median of the per-round ratio. CPU is the client process only (Redis spends its own).',
    '',
    '| scenario | in memory, msg/s | Redis, msg/s | Redis / in memory | ' +
      'in memory, CPU µs/msg | Redis, CPU µs/msg | Redis / raw amqplib |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...rows,
  ];
}

/**
 * Each cluster scenario beside the single-node one it is compared with: where each side
 * was, and every client's rate on both.
 */
export function clusterSections(results: BenchResults): string[] {
  const out: string[] = [];
  for (const scenario of results.scenarios) {
    const { cluster } = scenario;
    if (cluster === undefined) continue;
    const single = results.scenarios.find((one) => one.id === cluster.comparedWith);
    const at = (name: string) => nodeLabel(cluster, name);
    const leaders = cluster.leaders.length === 0 ? '(not reported)' : cluster.leaders.map(at).join(' or ');
    const members = cluster.members.length === 0 ? '(not reported)' : cluster.members.map(at).join(', ');
    out.push(
      '',
      `## End to end on a ${String(cluster.nodes.length)}-node cluster`,
      '',
      `The end-to-end run on a cluster of ${String(cluster.nodes.length)} private ${cluster.broker} nodes ` +
        `the benchmark booted on this machine (in ${cluster.bootSeconds.toFixed(0)} s; ` +
        `${cluster.nodes.map((name) => `${at(name)}: \`${name}\``).join(', ')}): ` +
        `the producer connected to ${at(cluster.producerNode)}, the consumer to ${at(cluster.consumerNode)}, ` +
        `the quorum queue declared through ${at(cluster.declaredOn)}, ` +
        `with members on ${members} and its leader on ${leaders} after the runs. ` +
        "*cluster / single node*: the median over rounds of the client's messages/s on the cluster " +
        `divided by its own on the single broker (\`${cluster.comparedWith}\`) in the same round. ` +
        `Both figures share this machine's two cores with everything else: ` +
        'three nodes on one machine measure what replication and the hops between nodes cost, ' +
        'not what three machines would give.',
      '',
      '| client | single node msg/s | cluster msg/s | cluster / single node | ' +
        'ratio to raw, single node | ratio to raw, cluster | p99 ms, single / cluster |',
      '|---|--:|--:|--:|--:|--:|--:|',
    );
    for (const summary of scenario.clients) {
      const alone = single?.clients.find((one) => one.client === summary.client);
      out.push(
        `| ${summary.label} | ${thousands(alone?.messagesPerSecond?.median)} | ` +
          `${summary.rounds === 0 ? 'failed' : thousands(summary.messagesPerSecond?.median)} | ` +
          `${fixed(summary.singleNodeRatio, 2)} | ${fixed(alone?.throughputRatio, 2)} | ` +
          `${fixed(summary.throughputRatio, 2)} | ` +
          `${ms(alone?.latency?.p99Ms)} / ${ms(summary.latency?.p99Ms)} |`,
      );
    }
  }
  return out;
}

/** The startup scenario: one table, a row per program, grouped by what is measured. */
export function startupSection(results: BenchResults): string[] {
  const { startup } = results;
  if (startup === undefined) return [];
  const wallOnly = startup.measuredWith === 'wall-only';
  const out = [
    '',
    '## Starting up',
    '',
    "Whole processes, as deployed: `node apps/producer/dist/main.js 'Hello World!'` (connect, declare or adopt " +
      '`hello`, one confirmed publish, close) beside a raw amqplib script doing the same (`createConfirmChannel`, ' +
      "`assertQueue('hello', {durable: false})`, one persistent mandatory publish, `waitForConfirms`, " +
      "close) and the tutorial's pika `send.py` (which publishes without confirms); `producer --help` and " +
      "`consumer --help` beside Node's own start (`node -e 0`); and the time from spawning a consumer to its " +
      "line ` [*] Waiting for messages`, the project's (`--from hello`) beside a raw amqplib consumer; whole " +
      'processes at work: `producer --to task_queue --count N` beside a raw amqplib publisher (the same messages, ' +
      'persistent, mandatory, at most 1,000 awaiting their confirm), and a consumer from spawn to the last of N ' +
      'messages of `hello` printed beside a raw amqplib consumer with the same prefetch printing the same lines. The ' +
      "programs alternate within each round, each in a fresh process, against a vhost of the round's own. *Wall*: " +
      'spawn to exit (consumers: spawn to the waiting line, or to the last message), measured by the benchmark. ' +
      (wallOnly
        ? '*CPU* and *peak RSS*: no `/usr/bin/time` on this machine, so none for the programs that run to their end; ' +
          "the consumers' from /proc at the waiting line. "
        : "*CPU* (user + system) and *peak RSS* of the child: GNU time's (`/usr/bin/time -f '%e %U %S %M'`); " +
          "the consumers': /proc at the waiting line. ") +
      '*ratio*: the median over rounds of the per-round ratio of wall times to the row marked *base* ' +
      '(raw amqplib; `node -e 0` for `--help`).',
    '',
    '| measured | program | wall ms median | wall ms min–max | ratio to base | ratio to pika | ' +
      'CPU ms | CPU ratio | peak RSS MiB |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const program of startup.programs) {
    const group = startup.groups[program.group];
    const base = group.baseline === program.id;
    const wall = program.wallMs;
    out.push(
      [
        '',
        group.title,
        `${program.label}${base ? ' (base)' : ''}`,
        program.rounds === 0 ? 'failed' : fixed(wall?.median, 0),
        wall === null ? '–' : `${fixed(wall.min, 0)}–${fixed(wall.max, 0)}`,
        fixed(program.wallRatio, 2),
        fixed(program.wallRatioToPika, 2),
        fixed(program.cpuMs?.median, 0),
        fixed(program.cpuRatio, 2),
        program.peakRssBytes === null ? '–' : (program.peakRssBytes / MiB).toFixed(0),
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  for (const one of startup.skipped) out.push('', `- ${one.label}: skipped (${one.reason})`);
  const errors = startup.programs.flatMap((program) => program.errors.map((error) => `- ${program.label}, ${error}`));
  if (errors.length > 0) out.push('', '### Failed startup runs', '', ...errors);
  return out;
}

/** The whole report: the table, the goals, the overload check, the machine. */
export function renderMarkdown(results: BenchResults): string {
  const { meta } = results;
  const out: string[] = [];
  out.push(`# Benchmark results${meta.quick ? ' (quick smoke run: figures not meaningful)' : ''}`);
  out.push('');
  out.push(
    `${meta.broker} on ${meta.platform}, ${String(meta.cpus)} × ${meta.cpuModel}, Node ${meta.node}; ` +
      `${meta.startedAt}, ${String(meta.rounds)} round${meta.rounds === 1 ? '' : 's'} ` +
      `in ${meta.durationSeconds.toFixed(0)} s. ` +
      `Persistent messages, publisher confirms, at most ${String(meta.settings.window)} unconfirmed, ` +
      `prefetch ${String(meta.settings.prefetch)}; ` +
      `${meta.settings.count.toLocaleString('en-US')} messages a run ` +
      `(${meta.settings.largeCount.toLocaleString('en-US')} of 10 KB). ` +
      'Clients alternate within each round; each run is a fresh process (end to end: two). ' +
      `Load average ${meta.loadAverage.start.toFixed(1)} at the start, ${meta.loadAverage.end.toFixed(1)} at the end.`,
  );
  // A run of the startup scenario alone has no messages/s to tabulate.
  if (results.scenarios.length > 0) {
    out.push('');
    out.push(resultsTable(results));
    out.push('');
    out.push(
      "*ratio to raw*: the median over rounds of the client's messages/s divided by raw amqplib's in the same round " +
        "(higher is better); for the half-rate run, its p99 latency divided by the raw pair's (lower is better). " +
        "*CPU*: user + system time of the client's process per message (end to end: producer and consumer together). " +
        '*Latency*: publish to confirm (publishes), publish to delivery (end to end), every round together. ' +
        '*Peak RSS*: the measuring process (end to end: producer / consumer), Node and tsx included.',
    );
  }
  const unavailable = results.clients.filter((client) => !client.available);
  if (unavailable.length > 0) {
    out.push('');
    for (const client of unavailable) out.push(`- ${client.label}: unavailable (${client.reason ?? 'did not load'})`);
  }
  const errors = results.scenarios.flatMap((scenario) =>
    scenario.clients.flatMap((summary) =>
      summary.errors.map((error) => `- ${scenario.title}, ${summary.label}, ${error}`),
    ),
  );
  if (errors.length > 0) {
    out.push('', '### Failed runs', '', ...errors);
  }

  out.push(...mandatorySection(results));
  out.push(...sharedStoreSection(results));
  out.push(...clusterSections(results));
  out.push(...startupSection(results));

  if (results.overload.length > 0) {
    const [first] = results.overload;
    out.push('', '## Overload', '');
    if (first !== undefined) {
      out.push(
        `Offered ${thousands(first.offeredRate)} msg/s of ${String(first.bodySize / 1024)} KB ` +
          `to a ${first.queueType} queue for ${String(first.seconds)} s: ` +
          'ten times what the broker took from raw amqplib. What a client has not taken yet is a backlog count, ' +
          "never a buffer; the project's publisher is given twice its in-flight cap in concurrent publishes (its " +
          'back-pressure holds the rest), raw amqplib exactly its window. ' +
          `The cap is ${(first.memoryCapBytes / MiB).toFixed(0)} MiB of peak RSS (\`--memory-cap-mb\`).`,
        '',
        '| client | confirmed msg/s | concurrent publishes | in flight at most | RSS connected MiB | ' +
          'peak 1st half | peak 2nd half | peak RSS MiB | |',
        '|---|--:|--:|--:|--:|--:|--:|--:|---|',
      );
    }
    for (const o of results.overload) {
      if (o.error !== undefined) {
        out.push(`| ${o.label} | failed: ${o.error.split('\n')[0] ?? ''} | | | | | | | |`);
        continue;
      }
      out.push(
        `| ${o.label} | ${thousands(o.confirmedPerSecond)} | ${String(o.concurrency)} | ${String(o.maxInFlight)} | ` +
          `${(o.readyRssBytes / MiB).toFixed(0)} | ${(o.firstHalfPeakRssBytes / MiB).toFixed(0)} | ` +
          `${(o.secondHalfPeakRssBytes / MiB).toFixed(0)} | ` +
          `${(o.peakRssBytes / MiB).toFixed(0)} | ${o.withinCap ? 'within the cap' : '**over the cap**'} |`,
      );
    }
  }

  if (results.goals.length > 0) {
    out.push('', "## Goals (the project's path)", '', '| goal | value | target | |', '|---|--:|--:|---|');
    for (const goal of results.goals) {
      out.push(`| ${goal.goal} | ${fixed(goal.value, 2)} | ${goal.target} | ${goal.met ? 'met' : '**short**'} |`);
    }
  }
  out.push('');
  return out.join('\n');
}
