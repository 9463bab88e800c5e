import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBroker } from '@hello-rabbit/testkit';
import type { BenchResults, ScenarioSummary } from '../src/results.js';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(packageDir, 'node_modules', '.bin', 'tsx');

/** Processes whose environment names one of `nodes` as theirs: a node left running. */
function processesOf(nodes: readonly string[]): number[] {
  const marks = nodes.map((name) => `RABBITMQ_NODENAME=${name}`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.some((variable) => marks.includes(variable))) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

// The cluster scenario once, with tiny counts, beside the single-node run it is compared
// with: the benchmark boots its own three nodes, measures, reports and stops them. Its
// figures are never asserted.
describe('pnpm bench --quick --scenarios e2e-cluster', () => {
  let out: string;
  let stderr: string;
  let results: BenchResults;
  let cluster: ScenarioSummary;

  beforeAll(async () => {
    await requireBroker();
    out = await mkdtemp(join(tmpdir(), 'bench-cluster-'));
    ({ stderr } = await run(
      tsx,
      [
        'src/main.ts',
        '--quick',
        '--scenarios',
        'e2e-cluster',
        '--clients',
        'project,amqplib',
        '--count',
        '300',
        '--out',
        out,
      ],
      { cwd: packageDir, timeout: 170_000 },
    ));
    results = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as BenchResults;
    const found = results.scenarios.find((scenario) => scenario.id === 'e2e-cluster');
    if (found === undefined) throw new Error('no e2e-cluster results');
    cluster = found;
  }, 180_000);

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('runs the single-node end-to-end scenario too, and both clients on both', () => {
    expect(results.scenarios.map((scenario) => scenario.id)).toEqual(['e2e', 'e2e-cluster']);
    for (const scenario of results.scenarios) {
      for (const summary of scenario.clients) {
        expect(summary.errors, `${scenario.id} ${summary.client}`).toEqual([]);
        expect(summary.rounds, `${scenario.id} ${summary.client}`).toBe(1);
        expect(summary.messagesPerSecond?.median, `${scenario.id} ${summary.client}`).toBeGreaterThan(0);
      }
    }
    expect(results.overload).toEqual([]);
  });

  it('connects the producer and the consumer to two nodes; reports where the quorum queue and its leader were', () => {
    const layout = cluster.cluster;
    expect(layout?.broker).toMatch(/^RabbitMQ \d/);
    expect(layout?.nodes).toHaveLength(3);
    const nodes = layout?.nodes ?? [];
    expect(new Set(nodes).size).toBe(3);
    expect(layout?.producerNode).not.toBe(layout?.consumerNode);
    expect(nodes).toContain(layout?.producerNode);
    expect(nodes).toContain(layout?.consumerNode);
    expect(nodes).toContain(layout?.declaredOn);
    // A quorum queue with a member on every node; its leader on one of them.
    expect([...(layout?.members ?? [])].sort()).toEqual([...nodes].sort());
    expect(layout?.leaders.length).toBeGreaterThan(0);
    for (const leader of layout?.leaders ?? []) expect(nodes).toContain(leader);
    for (const summary of cluster.clients) expect(nodes).toContain(summary.perRound[0]?.leaderNode);
  });

  it("gives each client's cluster rate as a ratio to its single-node rate, and to raw amqplib's on the cluster", () => {
    for (const summary of cluster.clients) expect(summary.singleNodeRatio, summary.client).toBeGreaterThan(0);
    expect(cluster.clients.find((summary) => summary.client === 'amqplib')?.throughputRatio).toBe(1);
    expect(cluster.clients.find((summary) => summary.client === 'project')?.throughputRatio).toBeGreaterThan(0);
    // The single-node scenario has no cluster figures.
    expect(results.scenarios[0]?.cluster).toBeUndefined();
  });

  it('puts the cluster beside the single node in the Markdown and the chart', async () => {
    const markdown = await readFile(join(out, 'latest.md'), 'utf8');
    const lines = markdown.split('\n');
    const header = lines.findIndex((line) => line.startsWith('| client | single node msg/s | cluster msg/s |'));
    expect(header).toBeGreaterThan(0);
    expect(lines.slice(0, header).some((line) => line === '## End to end on a 3-node cluster')).toBe(true);
    const rows = lines.slice(header + 2, lines.indexOf('', header));
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(['| hello-rabbit', '| raw amqplib']);
    for (const row of rows) expect(row.split(' | ')).toHaveLength(7);
    const svg = await readFile(join(out, 'chart.svg'), 'utf8');
    expect(svg).toContain('ratio to the single node');
  });

  it('stops every node it booted and removes their data', () => {
    const nodes = cluster.cluster?.nodes ?? [];
    expect(stderr).toContain('cluster: stopping its nodes');
    expect(processesOf(nodes)).toEqual([]);
    // testkit keeps a node's data in <tmp>/hello-rabbit-<label>-*, its label starting its name.
    const labels = nodes.map((name) => `hello-rabbit-${name.split('-').slice(0, 3).join('-')}`);
    const left = readdirSync(tmpdir()).filter((entry) => labels.some((label) => entry.startsWith(label)));
    expect(left).toEqual([]);
    expect(existsSync(out)).toBe(true);
  });
});
