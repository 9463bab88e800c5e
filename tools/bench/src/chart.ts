import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { CLIENT_LABELS, type BenchResults } from './results.js';
import { CLIENTS } from './jobs.js';
import type { ScenarioId } from './scenarios.js';
import { STARTUP_GROUPS } from './startup.js';

/** Axis labels; `|` breaks the line. */
const SHORT: Record<ScenarioId, string> = {
  'publish-classic': 'publish|classic, 100 B',
  'publish-quorum': 'publish|quorum, 100 B',
  'publish-quorum-10k': 'publish|quorum, 10 KB',
  consume: 'consume|manual acks',
  e2e: 'end to end|max rate',
  'e2e-cluster': 'end to end|3-node cluster',
  'e2e-half-rate': 'end to end|half rate',
};

interface Bar {
  readonly panel: string;
  readonly scenario: string;
  readonly client: string;
  readonly ratio: number;
}

const PANELS = {
  throughput: 'Messages/s, ratio to raw amqplib (higher is better)',
  cpu: 'Client CPU per message, ratio to raw amqplib (lower is better)',
  p99: "p99 latency at half the raw pair's max rate, ratio to raw (lower is better)",
  cluster: 'End to end on a 3-node cluster: messages/s, ratio to the same client on the single node (higher is better)',
  startup: 'Starting up, whole processes: wall time, ratio to raw amqplib (--help: to node -e 0; lower is better)',
} as const;

/** The y axis of each panel: what the bars are divided by. */
const AXES: Record<string, string> = {
  [PANELS.cluster]: 'ratio to the single node',
  [PANELS.startup]: 'ratio to the base',
};

/** The bars: one per scenario and client, in up to four panels. */
function bars(results: BenchResults): Bar[] {
  const out: Bar[] = [];
  for (const scenario of results.scenarios) {
    for (const summary of scenario.clients) {
      const push = (panel: string, ratio: number | null) => {
        if (ratio !== null && Number.isFinite(ratio))
          out.push({ panel, scenario: SHORT[scenario.id], client: summary.label, ratio });
      };
      if (scenario.ratioOf === 'throughput') {
        push(PANELS.throughput, summary.throughputRatio);
        push(PANELS.cpu, summary.cpuRatio);
      } else {
        push(PANELS.p99, summary.p99Ratio);
      }
      if (summary.singleNodeRatio !== undefined) push(PANELS.cluster, summary.singleNodeRatio);
    }
  }
  for (const program of results.startup?.programs ?? []) {
    if (program.wallRatio !== null && Number.isFinite(program.wallRatio)) {
      out.push({
        panel: PANELS.startup,
        scenario: STARTUP_GROUPS[program.group].short,
        client: program.label,
        ratio: program.wallRatio,
      });
    }
  }
  return out;
}

function panel(title: string, data: readonly Bar[], clientOrder: readonly string[], goal: number | undefined) {
  const rules = goal === undefined || goal === 1 ? [{ y: 1 }] : [{ y: 1 }, { y: goal }];
  const values = data.filter((bar) => bar.panel === title);
  const encoding = {
    x: {
      field: 'scenario',
      type: 'nominal',
      sort: null,
      title: null,
      axis: { labelAngle: 0, labelLimit: 200, labelExpr: "split(datum.label, '|')" },
    },
    xOffset: { field: 'client', type: 'nominal', sort: clientOrder },
    y: { field: 'ratio', type: 'quantitative', title: AXES[title] ?? 'ratio to raw amqplib' },
  };
  return {
    title,
    // With xOffset the step is per bar: four clients make a group about 130 px wide.
    width: { step: 30 },
    height: 180,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', tooltip: true },
        encoding: { ...encoding, color: { field: 'client', type: 'nominal', sort: clientOrder, title: 'client' } },
      },
      {
        data: { values },
        mark: { type: 'text', dy: -6, fontSize: 9 },
        encoding: { ...encoding, text: { field: 'ratio', type: 'quantitative', format: '.2f' } },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', color: '#333', strokeDash: [4, 3] },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}

/** The chart as a Vega-Lite spec: grouped bars per scenario and client, a line at 1.0. */
export function chartSpec(results: BenchResults): TopLevelSpec {
  const data = bars(results);
  const clientOrder = [
    ...CLIENTS.map((client) => CLIENT_LABELS[client]),
    ...(results.startup?.programs ?? []).map((program) => program.label),
  ];
  const panels = [
    panel(PANELS.throughput, data, clientOrder, undefined),
    panel(PANELS.cpu, data, clientOrder, 1.3),
    panel(PANELS.p99, data, clientOrder, 1.5),
    panel(PANELS.cluster, data, clientOrder, undefined),
    panel(PANELS.startup, data, clientOrder, undefined),
  ].filter((one) => one.layer[0]?.data.values.length !== 0);
  // Panels of other widths would not line up; the scenarios' bands share one step.
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `hello-rabbit benchmark${results.meta.quick ? ' (quick smoke run)' : ''}`,
      subtitle:
        `${results.meta.broker}, Node ${results.meta.node}, ${String(results.meta.cpus)} cores, ` +
        `median of ${String(results.meta.rounds)} round(s); dashed: 1.0 and the goal`,
    },
    vconcat: panels,
    resolve: { scale: { color: 'shared' } },
    config: { font: 'sans-serif', legend: { labelLimit: 300 }, title: { anchor: 'start' } },
  } as TopLevelSpec;
}

/** Renders the chart to SVG headless: Vega's 'none' renderer needs no canvas. */
export async function renderChart(results: BenchResults): Promise<string> {
  const compiled = vegaLite.compile(chartSpec(results)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
