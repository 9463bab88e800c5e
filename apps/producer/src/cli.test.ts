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

describe('parseArgs, serve', () => {
  it("runs the service when the first argument is 'serve'", () => {
    expect(parseArgs(['serve'])).toEqual({ kind: 'serve' });
  });

  it("sends the text 'serve' after --, or anywhere but first", () => {
    expect(run('--', 'serve').text).toBe('serve');
    expect(run('please', 'serve').text).toBe('please serve');
    expect(run('--to', 'task_queue', 'serve')).toMatchObject({ to: 'task_queue', text: 'serve' });
  });

  it('shows the routes and every setting with its default on serve --help, and mentions serve in the main help', () => {
    const help = parseArgs(['serve', '--help']);
    expect(help.kind).toBe('help');
    if (help.kind !== 'help') return;
    expect(help.text).toMatch(/^Usage: producer serve \[options\]/);
    expect(help.text).toContain('POST /publications/{hello,task_queue}/messages');
    expect(help.text).toMatch(/^ {2}HTTP_PORT +port of the API, \/metrics and \/health\/\* \(default: 8080\)$/m);
    expect(help.text).toMatch(/^ {2}LOG_PAYLOADS +log each message's text \(default: false\)$/m);

    const main = parseArgs(['--help']);
    if (main.kind === 'help') expect(main.text).toContain("producer serve    POST /publications/<name>/messages; see 'producer serve --help'");
  });

  it('refuses arguments after serve: the service takes its settings from the environment', () => {
    expect(usageError('serve', '--port', '80').message).toBe("unknown option '--port'");
    expect(usageError('serve', 'extra').message).toBe('too many arguments. Expected 0 arguments but got 1.');
  });
});
