import { ConfigError } from '@hello-rabbit/broker-client';
import { SubscriptionName } from '@hello-rabbit/broker-config';
import { Command, CommanderError, Option } from 'commander';

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
  let output = '';
  const program = new Command('consumer')
    .description(
      `Consumes a queue, printing each message and acking it once handled: 'hello' prints it, ` +
        `'task_queue' works one unit per '.' and prints ' [x] Done'. SIGINT or SIGTERM stops it cleanly.`,
    )
    .addOption(
      new Option('--from <queue>', 'the queue to consume').choices(Object.values(SubscriptionName)).default(SubscriptionName.hello),
    )
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        output += text;
      },
      writeErr: (text) => {
        output += text;
      },
      outputError: () => undefined,
    });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return { kind: 'help', text: output };
      throw new ConfigError(err.message.replace(/^error: /, ''), undefined, 'usage');
    }
    throw err;
  }
  return { kind: 'run', args: { from: program.opts<{ from: SubscriptionName }>().from } };
}
