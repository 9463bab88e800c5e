import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLIENTS, type ClientName } from './jobs.js';
import { CLUSTER_SCENARIO_IDS, SCENARIO_IDS, type ScenarioId } from './scenarios.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface BenchOptions {
  readonly quick: boolean;
  readonly rounds: number;
  /** Messages per measurement: 100-byte publishes, consume, end to end. */
  readonly count: number;
  /** Messages per measurement of 10 KB publishes. */
  readonly largeCount: number;
  /** Length of each paced (half-rate) end-to-end run. */
  readonly pacedSeconds: number;
  readonly overloadSeconds: number;
  /** The overload check passes when the project's peak RSS stays under this. */
  readonly memoryCapBytes: number;
  readonly window: number;
  readonly prefetch: number;
  readonly clients: readonly ClientName[];
  readonly scenarios: readonly ScenarioId[];
  readonly overload: boolean;
  /** The startup scenario: whole processes (a one-shot send, --help, a consumer to ready). */
  readonly startup: boolean;
  /** Where latest.json, latest.md and chart.svg go. */
  readonly outDir: string;
  /** Write a CPU profile of every runner to <out>/profiles. */
  readonly profile: boolean;
}

export const USAGE = `Usage: pnpm bench [options]

Runs every scenario for the project's path, raw amqplib and the peer clients, alternating
them in each round, and writes results/latest.json, latest.md and chart.svg.

Options:
  --quick                 smoke run: 1 round, small counts, results in results/quick/; leaves out
                          ${CLUSTER_SCENARIO_IDS.join(', ')} (which boots a 3-node cluster) unless --scenarios names it
  --rounds <n>            rounds (default 5; quick 1)
  --count <n>             messages per run for 100-byte publishes, consume and end to end
                          (default 25000; quick 1000)
  --large-count <n>       messages per run for 10 KB publishes (default 10000; quick 300)
  --paced-seconds <s>     length of each half-rate end-to-end run (default 4; quick 1)
  --overload-seconds <s>  length of the overload check (default 6; quick 1.5)
  --memory-cap-mb <n>     the overload check's cap on peak RSS (default 384)
  --clients <list>        comma-separated, of: ${CLIENTS.join(', ')}
  --scenarios <list>      comma-separated, of: ${SCENARIO_IDS.join(', ')}, startup, overload
                          (e2e-half-rate and e2e-cluster bring e2e along: they are compared with it)
  --out <dir>             output directory (default tools/bench/results)
  --profile               write a V8 CPU profile of every run to <out>/profiles
                          (summarize one with: pnpm --filter @hello-rabbit/bench profile <file>)
  -h, --help              this text
`;

export class UsageError extends Error {}

function positive(name: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return parsed;
}

function list<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (unknown.length > 0)
    throw new UsageError(`--${name}: unknown ${unknown.join(', ')} (expected some of ${allowed.join(', ')})`);
  return items as T[];
}

/** Parses the command line; `undefined` when help was asked for. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        rounds: { type: 'string' },
        count: { type: 'string' },
        'large-count': { type: 'string' },
        'paced-seconds': { type: 'string' },
        'overload-seconds': { type: 'string' },
        'memory-cap-mb': { type: 'string' },
        clients: { type: 'string' },
        scenarios: { type: 'string' },
        out: { type: 'string' },
        profile: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return undefined;
  const quick = values.quick;
  const clients = list('clients', values.clients, CLIENTS) ?? [...CLIENTS];
  if (!clients.includes('amqplib'))
    throw new UsageError('--clients: amqplib is the baseline of every ratio and cannot be left out');
  const asked = list('scenarios', values.scenarios, [...SCENARIO_IDS, 'startup', 'overload'] as const);
  // The half-rate run is paced at half the rate the raw pair reached in the full-rate run;
  // the cluster's rates are divided by the single node's of the same round.
  const scenarios =
    asked?.some((id) => id === 'e2e-half-rate' || id === 'e2e-cluster') === true ? [...asked, 'e2e' as const] : asked;
  // The quick run is CI's smoke test: booting a cluster would double its time.
  const defaults = quick ? SCENARIO_IDS.filter((id) => !CLUSTER_SCENARIO_IDS.includes(id)) : [...SCENARIO_IDS];
  return {
    quick,
    rounds: positive('rounds', values.rounds, quick ? 1 : 5),
    count: positive('count', values.count, quick ? 1000 : 25_000),
    largeCount: positive('large-count', values['large-count'], quick ? 300 : 10_000),
    pacedSeconds: positive('paced-seconds', values['paced-seconds'], quick ? 1 : 4, false),
    overloadSeconds: positive('overload-seconds', values['overload-seconds'], quick ? 1.5 : 6, false),
    memoryCapBytes: positive('memory-cap-mb', values['memory-cap-mb'], 384, false) * 1024 * 1024,
    window: 1000,
    prefetch: 1000,
    clients,
    scenarios: scenarios === undefined ? defaults : SCENARIO_IDS.filter((id) => scenarios.includes(id)),
    overload: scenarios === undefined || scenarios.includes('overload'),
    startup: scenarios === undefined || scenarios.includes('startup'),
    outDir: resolve(values.out ?? resolve(packageDir, quick ? 'results/quick' : 'results')),
    profile: values.profile,
  };
}
