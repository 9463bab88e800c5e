import { parseCommandLine } from '@hello-rabbit/broker-client';
import { PublicationName } from '@hello-rabbit/broker-config';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SERVICE_SETTINGS } from './serve/settings.js';

export const DEFAULT_TEXT = 'Hello World!';
/** The first argument that runs the producer as an HTTP service instead. */
export const SERVE = 'serve';
export const MAX_COUNT = 1_000_000;

export interface ProducerArgs {
  /** The message text: the arguments joined by spaces, as the tutorials' new_task does. */
  readonly text: string;
  /** With --count, N numbered messages and one summary line. */
  readonly count: number | undefined;
  /** The publication: `hello` (tutorial 1) or `task_queue` (tutorial 2's tasks). */
  readonly to: PublicationName;
  /** A file to write each message's outcome to, one JSON line each. */
  readonly report: string | undefined;
}

export type ParsedArgs =
  | { readonly kind: 'run'; readonly args: ProducerArgs }
  | { readonly kind: 'serve' }
  | { readonly kind: 'help'; readonly text: string };

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
    .description(`Publishes a message to a queue ('hello' by default) and waits for the broker's confirm.`)
    .argument('[message...]', `the message text (default: '${DEFAULT_TEXT}')`)
    .addOption(
      new Option('--to <queue>', 'the queue to publish to').choices(Object.values(PublicationName)).default(PublicationName.hello),
    )
    .option('--count <n>', 'publish N messages, the text followed by #1 ... #N, and print one summary line', parseCount)
    .option('--report <file>', "write each message's outcome to this file, one JSON line each")
    .addHelpText(
      'after',
      [
        '',
        'As a long-lived HTTP service instead:',
        `  producer ${SERVE}    POST /publications/<name>/messages; see 'producer ${SERVE} --help'`,
        `(to send the text '${SERVE}' itself: producer -- ${SERVE})`,
      ].join('\n'),
    );
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind === 'help') return parsed;
  const text = program.args.join(' ');
  const { count, to, report } = program.opts<{ count?: number; to: PublicationName; report?: string }>();
  return { kind: 'run', args: { text: text === '' ? DEFAULT_TEXT : text, count, to, report } };
}

/** `producer serve [--help]`: the service takes no arguments, only settings. */
function parseServeArgs(argv: readonly string[]): ParsedArgs {
  const width = Math.max(...SERVICE_SETTINGS.map(([name]) => name.length));
  const program = new Command(`producer ${SERVE}`)
    .description(
      "Runs as a long-lived HTTP service: POST a message to a publication and get 202 with its messageId once the broker confirmed it.",
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
        ...SERVICE_SETTINGS.map(([name, fallback, meaning]) => `  ${name.padEnd(width)}  ${meaning} (default: ${fallback})`),
        '',
        'Stops on SIGTERM or CTRL+C: readiness first, then no new messages, then the ones in flight are confirmed.',
      ].join('\n'),
    );
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind === 'help') return parsed;
  return { kind: 'serve' };
}
