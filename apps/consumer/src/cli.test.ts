import { ConfigError, ExitCode } from '@hello-rabbit/broker-client';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './cli.js';
import { CONSUMER_SETTINGS, consumerEnvShape } from './load-env.js';

describe('parseArgs', () => {
  it('consumes hello with no arguments, as the tutorial receiver does', () => {
    expect(parseArgs([])).toEqual({ kind: 'run', args: { from: 'hello' } });
  });

  it('is the tutorial 2 worker with --from task_queue', () => {
    expect(parseArgs(['--from', 'task_queue'])).toEqual({ kind: 'run', args: { from: 'task_queue' } });
  });

  it('shows help on --help', () => {
    const parsed = parseArgs(['--help']);
    expect(parsed.kind).toBe('help');
    if (parsed.kind === 'help') expect(parsed.text).toMatch(/Usage: consumer \[options\]/);
  });

  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['extra'], 'too many arguments. Expected 0 arguments but got 1.'],
    [['--from', 'nowhere'], "option '--from <queue>' argument 'nowhere' is invalid. Allowed choices are hello, task_queue."],
  ])(
    'refuses %j with a one-line usage error',
    (argv, message) => {
      try {
        parseArgs(argv);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).message).toBe(message);
        expect((err as ConfigError).exitCode).toBe(ExitCode.usage);
      }
    },
  );
});

describe('the settings, in --help and in the README', () => {
  const names = Object.keys(consumerEnvShape);

  it('--help lists every setting with its default', () => {
    const parsed = parseArgs(['--help']);
    if (parsed.kind !== 'help') throw new Error('no help');
    for (const name of names) expect(parsed.text).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(CONSUMER_SETTINGS.map(([name]) => name).sort()).toEqual([...names].sort());
  });

  it("the app's README has a row for every setting", () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    for (const name of names) expect(readme).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });
});
