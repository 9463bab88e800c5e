import {
  createLogger,
  createReadiness,
  ExitCode,
  onStopSignal,
  watchBrokerConnection,
  withDeadline,
} from '@hello-rabbit/runtime';
import type { HttpServer } from '@hello-rabbit/runtime/http';
import {
  MemoryDedupStore,
  openBroker,
  REMEMBERS_NOTHING,
  startConsumer,
  startExchangeConsumer,
  startRpcServer,
  type DedupStore,
  type RunningConsumer,
} from '@hello-rabbit/transport';
import {
  ExchangeName,
  exchangeSubscriptions,
  isExchangeName,
  RpcName,
  SubscriptionName,
  subscriptions,
} from '@hello-rabbit/broker-config';
import type { ConsumerArgs } from './cli.js';
import { answerFibonacci, doTask, printLog, printMessage, printRoutedLog } from './handlers.js';
import { loadEnv } from './load-env.js';

// The consumer's work, loaded once the command line asked for it (`--help` does not load
// this, nor the broker client, the logger or the settings' schemas).

const PROGRAM = 'consumer';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Resolves with the exit code once the consumer has stopped. */
export async function consume(args: ConsumerArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const { from, keys } = args;
  const settings = loadEnv(env);
  const secrets = [
    settings.AMQP_URL.password,
    ...(settings.DEDUP_REDIS_URL === undefined ? [] : [settings.DEDUP_REDIS_URL.password]),
  ];
  const logger = createLogger({ name: PROGRAM, level: settings.LOG_LEVEL, secrets });

  // Metrics and health, when HTTP_PORT asks for them: ready once subscribed, not while
  // the broker is away, and no longer from the first signal on. Without HTTP_PORT the HTTP
  // server (Fastify) and the metrics registry are never loaded.
  const observability = settings.HTTP_PORT === undefined ? undefined : await import('@hello-rabbit/runtime/http');
  const metrics = observability?.createMetrics();
  const readiness = createReadiness({ startup: 'starting: connecting and subscribing' });
  let http: HttpServer | undefined;
  if (observability !== undefined && metrics !== undefined) {
    http = observability.createHttpServer({
      host: settings.HTTP_HOST,
      port: settings.HTTP_PORT ?? 0,
      logger,
      metrics,
      readiness,
      maxEventLoopDelayMs: settings.LIVENESS_MAX_EVENT_LOOP_DELAY_MS,
    });
    const { url } = await http.listen();
    logger.info({ url }, 'metrics and health endpoints listening');
  }
  const closeHttp = async () => {
    await http?.close().catch((e: unknown) => {
      logger.warn({ err: e }, 'could not close the HTTP server');
    });
  };

  // The dedup store: Redis shared by every worker when DEDUP_REDIS_URL says so (checked
  // here, before the broker: a bad password ends the start), else in memory.
  const shared =
    settings.DEDUP_WINDOW === 0 || settings.DEDUP_REDIS_URL === undefined || isExchangeName(from)
      ? undefined
      : await import('@hello-rabbit/transport/redis-dedup')
          .then(({ openRedisDedupStore }) =>
            openRedisDedupStore(settings.DEDUP_REDIS_URL?.url ?? '', {
              logger,
              windowMs: settings.DEDUP_REDIS_WINDOW_MS,
              // Queues are per vhost, and so are the tasks done in them.
              prefix: `hello-rabbit:${encodeURIComponent(settings.AMQP_URL.vhost)}`,
              // Not ready while the store is away: no task is started meanwhile.
              onChange: (answering) => {
                if (answering) readiness.pass('dedup-store');
                else readiness.fail('dedup-store', 'dedup store unreachable');
              },
            }),
          )
          .catch(async (e: unknown) => {
            await closeHttp();
            throw e;
          });
  if (shared !== undefined) logger.info({ store: shared.redacted }, 'dedup store: Redis, shared by every worker');
  const dedup: DedupStore =
    settings.DEDUP_WINDOW === 0 ? REMEMBERS_NOTHING : (shared ?? new MemoryDedupStore(settings.DEDUP_WINDOW));
  const closeStore = async () => {
    await shared?.close();
  };

  const broker = await openBroker(
    {
      endpoint: settings.AMQP_URL,
      connectTimeoutMs: settings.AMQP_CONNECT_TIMEOUT_MS,
      heartbeatSeconds: settings.AMQP_HEARTBEAT_SECONDS,
      prefetch:
        settings.CONSUMER_PREFETCH ??
        (isExchangeName(from) ? exchangeSubscriptions[from] : subscriptions[from]).prefetch,
      closeTimeoutMs: settings.SHUTDOWN_TIMEOUT_MS,
      connectionName: `${PROGRAM} (${from})`,
      topology: settings.AMQP_TOPOLOGY,
      // Only its queue, retry queues and dead-letter queue (none for an exchange subscriber,
      // whose own queue is declared when it subscribes).
      use: isExchangeName(from) ? {} : { subscriptions: [from] },
      managementUrl: settings.AMQP_MANAGEMENT_URL,
    },
    logger,
  ).catch(async (e: unknown) => {
    await closeStore();
    await closeHttp();
    throw e;
  });
  watchBrokerConnection(broker, { metrics, readiness });

  // Signals are handled from here on, before the subscription starts, so that a stop
  // request is never lost to Node's default handler (which would exit without closing).
  const running: { consumer?: RunningConsumer } = {};
  const stopped = new Promise<number>((resolve) => {
    onStopSignal(logger, (signal) => {
      readiness.fail('shutdown', 'shutting down');
      logger.info({ signal }, 'stopping: no new deliveries, finishing the ones in hand');
      // Cancel the subscription and wait for the deliveries in hand (up to
      // SHUTDOWN_TIMEOUT_MS, after which their channel closes and the broker requeues
      // them); deliveries that arrive meanwhile go back unstarted. Then close.
      const shutdown = Promise.resolve(running.consumer?.stop())
        .catch((e: unknown) => {
          logger.warn({ err: e }, 'deliveries still in hand at the deadline go back to the queue');
        })
        .then(() => broker.shutdown())
        .finally(async () => {
          await closeStore();
          await closeHttp();
        });
      withDeadline(shutdown, settings.SHUTDOWN_TIMEOUT_MS + 5000, () => new Error('shutdown deadline passed')).then(
        () => {
          logger.info('stopped');
          resolve(ExitCode.ok);
        },
        (e: unknown) => {
          logger.error({ err: e }, 'could not stop cleanly; unacked deliveries return to the queue');
          resolve(ExitCode.software);
        },
      );
    });
  });

  const engine = {
    logger,
    confirmTimeoutMs: settings.PUBLISH_CONFIRM_TIMEOUT_MS,
    maxAttempts: settings.MAX_ATTEMPTS,
    retryDelaysMs: settings.RETRY_DELAYS_MS,
    dedup,
    dedupLeaseMs: settings.DEDUP_LEASE_MS,
    metrics,
    userId: settings.AMQP_URL.user,
    allowedPublishers: settings.ALLOWED_PUBLISHERS,
  };
  if (isExchangeName(from)) {
    // Tutorials 3 to 5: a queue of its own, bound with the keys; every line printed.
    running.consumer = await startExchangeConsumer(
      broker,
      from,
      from === ExchangeName.logs ? printLog(out) : printRoutedLog(out),
      {
        logger,
        bindingKeys: keys,
        topology: settings.AMQP_TOPOLOGY,
        prefetch: settings.CONSUMER_PREFETCH,
        closeTimeoutMs: settings.SHUTDOWN_TIMEOUT_MS,
        metrics,
      },
    );
    readiness.pass('startup');
    out(' [*] Waiting for logs. To exit press CTRL+C');
    return stopped;
  }
  if (from === SubscriptionName.rpc) {
    // Tutorial 6's server: a consumer like any other, whose answer is replied (confirmed) before the ack.
    running.consumer = await startRpcServer(broker, RpcName.fibonacci, answerFibonacci(out), engine);
    readiness.pass('startup');
    out(' [x] Awaiting RPC requests');
    return stopped;
  }
  running.consumer = await startConsumer(
    broker,
    from,
    from === SubscriptionName.task
      ? doTask(out, settings.WORK_UNIT_MS, settings.FAIL_TASKS_MATCHING)
      : printMessage(out),
    engine,
  );
  readiness.pass('startup');
  out(' [*] Waiting for messages. To exit press CTRL+C');
  return stopped;
}
