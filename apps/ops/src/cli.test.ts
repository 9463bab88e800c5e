import { ConfigError, ExitCode } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BYTES, DEFAULT_RATE, parseArgs, type OpsCommand } from './cli.js';
import { opsEnvShape } from './load-env.js';

const run = (...argv: string[]): OpsCommand => {
  const parsed = parseArgs(argv);
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed.command;
};

const usageError = (...argv: string[]): ConfigError => {
  try {
    parseArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a usage error');
};

const helpText = (...argv: string[]): string => {
  const parsed = parseArgs(argv);
  if (parsed.kind !== 'help') throw new Error(`expected help, got ${parsed.kind}`);
  return parsed.text;
};

describe('parseArgs', () => {
  it('lists every dead-letter queue of the contract when none is named', () => {
    expect(run('dlq', 'list')).toEqual({
      name: 'dlq list',
      args: { queues: ['hello.dlq', 'task_queue.dlq', 'rpc_queue.dlq'], named: false, json: false },
    });
    expect(run('dlq', 'list', 'task_queue.dlq', '--json')).toEqual({
      name: 'dlq list',
      args: { queues: ['task_queue.dlq'], named: true, json: true },
    });
  });

  it('drops the -- that `pnpm start -- ...` passes on', () => {
    expect(run('--', 'topology', 'check')).toEqual({ name: 'topology check', args: { strict: false, json: false } });
  });

  it('reads show with its defaults', () => {
    expect(run('dlq', 'show', 'hello.dlq', 'abc')).toEqual({
      name: 'dlq show',
      args: { queue: 'hello.dlq', messageId: 'abc', maxBytes: DEFAULT_MAX_BYTES, json: false },
    });
  });

  it('reads replay: repeated --id, --reason, --limit, --rate, --dry-run', () => {
    expect(
      run(
        'dlq',
        'replay',
        'task_queue.dlq',
        '--id',
        'a',
        '--id',
        'b',
        '--reason',
        'boom',
        '--limit',
        '5',
        '--rate',
        '2.5',
        '--dry-run',
      ),
    ).toEqual({
      name: 'dlq replay',
      args: {
        queue: 'task_queue.dlq',
        select: { all: false, ids: ['a', 'b'], reason: 'boom' },
        limit: 5,
        rate: 2.5,
        dryRun: true,
        json: false,
      },
    });
    expect(run('dlq', 'replay', 'task_queue.dlq', '--all')).toMatchObject({
      args: { select: { all: true, ids: [] }, rate: DEFAULT_RATE, limit: undefined },
    });
  });

  it('reads purge with a duration', () => {
    expect(run('dlq', 'purge', 'task_queue.dlq', '--older-than', '7d', '--json')).toEqual({
      name: 'dlq purge',
      args: {
        queue: 'task_queue.dlq',
        olderThanMs: 604_800_000,
        olderThan: '7d',
        reason: undefined,
        dryRun: false,
        json: true,
      },
    });
  });

  it('reads topology check --strict', () => {
    expect(run('topology', 'check', '--strict')).toEqual({
      name: 'topology check',
      args: { strict: true, json: false },
    });
  });

  it.each([
    [
      ['dlq', 'replay', 'task_queue.dlq'],
      /^say which dead letters to replay: --all, --id <message-id> or --reason <text>$/,
    ],
    [
      ['dlq', 'replay', 'task_queue.dlq', '--all', '--id', 'x'],
      /option '--all' cannot be used with option '--id <message-id>'/,
    ],
    [['dlq', 'replay', 'task_queue.dlq', '--all', '--rate', '0'], /--rate <per-second>.*from 0\.1 to 10000/],
    [['dlq', 'replay', 'task_queue.dlq', '--all', '--rate', 'fast'], /--rate <per-second>.*from 0\.1 to 10000/],
    [['dlq', 'replay', 'task_queue.dlq', '--all', '--limit', '0'], /--limit <n>.*whole number from 1/],
    [['dlq', 'replay', 'task_queue.dlq', '--reason', ' '], /--reason <text>' must not be empty/],
    [['dlq', 'replay', 'elsewhere', '--all'], /argument 'queue'.*Allowed choices are hello\.dlq, task_queue\.dlq/],
    [['dlq', 'purge', 'task_queue.dlq'], /required option '--older-than <duration>' not specified/],
    [['dlq', 'purge', 'task_queue.dlq', '--older-than', 'soon'], /--older-than <duration>.*duration such as 7d/],
    [['dlq', 'show', 'task_queue.dlq'], /missing required argument 'message-id'/],
    [['dlq', 'list', '--bogus'], /^unknown option '--bogus'$/],
    [['topology', 'check', 'extra'], /too many arguments/],
    [['--bogus'], /^unknown option '--bogus' \(see 'ops --help'\)$/],
    [['bogus'], /^unknown command 'bogus' \(see 'ops --help'\)$/],
    [['dlq'], /^'ops dlq' needs a command \(see 'ops dlq --help'\)$/],
    [['dlq', 'bogus'], /^unknown command 'dlq bogus' \(see 'ops dlq --help'\)$/],
  ])('refuses %j with a one-line usage error', (argv, message) => {
    const error = usageError(...argv);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('shows the overview on --help, on help, and with no arguments', () => {
    for (const argv of [['--help'], ['-h'], ['help'], []]) {
      const text = helpText(...argv);
      expect(text).toMatch(/^Usage: ops <command> \[options\]/);
      for (const command of ['dlq list', 'dlq show', 'dlq replay', 'dlq purge', 'topology check'])
        expect(text).toContain(`  ${command}`);
    }
  });

  it("lists every setting with its default in the overview, and not in a group's", () => {
    const text = helpText('--help');
    for (const name of Object.keys(opsEnvShape)) expect(text).toMatch(new RegExp(`^ {2}${name} +\\S+`, 'm'));
    expect(text).toMatch(/^ {2}MANAGEMENT_TIMEOUT_MS +10000 +time one management API request may take, in ms$/m);
    expect(text).toMatch(/^ {2}LOG_LEVEL +warn +/m);
    expect(helpText('dlq', '--help')).not.toContain('MANAGEMENT_URL');
  });

  it("shows a group's commands and each command's options", () => {
    expect(helpText('dlq', '--help')).not.toContain('topology check');
    expect(helpText('dlq', 'replay', '--help')).toMatch(
      new RegExp(
        /Usage: ops dlq replay <queue> \(--all \| --id <message-id>\.\.\. \| --reason <text>\) \[options\]/.source +
          /[\s\S]*--rate <per-second>/.source,
      ),
    );
    expect(helpText('help', 'dlq', 'purge')).toMatch(/Usage: ops dlq purge <queue> --older-than <duration>/);
    expect(helpText('topology', 'check', '-h')).toMatch(/--strict/);
  });

  it('asks for the version', () => {
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' });
  });
});
