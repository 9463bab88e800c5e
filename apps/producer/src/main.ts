#!/usr/bin/env node
import { describeFatal, ExitCode } from '@hello-rabbit/runtime/cli';
import { parseArgs } from './cli.js';

// The entry point reads the command line alone; the command it asks for is loaded after
// (`--help` and a bad argument answer without loading the broker client).

const PROGRAM = 'producer';

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseArgs(argv);
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(parsed.text);
      return ExitCode.ok;
    case 'serve': {
      // Only the service loads the HTTP server (Fastify) and the metrics registry.
      const { serve } = await import('./serve/run.js');
      return serve(env, (line) => process.stdout.write(`${line}\n`));
    }
    case 'call': {
      const { call } = await import('./send.js');
      return call(parsed.args, env);
    }
    case 'run': {
      const { send } = await import('./send.js');
      return send(parsed.args, env);
    }
  }
}

// Exit explicitly: a connection abandoned at its close deadline must not keep the process.
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
