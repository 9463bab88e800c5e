import { parseCommandLine } from '@hello-rabbit/broker-client';
import { PublicationName } from '@hello-rabbit/broker-config';
import { Command, InvalidArgumentError, Option } from 'commander';

export const DEFAULT_TEXT = 'Hello World!';
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

export type ParsedArgs = { readonly kind: 'run'; readonly args: ProducerArgs } | { readonly kind: 'help'; readonly text: string };

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
  const program = new Command('producer')
    .description(`Publishes a message to a queue ('hello' by default) and waits for the broker's confirm.`)
    .argument('[message...]', `the message text (default: '${DEFAULT_TEXT}')`)
    .addOption(
      new Option('--to <queue>', 'the queue to publish to').choices(Object.values(PublicationName)).default(PublicationName.hello),
    )
    .option('--count <n>', 'publish N messages, the text followed by #1 ... #N, and print one summary line', parseCount)
    .option('--report <file>', "write each message's outcome to this file, one JSON line each");
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind === 'help') return parsed;
  const text = program.args.join(' ');
  const { count, to, report } = program.opts<{ count?: number; to: PublicationName; report?: string }>();
  return { kind: 'run', args: { text: text === '' ? DEFAULT_TEXT : text, count, to, report } };
}
