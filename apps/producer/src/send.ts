import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { closeWithin, ConfigError, createLogger, ExitCode, onStopSignal } from '@hello-rabbit/runtime';
import { createPublisher, declareExchange, openBroker, sendAll, type Broker } from '@hello-rabbit/transport';
import {
  encodeMessage,
  exchangePublications,
  exchanges,
  InvalidMessageError,
  isExchangeName,
  publications,
  type TopologyUse,
} from '@hello-rabbit/broker-config';
import { callFibonacci } from './call.js';
import type { CallArgs, ProducerArgs } from './cli.js';
import { loadEnv } from './load-env.js';
import { createProgress } from './progress.js';

// The producer's commands, loaded once the command line asked for one (`--help` does not
// load this, nor the broker client, the logger or the settings' schemas).

const PROGRAM = 'producer';

/** Writes a line to stdout (the tutorial's output) or stderr (a one-line error). */
const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${PROGRAM}: ${line}\n`);

/** Tutorial 6's client: `--rpc n`. */
export async function call(args: CallArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const settings = loadEnv(env);
  const logger = createLogger({ name: PROGRAM, level: settings.LOG_LEVEL, secrets: [settings.AMQP_URL.password] });
  return withBroker(settings, logger, (broker) =>
    callFibonacci(broker, args, { out, err, logger, userId: settings.AMQP_URL.user }),
  );
}

/** Publishes the message (or `--count` of them) and waits for every confirm. */
export async function send(args: ProducerArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const settings = loadEnv(env);
  const logger = createLogger({ name: PROGRAM, level: settings.LOG_LEVEL, secrets: [settings.AMQP_URL.password] });
  const { text, count, to, key, report } = args;

  // To a queue through the default exchange, or to an exchange (tutorials 3 to 5) with a key.
  const { queue, message: kind } = isExchangeName(to)
    ? { queue: to, message: exchangePublications[to].message }
    : publications[to];
  const routingKey = isExchangeName(to) ? (key ?? exchangePublications[to].defaultRoutingKey) : undefined;
  const total = count ?? 1;
  const body = (index: number) => (count === undefined ? text : `${text} #${index + 1}`);
  const message = (index: number) => encodeMessage(kind, body(index));
  // Checked against the contract before connecting: the longest body is the last one. A
  // body the contract refuses (too long, say) is a bad argument: one line, exit 64.
  try {
    message(total - 1);
  } catch (e) {
    if (e instanceof InvalidMessageError) throw new ConfigError(e.message, undefined, 'usage');
    throw e;
  }
  // The tutorials' line: ' [x] Sent 'text'', and to direct_logs and topic_logs ' [x] Sent 'key':'text''.
  // A returned message to an exchange: nobody subscribes (yet). The tutorial would lose it silently.
  const hint = (returned: number) =>
    returned > 0 && routingKey !== undefined
      ? `; no subscriber is listening: start one first (consumer --from ${to}), ` +
        'publish/subscribe keeps nothing for later'
      : '';
  const sentLine =
    routingKey === undefined || to === 'logs' ? ` [x] Sent '${text}'` : ` [x] Sent '${routingKey}':'${text}'`;

  // Only the queue it publishes to (none for an exchange, which is declared below).
  const broker = await openBroker(brokerSettings(settings, isExchangeName(to) ? {} : { publications: [to] }), logger);
  // An exchange is declared by whoever uses it, as the tutorial programs do (or adopted).
  if (isExchangeName(to)) {
    await declareExchange(broker, exchanges[to], logger, { topology: settings.AMQP_TOPOLOGY }).catch(
      async (e: unknown) => {
        await broker.shutdown().catch(() => undefined);
        throw e;
      },
    );
  }

  // CTRL+C or SIGTERM: publish nothing new, let what is in flight settle (within the
  // confirm timeout), report. (A second one later than a second exits at once.)
  const interrupt = new AbortController();
  const stopListening = onStopSignal(logger, () => {
    interrupt.abort();
  });
  const publisher = createPublisher(broker, {
    logger,
    maxInFlight: settings.PUBLISH_WINDOW,
    userId: settings.AMQP_URL.user,
  });
  const reportFile: WriteStream | undefined = report === undefined ? undefined : createWriteStream(report);
  const progress = createProgress(count ?? 0);

  try {
    const result = await sendAll(publisher, queue, total, message, {
      window: settings.PUBLISH_WINDOW,
      confirmTimeoutMs: settings.PUBLISH_CONFIRM_TIMEOUT_MS,
      deadlineMs: settings.PUBLISH_DEADLINE_MS,
      logger,
      appId: PROGRAM,
      signal: interrupt.signal,
      routingKey,
      onSettled: (settled) => {
        const { messageId, status, attempts } = settled;
        progress.settled(status === 'confirmed');
        if (status === 'confirmed') logger.debug({ messageId, queue, attempts }, 'confirmed');
        else logger.error({ messageId, queue, status, attempts }, settled.reason ?? status);
        reportFile?.write(`${JSON.stringify({ ...settled, body: body(settled.index) })}\n`);
        if (count === undefined && status === 'confirmed') out(sentLine);
      },
    });
    progress.stop();
    const ok = result.confirmed === result.total;
    if (count === undefined) {
      if (!ok) err(`'${text}' was not sent: ${result.firstFailure ?? 'interrupted'}${hint(result.returned)}`);
    } else if (ok) {
      out(` [x] Sent ${result.total} messages to '${queue}', all confirmed by the broker`);
    } else {
      const parts = [
        `${result.confirmed} confirmed`,
        `${result.returned} returned`,
        `${result.nacked} nacked`,
        `${result.failed} failed`,
        ...(result.unsent > 0 ? [`${result.unsent} not sent (interrupted)`] : []),
      ];
      err(
        `sent ${result.confirmed} of ${result.total} messages to '${queue}': ${parts.join(', ')}` +
          (result.firstFailure === undefined ? '' : `; first failure: ${result.firstFailure}`) +
          hint(result.returned),
      );
    }
    return ok ? ExitCode.ok : ExitCode.failure;
  } finally {
    progress.stop();
    stopListening();
    if (reportFile !== undefined) {
      reportFile.end();
      await once(reportFile, 'finish');
    }
    // Every message has settled by now: closing cannot lose one. A connection that dies
    // while closing must not hold the exit, so closing has a deadline.
    await closeWithin(
      'the connection',
      publisher.close().then(() => broker.shutdown()),
      logger,
    );
  }
}

/**
 * Opens the broker, runs `work`, and closes the connection (within its deadline) whatever
 * happened.
 */
async function withBroker(
  settings: ReturnType<typeof loadEnv>,
  logger: ReturnType<typeof createLogger>,
  work: (broker: Broker) => Promise<number>,
): Promise<number> {
  // The RPC client uses direct reply-to and the server's queue, which the server declares.
  const broker = await openBroker(brokerSettings(settings, {}), logger);
  try {
    return await work(broker);
  } finally {
    await closeWithin('the connection', broker.shutdown(), logger);
  }
}

/** What the producer asks of its broker connection, from its settings; `use`: the queues it needs. */
function brokerSettings(settings: ReturnType<typeof loadEnv>, use: TopologyUse) {
  return {
    use,
    endpoint: settings.AMQP_URL,
    connectTimeoutMs: settings.AMQP_CONNECT_TIMEOUT_MS,
    heartbeatSeconds: settings.AMQP_HEARTBEAT_SECONDS,
    connectionName: PROGRAM,
    topology: settings.AMQP_TOPOLOGY,
    managementUrl: settings.AMQP_MANAGEMENT_URL,
  };
}
