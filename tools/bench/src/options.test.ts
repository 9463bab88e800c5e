import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from './options.js';
import { SCENARIO_IDS } from './scenarios.js';

describe('bench options', () => {
  it('runs five rounds of every scenario and client by default, one small round with --quick', () => {
    const full = parseOptions([]);
    expect(full).toMatchObject({ quick: false, rounds: 5, overload: true, startup: true });
    expect(full?.scenarios).toEqual([...SCENARIO_IDS]);
    expect(full?.clients).toContain('amqp-connection-manager');
    expect(full?.outDir).toMatch(/tools\/bench\/results$/);
    const quick = parseOptions(['--quick']);
    expect(quick).toMatchObject({ quick: true, rounds: 1, startup: true });
    expect(quick?.outDir).toMatch(/results\/quick$/);
  });

  it('leaves the cluster out of --quick unless it is named, and brings the single-node run along with it', () => {
    expect(parseOptions([])?.scenarios).toContain('e2e-cluster');
    expect(parseOptions(['--quick'])?.scenarios).not.toContain('e2e-cluster');
    expect(parseOptions(['--quick'])?.scenarios).toContain('e2e');
    expect(parseOptions(['--quick', '--scenarios', 'e2e-cluster'])?.scenarios).toEqual(['e2e', 'e2e-cluster']);
    expect(parseOptions(['--scenarios', 'consume,e2e-cluster'])).toMatchObject({
      scenarios: ['consume', 'e2e', 'e2e-cluster'],
      overload: false,
    });
    expect(parseOptions(['--scenarios', 'e2e,consume'])?.scenarios).not.toContain('e2e-cluster');
  });

  it('takes rounds, counts and lists', () => {
    const options = parseOptions([
      '--rounds',
      '5',
      '--count',
      '100',
      '--clients',
      'amqplib,project',
      '--scenarios',
      'consume',
    ]);
    expect(options).toMatchObject({
      rounds: 5,
      count: 100,
      clients: ['amqplib', 'project'],
      scenarios: ['consume'],
      overload: false,
    });
  });

  it('refuses a bad value, an unknown client, and leaving the baseline out', () => {
    expect(() => parseOptions(['--rounds', '0'])).toThrow(UsageError);
    expect(() => parseOptions(['--clients', 'amqplib,rascal'])).toThrow(/unknown rascal/);
    expect(() => parseOptions(['--clients', 'project'])).toThrow(/baseline/);
    expect(() => parseOptions(['--nope'])).toThrow(UsageError);
  });

  it('runs the startup scenario alone when it is the only one named', () => {
    expect(parseOptions(['--scenarios', 'startup'])).toMatchObject({ scenarios: [], startup: true, overload: false });
    expect(parseOptions(['--scenarios', 'consume'])).toMatchObject({ startup: false });
  });

  it('asks for the usage text with --help', () => {
    expect(parseOptions(['--help'])).toBeUndefined();
  });
});
