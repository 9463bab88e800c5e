import { contractTopology } from './contract-topology.js';
import type { ManagementApi } from './management-api.js';
import { count, show, type Output } from './output.js';
import { diffTopology, type DriftReport, type Finding } from './topology-diff.js';

export interface TopologyCheckArgs {
  readonly strict: boolean;
  readonly json: boolean;
}

/** Exit code of a check that found drift. */
export const EXIT_DRIFT = 1;

/**
 * Compares the contract's topology with the vhost's, through the management API.
 * @returns 0 in sync, 1 on drift.
 */
export async function checkTopology(
  api: ManagementApi,
  vhost: string,
  args: TopologyCheckArgs,
  output: Output,
): Promise<number> {
  // A vhost that does not exist answers 404 to every list: the first one says so.
  const [queues, exchanges, bindings] = await Promise.all([
    api.queues(vhost),
    api.exchanges(vhost),
    api.bindings(vhost),
  ]);
  const expected = contractTopology();
  const report = diffTopology(expected, { queues, exchanges, bindings }, { strict: args.strict });

  if (args.json) {
    output.line(
      JSON.stringify(
        { vhost, api: api.where, ...report },
        (_key, value: unknown) => (value === undefined ? null : value),
        2,
      ),
    );
  } else {
    for (const line of describeReport(vhost, api.where, report)) output.line(line);
  }
  return report.inSync ? 0 : EXIT_DRIFT;
}

const LABEL: Record<Finding['status'], string> = {
  ok: 'ok',
  missing: 'MISSING',
  mismatch: 'MISMATCH',
  adopted: 'adopted',
  extra: 'extra',
};

/** The report for people: one line per finding that is not `ok`, then the verdict. */
export function describeReport(vhost: string, where: string, report: DriftReport): string[] {
  const lines = [`topology of vhost '${vhost}' (${where}) against the contract${report.strict ? ' (strict)' : ''}:`];
  for (const f of report.findings) {
    if (f.status === 'ok') continue;
    const label = `${LABEL[f.status]}${f.drift ? '' : ' (info)'}`.padEnd(16);
    const what = `${f.kind} ${f.kind === 'binding' ? f.name : `'${f.name}'`}`;
    const details = f.differences.map(
      (d) => `${d.property} is ${show(d.broker)} on the broker, ${show(d.contract)} in the contract`,
    );
    const note =
      f.status === 'missing'
        ? 'declared by the contract, not on the broker'
        : f.status === 'mismatch'
          ? `${details.join('; ')} (the apps' declare would fail with 406 PRECONDITION_FAILED)`
          : f.status === 'adopted'
            ? `${details.join('; ')} (the contract lets the apps adopt it: they use it as it is)`
            : 'not in the contract';
    lines.push(`  ${label}${what}: ${note}`);
  }
  const tally = (kind: Finding['kind'], noun: string) => {
    const ofKind = report.findings.filter((f) => f.kind === kind && f.status !== 'extra');
    const asDeclared = ofKind.filter((f) => f.status === 'ok' || (f.status === 'adopted' && !f.drift)).length;
    return `${asDeclared} of ${count(ofKind.length, noun)}`;
  };
  const tallies = `${tally('queue', 'queue')}, ${tally('exchange', 'exchange')} and ${tally('binding', 'binding')}`;
  const summary = `${tallies} as declared`;
  const drifted = report.findings.filter((f) => f.drift);
  if (drifted.length === 0) {
    lines.push(`in sync: ${summary}`);
  } else {
    const byStatus = (['missing', 'mismatch', 'adopted', 'extra'] as const)
      .map((status) => [status, drifted.filter((f) => f.status === status).length] as const)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => `${n} ${status}`);
    lines.push(`DRIFT: ${byStatus.join(', ')} (${summary})`);
  }
  return lines;
}
