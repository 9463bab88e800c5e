import { ConfigError, parseCommandLine, type SettingHelp } from '@hello-rabbit/runtime/cli';
import {
  ExchangeName,
  exchangePublications,
  FIBONACCI_MAX_N,
  PublicationName,
  routingKeyProblem,
  isExchangeName,
} from '@hello-rabbit/broker-config/names';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PRODUCER_SETTINGS, SERVICE_SETTINGS } from './settings-help.generated.js';

export const DEFAULT_TEXT = 'Hello World!';
/** Tutorial 3's emit_log sends this when given no text. */
export const DEFAULT_LOG_TEXT = 'info: Hello World!';
/** Time an RPC call waits for its reply unless --timeout says otherwise. */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000;
/** The first argument that runs the producer as an HTTP service instead. */
export const SERVE = 'serve';
export const MAX_COUNT = 1_000_000;

export interface ProducerArgs {
  /** The message text: the arguments joined by spaces, as the tutorials' new_task does. */
  readonly text: string;
  /** With --count, N numbered messages and one summary line. */
  readonly count: number | undefined;
  /**
   * The publication: the queue `hello` (tutorial 1) or `task_queue` (tutorial 2's tasks), or
   * the exchange `logs` (3), `direct_logs` (4) or `topic_logs` (5).
   */
  readonly to: PublicationName | ExchangeName;
  /** The routing key, for `direct_logs` and `topic_logs` (their tutorial's default when not given). */
  readonly key: string | undefined;
  /** A file to write each message's outcome to, one JSON line each. */
  readonly report: string | undefined;
}

/** `--rpc <n>`: tutorial 6's client asks the Fibonacci server for fib(n). */
export interface CallArgs {
  readonly n: number;
  readonly timeoutMs: number;
}

export type ParsedArgs =
  | { readonly kind: 'run'; readonly args: ProducerArgs }
  | { readonly kind: 'call'; readonly args: CallArgs }
  | { readonly kind: 'serve' }
  | { readonly kind: 'help'; readonly text: string };

function parseN(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > FIBONACCI_MAX_N) {
    throw new InvalidArgumentError(`it must be a whole number from 0 to ${FIBONACCI_MAX_N}.`);
  }
  return Number(value);
}

function parseTimeout(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3_600_000) {
    throw new InvalidArgumentError('it must be a whole number of milliseconds from 1 to 3600000.');
  }
  return Number(value);
}

const usage = (message: string) => new ConfigError(message, undefined, 'usage');

function parseCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_COUNT) {
    throw new InvalidArgumentError(`it must be a whole number from 1 to ${MAX_COUNT}.`);
  }
  return Number(value);
}

