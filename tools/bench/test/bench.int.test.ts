import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBroker } from '@hello-rabbit/testkit';
import { CLUSTER_SCENARIO_IDS, SCENARIO_IDS } from '../src/scenarios.js';
import type { BenchResults } from '../src/results.js';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(packageDir, 'node_modules', '.bin', 'tsx');

// A smoke run: the benchmark goes end to end and writes well-formed results. Its figures
// are never asserted (timing is measured by the benchmark, not by tests).
describe('pnpm bench --quick', () => {
  let out: string;
  let stdout: string;
  let results: BenchResults;

  beforeAll(async () => {
    await requireBroker();
    out = await mkdtemp(join(tmpdir(), 'bench-'));
    ({ stdout } = await run(tsx, ['src/main.ts', '--quick', '--out', out], { cwd: packageDir, timeout: 300_000 }));
    results = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as BenchResults;
  }, 310_000);

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('measures every scenario but the cluster one for the project and raw amqplib, and says which peers ran', () => {
    expect(results.meta).toMatchObject({ quick: true, rounds: 1 });
    // The cluster scenario has a test of its own (cluster.int.test.ts): it boots three nodes.
    expect(results.scenarios.map((scenario) => scenario.id)).toEqual(
      SCENARIO_IDS.filter((id) => !CLUSTER_SCENARIO_IDS.includes(id)),
    );
    for (const scenario of results.scenarios) {
      for (const client of ['project', 'amqplib'] as const) {
        const summary = scenario.clients.find((one) => one.client === client);
        expect(summary?.errors, `${scenario.id} ${client}`).toEqual([]);
        expect(summary?.rounds, `${scenario.id} ${client}`).toBe(1);
        expect(summary?.messagesPerSecond?.median, `${scenario.id} ${client}`).toBeGreaterThan(0);
        expect(summary?.cpuMicrosPerMessage, `${scenario.id} ${client}`).toBeGreaterThan(0);
        expect(summary?.peakRssBytes, `${scenario.id} ${client}`).toBeGreaterThan(0);
      }
      const raw = scenario.clients.find((one) => one.client === 'amqplib');
      if (scenario.ratioOf === 'throughput') expect(raw?.throughputRatio).toBe(1);
      else expect(raw?.p99Ratio).toBe(1);
    }
    const names = results.clients.map((client) => client.client);
    expect(names).toEqual([
      'project',
      'project-redis',
      'amqplib',
      'amqplib-mandatory',
      'rabbitmq-client',
      'amqp-connection-manager',
    ]);
    // The project's path with the Redis dedup store runs where the store works, consume and end to end,
    // and nowhere else.
    for (const scenario of results.scenarios) {
      const shared = scenario.clients.find((one) => one.client === 'project-redis');
      if (scenario.id === 'consume' || scenario.id === 'e2e') {
        expect(shared?.errors, scenario.id).toEqual([]);
        expect(shared?.messagesPerSecond?.median, scenario.id).toBeGreaterThan(0);
      } else {
        expect(shared, scenario.id).toBeUndefined();
      }
    }
    // The reference (raw amqplib with the mandatory flag) runs where the flag differs, the publishes, and nowhere else.
    for (const scenario of results.scenarios) {
      const reference = scenario.clients.find((one) => one.client === 'amqplib-mandatory');
      if (scenario.id.startsWith('publish-')) {
        expect(reference?.errors, scenario.id).toEqual([]);
        expect(reference?.messagesPerSecond?.median, scenario.id).toBeGreaterThan(0);
        expect(scenario.clients.find((one) => one.client === 'project')?.referenceRatio, scenario.id).toBeGreaterThan(
          0,
        );
      } else {
        expect(reference, scenario.id).toBeUndefined();
      }
    }
    for (const client of results.clients) {
      if (!client.available) expect(client.reason).toBeTruthy();
    }
  });

  it('records latencies where there are any', () => {
    const e2e = results.scenarios.find((scenario) => scenario.id === 'e2e');
    const latency = e2e?.clients.find((one) => one.client === 'project')?.latency;
    expect(latency?.count).toBe(results.meta.settings.count);
    expect(latency?.p99Ms).toBeGreaterThan(0);
  });

  it('runs the overload check and judges every goal', () => {
    expect(results.overload.map((one) => one.client)).toEqual(['project', 'amqplib']);
    for (const one of results.overload) {
      expect(one.error, one.client).toBeUndefined();
      expect(one.peakRssBytes, one.client).toBeGreaterThan(0);
    }
    expect(results.goals.length).toBeGreaterThan(0);
    for (const goal of results.goals) expect(typeof goal.met).toBe('boolean');
  });

  it('writes the Markdown table and prints it', async () => {
    const markdown = await readFile(join(out, 'latest.md'), 'utf8');
    expect(markdown).toContain('| scenario | client | msg/s median |');
    const lines = markdown.split('\n');
    const header = lines.findIndex((line) => line.startsWith('| scenario | client |'));
    const end = lines.indexOf('', header);
    // Header and separator, then a row per scenario and available client.
    const rows = lines.slice(header + 2, end);
    const available = new Set(results.clients.filter((client) => client.available).map((client) => client.client));
    expect(rows).toHaveLength(
      results.scenarios.reduce(
        (sum, scenario) => sum + scenario.clients.filter((one) => available.has(one.client)).length,
        0,
      ),
    );
    for (const row of rows) expect(row.split(' | ')).toHaveLength(11);
    expect(stdout).toContain('| scenario | client | msg/s median |');
    expect(markdown).toContain('## What the mandatory flag costs');
    expect(markdown).toContain('## What the shared dedup store costs');
  });

  it('starts the project and raw amqplib as whole processes: a send, --help, a consumer to ready', async () => {
    const programs = results.startup?.programs ?? [];
    for (const id of [
      'project-send',
      'amqplib-send',
      'producer-help',
      'consumer-help',
      'node',
      'project-ready',
      'amqplib-ready',
    ]) {
      const program = programs.find((one) => one.id === id);
      expect(program?.errors, id).toEqual([]);
      expect(program?.rounds, id).toBe(1);
      expect(program?.wallMs?.median, id).toBeGreaterThan(0);
      expect(program?.peakRssBytes, id).toBeGreaterThan(0);
    }
    expect(programs.find((one) => one.id === 'amqplib-send')?.wallRatio).toBe(1);
    expect(programs.find((one) => one.id === 'project-send')?.wallRatio).toBeGreaterThan(0);
    // pika runs where a Python with pika is, and is otherwise named as skipped.
    const pikaRan = programs.some((one) => one.id === 'pika-send');
    expect(pikaRan || results.startup?.skipped.some((one) => one.label.includes('pika'))).toBe(true);

    const markdown = await readFile(join(out, 'latest.md'), 'utf8');
    const section = markdown.slice(markdown.indexOf('## Starting up'));
    expect(markdown).toContain('## Starting up');
    const row = (label: string) => section.split('\n').find((line) => line.includes(`| ${label}`));
    for (const label of [
      'hello-rabbit producer',
      'raw amqplib script (base)',
      'hello-rabbit consumer',
      'raw amqplib consumer (base)',
      'node -e 0 (base)',
    ]) {
      // The wall time's median is a number, not '–' or 'failed'.
      expect(row(label)?.split(' | ')[2], label).toMatch(/^\d+$/);
    }
  });

  it('draws the chart as a standalone SVG', async () => {
    const svg = await readFile(join(out, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('hello-rabbit');
    expect(svg).toContain('raw amqplib');
  });
});
