#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createLogger, describeFatal } from '@hello-rabbit/runtime';
import { parseArgs, PROGRAM, type OpsCommand } from './cli.js';
import type { OpsContext } from './context.js';
import { listDeadLetters } from './dlq-list.js';
import { purgeDeadLetters } from './dlq-purge.js';
import { replayDeadLetters } from './dlq-replay.js';
import { showDeadLetter } from './dlq-show.js';
import { loadEnv } from './load-env.js';
import { createManagementApi } from './management-api.js';
import { processOutput } from './output.js';
import { checkTopology } from './topology-check.js';

const output = processOutput(PROGRAM);

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? 'unknown';
}

function run(command: OpsCommand, context: OpsContext): Promise<number> {
  switch (command.name) {
    case 'dlq list':
      return listDeadLetters(context, command.args);
    case 'dlq show':
      return showDeadLetter(context, command.args);
    case 'dlq replay':
      return replayDeadLetters(context, command.args);
    case 'dlq purge':
      return purgeDeadLetters(context, command.args);
    case 'topology check':
      return checkTopology(context.api, context.settings.amqp.vhost, command.args, context.output);
  }
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'version') {
    output.line(`${PROGRAM} ${version()}`);
    return 0;
  }
  const settings = loadEnv(env);
  const logger = createLogger({
    name: PROGRAM,
    level: settings.logLevel,
    secrets: [settings.amqp.password, settings.management.password],
  });

  // CTRL+C or SIGTERM: finish the message in hand, give back what is held, in order, and
  // report. Repeats are ignored: under pnpm one CTRL+C arrives twice.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (!interrupt.signal.aborted) output.notice('interrupted: finishing the message in hand');
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(parsed.command, {
      settings,
      logger,
      api: createManagementApi(settings.management),
      output,
      signal: interrupt.signal,
      now: () => new Date(),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// Exit explicitly: a connection abandoned at its close deadline must not keep the process.
main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    const { lines, exitCode } = describeFatal(error);
    for (const line of lines) output.notice(line);
    process.exit(exitCode);
  },
);
