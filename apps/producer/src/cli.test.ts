import { ConfigError, ExitCode } from '@hello-rabbit/runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEXT, parseArgs } from './cli.js';
import { producerEnvShape } from './load-env.js';

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

  it('publishes to the exchanges of tutorials 3 to 5 with their emit_log programs’ defaults', () => {
    expect(run('--to', 'logs')).toMatchObject({ to: 'logs', text: 'info: Hello World!', key: '' });
    expect(run('--to', 'direct_logs')).toMatchObject({ to: 'direct_logs', text: 'Hello World!', key: 'info' });
    expect(run('--to', 'direct_logs', '--key', 'error', 'Run.')).toMatchObject({ key: 'error', text: 'Run.' });
    expect(run('--to', 'topic_logs')).toMatchObject({ key: 'anonymous.info' });
    expect(run('--to', 'topic_logs', '--key', 'kern.critical', 'A', 'critical', 'kernel', 'error')).toMatchObject({
      key: 'kern.critical',
      text: 'A critical kernel error',
    });
  });

  it('calls the Fibonacci server with --rpc, waiting --timeout ms', () => {
    expect(parseArgs(['--rpc', '30'])).toEqual({ kind: 'call', args: { n: 30, timeoutMs: 30_000 } });
    expect(parseArgs(['--rpc', '0', '--timeout', '500'])).toEqual({ kind: 'call', args: { n: 0, timeoutMs: 500 } });
  });

  it.each([
    [
      ['--to', 'logs', '--key', 'info'],
      "'logs' is a fanout exchange: every subscriber gets every message, so it takes no --key",
    ],
    [['--key', 'info'], "--key is for the exchanges (logs, direct_logs, topic_logs); 'hello' is a queue"],
    [['--to', 'direct_logs', '--key', ''], "--key '' cannot route to 'direct_logs': it is empty"],
    [['--rpc', '30', 'text'], "--rpc calls 'rpc_queue' with n alone: it takes no a message"],
    [['--rpc', '30', '--to', 'hello'], "--rpc calls 'rpc_queue' with n alone: it takes no --to"],
    [['--timeout', '5'], '--timeout is for --rpc'],
    [['--rpc', '-1'], "option '--rpc <n>' argument '-1' is invalid. it must be a whole number from 0 to 1000."],
  ])('refuses %j with a one-line usage error', (argv, message) => {
    const err = usageError(...argv);
    expect(err.problems).toEqual([message]);
    expect(err.exitCode).toBe(ExitCode.usage);
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

  it('refuses a queue or exchange outside the contract', () => {
    expect(usageError('--to', 'elsewhere').message).toBe(
      "option '--to <name>' argument 'elsewhere' is invalid. " +
        'Allowed choices are hello, task_queue, logs, direct_logs, topic_logs.',
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

  it('lists every setting of the command on --help, with its default', () => {
    const parsed = parseArgs(['--help']);
    if (parsed.kind !== 'help') throw new Error('no help');
    const settings = parsed.text.slice(parsed.text.indexOf('Settings (environment), with their defaults:'));
    for (const name of Object.keys(producerEnvShape))
      expect(settings).toMatch(new RegExp(`^ {2}${name} +\\S.*\\(default: [^)]`, 'm'));
    expect(settings).toMatch(/^ {2}PUBLISH_WINDOW +messages awaiting their confirm at once \(default: 1000\)$/m);
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
    if (main.kind === 'help')
      expect(main.text).toContain("producer serve    POST /publications/<name>/messages; see 'producer serve --help'");
  });

  it('refuses arguments after serve: the service takes its settings from the environment', () => {
    expect(usageError('serve', '--port', '80').message).toBe("unknown option '--port'");
    expect(usageError('serve', 'extra').message).toBe('too many arguments. Expected 0 arguments but got 1.');
  });
});
