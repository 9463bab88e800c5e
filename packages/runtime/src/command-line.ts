import { CommanderError, type Command } from 'commander';
import { ConfigError, isFatalError } from './errors.js';
import { ExitCode } from './exit-codes.js';

export type CommandLine = { readonly kind: 'run' } | { readonly kind: 'help'; readonly text: string };

/**
 * Parses `argv` (without `node` and the script) with a commander program, without letting
 * commander print or exit: help comes back as text, a mistake as a one-line ConfigError.
 * @throws ConfigError (usage) with commander's explanation.
 */
export function parseCommandLine(program: Command, argv: readonly string[]): CommandLine {
  let output = '';
  program
    .helpOption('-h, --help', 'show this help')
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
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')
        return { kind: 'help', text: output };
      throw new ConfigError(err.message.replace(/^error: /, ''), undefined, 'usage');
    }
    throw err;
  }
  return { kind: 'run' };
}

/**
 * What a program prints and returns for an error that ended it: one line per problem for
 * bad settings, one line for an error that says its own exit code (see FatalError) or anything else,
 * and the exit code that says which kind it was.
 */
export function describeFatal(error: unknown): { readonly lines: readonly string[]; readonly exitCode: ExitCode } {
  if (isFatalError(error)) {
    // Read, not `instanceof ConfigError`: an app's command runs from a bundle of its own (see
    // tools/bundle), with its own copy of this module's classes.
    return { lines: isLines(error.problems) ? error.problems : [error.message], exitCode: error.exitCode };
  }
  return {
    lines: [`unexpected error: ${error instanceof Error ? error.message : String(error)}`],
    exitCode: ExitCode.software,
  };
}

function isLines(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length > 0 && value.every((line) => typeof line === 'string');
}