/**
 * Parses the command line (without `node` and the script).
 * @throws ConfigError (usage) with commander's one-line explanation.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  // Only as the first argument: `producer -- serve` and `producer Hi serve` send text.
  if (argv[0] === SERVE) return parseServeArgs(argv.slice(1));
  const program = new Command('producer')
    .description(
      `Publishes a message to a queue ('hello' by default) or an exchange and waits for the broker's confirm; ` +
        `with --rpc, calls the Fibonacci server and prints its reply.`,
    )
    .argument('[message...]', `the message text (default: '${DEFAULT_TEXT}'; to 'logs': '${DEFAULT_LOG_TEXT}')`)
    .addOption(
      new Option('--to <name>', 'the queue or exchange to publish to')
        .choices([...Object.values(PublicationName), ...Object.values(ExchangeName)])
        .default(PublicationName.hello),
    )
    .option(
      '--key <key>',
      `the routing key: a severity for 'direct_logs' ` +
        `(default: '${exchangePublications.direct_logs.defaultRoutingKey}'), ` +
        `<facility>.<severity> for 'topic_logs' (default: '${exchangePublications.topic_logs.defaultRoutingKey}')`,
    )
    .option('--count <n>', 'publish N messages, the text followed by #1 ... #N, and print one summary line', parseCount)
    .option('--report <file>', "write each message's outcome to this file, one JSON line each")
    .option(
      '--rpc <n>',
      `call the Fibonacci server on 'rpc_queue' (tutorial 6) for fib(n), n from 0 to ${FIBONACCI_MAX_N}`,
      parseN,
    )
    .option(
      '--timeout <ms>',
      `with --rpc: time to wait for the reply (default: ${DEFAULT_RPC_TIMEOUT_MS})`,
      parseTimeout,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples (the tutorials):',
        "  producer --to logs 'info: Hello World!'                  (3, emit_log)",
        "  producer --to direct_logs --key error 'Run. Run.'         (4, emit_log_direct)",
        "  producer --to topic_logs --key kern.critical 'A critical kernel error'   (5, emit_log_topic)",
        '  producer --rpc 30                                        (6, rpc_client)',
        'A message to an exchange that no queue is bound for (no subscriber running) is',
        'returned by the broker: it is reported and the exit code is 1.',
        '',
        'As a long-lived HTTP service instead:',
        `  producer ${SERVE}    POST /publications/<name>/messages; see 'producer ${SERVE} --help'`,
        `(to send the text '${SERVE}' itself: producer -- ${SERVE})`,
        '',
        'Settings (environment), with their defaults:',
        ...settingLines(PRODUCER_SETTINGS),
      ].join('\n'),
    );
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind === 'help') return parsed;
  const text = program.args.join(' ');
  const opts = program.opts<{
    count?: number;
    to: PublicationName | ExchangeName;
    report?: string;
    key?: string;
    rpc?: number;
    timeout?: number;
  }>();
  const { count, to, report, key } = opts;
  if (opts.rpc !== undefined) {
    const extra = [
      ...(text === '' ? [] : ['a message']),
      ...(program.getOptionValueSource('to') === 'cli' ? ['--to'] : []),
      ...(key === undefined ? [] : ['--key']),
      ...(count === undefined ? [] : ['--count']),
      ...(report === undefined ? [] : ['--report']),
    ];
    if (extra.length > 0) throw usage(`--rpc calls 'rpc_queue' with n alone: it takes no ${extra.join(', ')}`);
    return { kind: 'call', args: { n: opts.rpc, timeoutMs: opts.timeout ?? DEFAULT_RPC_TIMEOUT_MS } };
  }
  if (opts.timeout !== undefined) throw usage('--timeout is for --rpc');
  if (isExchangeName(to)) {
    const { routingKey, defaultRoutingKey } = exchangePublications[to];
    if (routingKey === 'none' && key !== undefined) {
      throw usage(`'${to}' is a fanout exchange: every subscriber gets every message, so it takes no --key`);
    }
    const problem = key === undefined ? undefined : routingKeyProblem(routingKey, key, false);
    if (problem !== undefined) throw usage(`--key '${key}' cannot route to '${to}': ${problem}`);
    const fallback = to === ExchangeName.logs ? DEFAULT_LOG_TEXT : DEFAULT_TEXT;
    return {
      kind: 'run',
      args: { text: text === '' ? fallback : text, count, to, key: key ?? defaultRoutingKey, report },
    };
  }
  if (key !== undefined)
    throw usage(`--key is for the exchanges (${Object.values(ExchangeName).join(', ')}); '${to}' is a queue`);
  return { kind: 'run', args: { text: text === '' ? DEFAULT_TEXT : text, count, to, key: undefined, report } };
}

/** The settings as `--help` lists them, one a line: name, meaning and default. */
function settingLines(settings: readonly SettingHelp[]): string[] {
  const width = Math.max(...settings.map(([name]) => name.length));
  return settings.map(([name, fallback, meaning]) => `  ${name.padEnd(width)}  ${meaning} (default: ${fallback})`);
}

/** `producer serve [--help]`: the service takes no arguments, only settings. */
function parseServeArgs(argv: readonly string[]): ParsedArgs {
  const program = new Command(`producer ${SERVE}`)
    .description(
      'Runs as a long-lived HTTP service: ' +
        'POST a message to a publication and get 202 with its messageId once the broker confirmed it.',
    )
    .addHelpText(
      'after',
      [
        '',
        'Routes:',
        `  POST /publications/{${Object.values(PublicationName).join(',')}}/messages`,
        '       body {"message": "<text>"} (application/json) or the text itself (text/plain);',
        '       optional Idempotency-Key header: becomes the messageId',
        '       202 confirmed, 400 invalid, 404 unknown publication, 413 too large,',
        '       502 no such queue, 503 + Retry-After: broker away or busy, retry',
        '  GET  /health/live   GET /health/ready   GET /metrics',
        '',
        'Settings (environment), with their defaults:',
        ...settingLines(SERVICE_SETTINGS),
        '',
        'Stops on SIGTERM or CTRL+C: readiness first, then no new messages, then the ones in flight are confirmed.',
      ].join('\n'),
    );
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind === 'help') return parsed;
  return { kind: 'serve' };
}
