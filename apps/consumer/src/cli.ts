import { parseCommandLine } from '@hello-rabbit/broker-client';
import { SubscriptionName } from '@hello-rabbit/broker-config';
import { Command, Option } from 'commander';
import { CONSUMER_SETTINGS } from './load-env.js';

export interface ConsumerArgs {
  /** The subscription to consume: `hello` (tutorial 1) or `task_queue` (tutorial 2's worker). */
  readonly from: SubscriptionName;
}

export type ParsedArgs = { readonly kind: 'run'; readonly args: ConsumerArgs } | { readonly kind: 'help'; readonly text: string };

/**
 * Parses the command line (without `node` and the script).
 * @throws ConfigError (usage) with commander's one-line explanation.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const program = new Command('consumer')
    .description(
      `Consumes a queue, printing each message and acking it once handled: 'hello' prints it, ` +
        `'task_queue' works one unit per '.' and prints ' [x] Done'. SIGINT or SIGTERM stops it cleanly.`,
    )
    .addOption(
      new Option('--from <queue>', 'the queue to consume').choices(Object.values(SubscriptionName)).default(SubscriptionName.hello),
    )
    .allowExcessArguments(false)
    .addHelpText('after', `\nSettings (environment, with their defaults):\n${formatSettings()}`);
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind === 'help') return parsed;
  return { kind: 'run', args: { from: program.opts<{ from: SubscriptionName }>().from } };
}

/** The settings as aligned lines: name, default, meaning. */
function formatSettings(): string {
  const width = Math.max(...CONSUMER_SETTINGS.map(([name]) => name.length));
  const fallbackWidth = Math.max(...CONSUMER_SETTINGS.map(([, fallback]) => fallback.length));
  return CONSUMER_SETTINGS.map(([name, fallback, meaning]) => `  ${name.padEnd(width)}  ${fallback.padEnd(fallbackWidth)}  ${meaning}`).join('\n');
}
