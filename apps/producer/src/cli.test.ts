import { ConfigError, ExitCode } from '@hello-rabbit/broker-client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEXT, parseArgs } from './cli.js';

const run = (...argv: string[]) => {
  const parsed = parseArgs(argv);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.args;
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

describe('parseArgs', () => {
  it("sends the tutorial's 'Hello World!' when given nothing", () => {
    expect(run()).toEqual({ text: DEFAULT_TEXT, count: undefined, to: 'hello', report: undefined });
    expect(DEFAULT_TEXT).toBe('Hello World!');
  });

  it('joins the positional arguments into the text, as new_task does', () => {
    expect(run('Hi', 'there').text).toBe('Hi there');
    expect(run('Hi there').text).toBe('Hi there');
  });

  it('reads --count in both forms', () => {
    expect(run('--count', '5').count).toBe(5);
    expect(run('--count=7', 'x').count).toBe(7);
  });

  it('publishes tasks with --to task_queue, as new_task does', () => {
    expect(run('--to', 'task_queue', 'First', 'message.')).toMatchObject({ to: 'task_queue', text: 'First message.' });
  });

  it('refuses a queue outside the contract', () => {
    expect(usageError('--to', 'elsewhere').message).toBe(
      "option '--to <queue>' argument 'elsewhere' is invalid. Allowed choices are hello, task_queue.",
    );
  });

  it('takes a report file', () => {
    expect(run('--report', '/tmp/out.jsonl').report).toBe('/tmp/out.jsonl');
  });

  it('takes text that looks like a flag after --', () => {
    expect(run('--', '--count', 'is text').text).toBe('--count is text');
  });

  it.each([['abc'], ['0'], ['-1'], ['1.5'], ['1000001']])('refuses --count %s with a one-line usage error', (value) => {
    const error = usageError('--count', value);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(/--count <n>.*whole number from 1 to 1000000/);
    expect(error.message).not.toContain('\n');
  });

  it('refuses an unknown flag', () => {
    expect(usageError('--bogus').message).toBe("unknown option '--bogus'");
  });

  it('shows help on --help', () => {
    const parsed = parseArgs(['--help']);
    expect(parsed.kind).toBe('help');
    if (parsed.kind === 'help') expect(parsed.text).toMatch(/Usage: producer \[options\] \[message\.\.\.\]/);
  });
});
