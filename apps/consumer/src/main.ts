#!/usr/bin/env node
import { describeFatal, ExitCode } from '@hello-rabbit/runtime/cli';
import { parseArgs } from './cli.js';

// The entry point reads the command line alone; the consumer is loaded after (`--help` and
// a bad argument answer without loading the broker client).

const PROGRAM = 'consumer';

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return ExitCode.ok;
  }
  const { consume } = await import('./consume.js');
  return consume(parsed.args, env);
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    const { lines, exitCode } = describeFatal(error);
    for (const line of lines) process.stderr.write(`${PROGRAM}: ${line}\n`);
    process.exit(exitCode);
  },
);
