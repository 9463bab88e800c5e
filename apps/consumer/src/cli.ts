import { ConfigError } from '@hello-rabbit/broker-client';
import { Command, CommanderError } from 'commander';

export type ParsedArgs = { readonly kind: 'run' } | { readonly kind: 'help'; readonly text: string };

/**
 * Parses the command line (without `node` and the script).
 * @throws ConfigError (usage) with commander's one-line explanation.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  let output = '';
  const program = new Command('consumer')
    .description(
      `Consumes the queue 'hello', printing each message and acking it once printed. ` +
        `SIGINT or SIGTERM stops it cleanly.`,
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
  return { kind: 'run' };
}
