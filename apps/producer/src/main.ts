#!/usr/bin/env node
import { BrokerError, ConfigError, createLogger, ExitCode, openBroker } from '@hello-rabbit/broker-client';
import { encodeMessage, InvalidMessageError, PublicationName, publications } from '@hello-rabbit/broker-config';
import { parseArgs } from './cli.js';
import { loadEnv } from './load-env.js';
import { sendAll } from './send.js';

const PROGRAM = 'producer';

/** Writes a line to stdout (the tutorial's output) or stderr (a one-line error). */
const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${PROGRAM}: ${line}\n`);

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return ExitCode.ok;
  }
  const { text, count } = parsed.args;
  const settings = loadEnv(env);
  const logger = createLogger({ name: PROGRAM, level: settings.LOG_LEVEL, secrets: [settings.AMQP_URL.password] });

  const name = PublicationName.hello;
  const queue = publications[name].queue;
  const payloads = count === undefined ? [text] : Array.from({ length: count }, (_, i) => `${text} #${i + 1}`);
  // Checked against the contract before connecting: a bad message never reaches the broker.
  const messages = payloads.map((payload) => encodeMessage(publications[name].message, payload));

  const broker = await openBroker(
    {
      endpoint: settings.AMQP_URL,
      connectTimeoutMs: settings.AMQP_CONNECT_TIMEOUT_MS,
      heartbeatSeconds: settings.AMQP_HEARTBEAT_SECONDS,
      confirmTimeoutMs: settings.PUBLISH_CONFIRM_TIMEOUT_MS,
      connectionName: PROGRAM,
    },
    logger,
  );

  // CTRL+C or SIGTERM: publish nothing new, let what is in flight settle (within the
  // confirm timeout), report. Repeats are ignored: under pnpm one CTRL+C arrives twice.
  const interrupt = new AbortController();
  const onSignal = () => {
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const report = await sendAll(broker, name, messages, {
      window: 10,
      confirmTimeoutMs: settings.PUBLISH_CONFIRM_TIMEOUT_MS,
      signal: interrupt.signal,
      onOutcome: (outcome, index) => {
        const level = outcome.status === 'confirmed' ? 'debug' : 'error';
        logger[level]({ messageId: outcome.messageId, queue, status: outcome.status }, outcome.status === 'confirmed' ? 'confirmed' : outcome.reason);
        if (count === undefined && outcome.status === 'confirmed') out(` [x] Sent '${payloads[index] ?? ''}'`);
      },
    });
    const ok = report.confirmed === report.total;
    if (count === undefined) {
      if (!ok) err(`'${text}' was not sent: ${report.firstFailure ?? 'interrupted'}`);
    } else if (ok) {
      out(` [x] Sent ${report.total} messages to '${queue}', all confirmed by the broker`);
    } else {
      const parts = [
        `${report.confirmed} confirmed`,
        `${report.returned} returned`,
        `${report.nacked} nacked`,
        `${report.failed} failed`,
        ...(report.notAttempted > 0 ? [`${report.notAttempted} not sent (interrupted)`] : []),
      ];
      err(
        `sent ${report.confirmed} of ${report.total} messages to '${queue}': ${parts.join(', ')}` +
          (report.firstFailure === undefined ? '' : `; first failure: ${report.firstFailure}`),
      );
    }
    return ok ? ExitCode.ok : ExitCode.failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await broker.shutdown().catch((e: unknown) => {
      logger.warn({ err: e }, 'error while closing the connection');
    });
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) err(problem);
      process.exitCode = error.exitCode;
    } else if (error instanceof BrokerError || error instanceof InvalidMessageError) {
      err(error.message);
      process.exitCode = error instanceof BrokerError ? error.exitCode : ExitCode.usage;
    } else {
      err(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = ExitCode.software;
    }
  },
);
