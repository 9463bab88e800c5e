import { ConfigError, ExitCode } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './cli.js';
import { consumerEnvShape } from './load-env.js';
import { CONSUMER_SETTINGS } from './settings-help.generated.js';

describe('parseArgs', () => {
  it('consumes hello with no arguments, as the tutorial receiver does', () => {
    expect(parseArgs([])).toEqual({ kind: 'run', args: { from: 'hello', keys: [] } });
  });

  it('is the tutorial 2 worker with --from task_queue', () => {
    expect(parseArgs(['--from', 'task_queue'])).toEqual({ kind: 'run', args: { from: 'task_queue', keys: [] } });
  });

  it('is the tutorial 6 server with --from rpc_queue', () => {
    expect(parseArgs(['--from', 'rpc_queue'])).toEqual({ kind: 'run', args: { from: 'rpc_queue', keys: [] } });
  });

  it('subscribes to an exchange with its binding keys, as receive_logs*.py take them', () => {
    expect(parseArgs(['--from', 'logs'])).toEqual({ kind: 'run', args: { from: 'logs', keys: [] } });
    expect(parseArgs(['--from', 'direct_logs', '--key', 'info', '--key', 'error'])).toEqual({
      kind: 'run',
      args: { from: 'direct_logs', keys: ['info', 'error'] },
    });
    expect(parseArgs(['--from', 'topic_logs', '--key', '*.critical', '--key', 'kern.#'])).toEqual({
      kind: 'run',
      args: { from: 'topic_logs', keys: ['*.critical', 'kern.#'] },
    });
  });

  it('shows help on --help', () => {
    const parsed = parseArgs(['--help']);
    expect(parsed.kind).toBe('help');
    if (parsed.kind === 'help') expect(parsed.text).toMatch(/Usage: consumer \[options\]/);
  });

  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['extra'], 'too many arguments. Expected 0 arguments but got 1.'],
    [
      ['--from', 'nowhere'],
      "option '--from <name>' argument 'nowhere' is invalid. " +
        'Allowed choices are hello, task_queue, rpc_queue, logs, direct_logs, topic_logs.',
    ],
    [
      ['--from', 'logs', '--key', 'info'],
      "'logs' is a fanout exchange: every subscriber gets every message, so it takes no --key",
    ],
    [['--from', 'direct_logs'], "'direct_logs' needs at least one --key to bind with, e.g. --key info --key error"],
    [
      ['--from', 'hello', '--key', 'info'],
      "--key is for the exchanges (logs, direct_logs, topic_logs); 'hello' is a queue",
    ],
    [
      ['--from', 'topic_logs', '--key', 'kern.*x'],
      "--key 'kern.*x' cannot bind to 'topic_logs': '*x' is not a word, '*' or '#' " +
        "(a binding key is words separated by '.', e.g. 'kern.*' or '#.critical')",
    ],
  ])('refuses %j with a one-line usage error', (argv, message) => {
    try {
      parseArgs(argv);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(message);
      expect((err as ConfigError).exitCode).toBe(ExitCode.usage);
    }
  });
});

describe('the settings, in --help and in docs/settings.md', () => {
  const names = Object.keys(consumerEnvShape);

  it('--help lists every setting with its default', () => {
    const parsed = parseArgs(['--help']);
    if (parsed.kind !== 'help') throw new Error('no help');
    for (const name of names) expect(parsed.text).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(CONSUMER_SETTINGS.map(([name]) => name).sort()).toEqual([...names].sort());
  });

  it("docs/settings.md, which the README links to, has a row for every setting in the consumer's section", () => {
    const page = readFileSync(fileURLToPath(new URL('../../../docs/settings.md', import.meta.url)), 'utf8');
    const section = page.slice(
      page.indexOf('<!-- BEGIN settings:consumer'),
      page.indexOf('<!-- END settings:consumer -->'),
    );
    for (const name of names) expect(section).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'));
  });
});
