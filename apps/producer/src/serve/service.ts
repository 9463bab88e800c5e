import { setTimeout as sleep } from 'node:timers/promises';
import {
  closeWithin,
  ConfigError,
  createReadiness,
  watchBrokerConnection,
  withDeadline,
  type Logger,
} from '@hello-rabbit/runtime';
import { createHttpServer, createMetrics } from '@hello-rabbit/runtime/http';
import { createPublisher, MemoryDedupStore, openBroker } from '@hello-rabbit/transport';
import { PublicationName } from '@hello-rabbit/broker-config';
import { createPublishService } from './publish-service.js';
import { registerPublishRoutes } from './publish-routes.js';
import type { ServiceEnv } from './settings.js';

export interface RunningService {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /**
   * Stops, in this order: readiness drops (`/health/ready` answers 503); after `delayMs`
   * new messages are answered 503 (with `Retry-After`); the messages in flight get their
   * confirm and their 202 (those still waiting after `SHUTDOWN_TIMEOUT_MS` are answered
   * 503); the HTTP server closes; the connection closes. Resolves once done.
   */
  stop(delayMs: number): Promise<void>;
}

/**
 * Connects to the broker (the contract's topology checked), then serves the API, the
 * metrics and the health endpoints on one HTTP server.
 * @throws BrokerError when the broker cannot be used, ConfigError when the address cannot
 *   be listened on.
 */
export async function startService(settings: ServiceEnv, logger: Logger): Promise<RunningService> {
  const metrics = createMetrics();
  const readiness = createReadiness({ startup: 'starting' });

  // Idempotency-Keys: claimed in Redis shared by every instance when DEDUP_REDIS_URL says
  // so (checked before the broker: a bad password ends the start), else in this instance.
  // A store away only fails the requests with a key (503), so readiness stays.
  const shared =
    settings.DEDUP_WINDOW === 0 || settings.DEDUP_REDIS_URL === undefined
      ? undefined
      : await import('@hello-rabbit/transport/redis-dedup').then(({ openRedisDedupStore }) =>
          openRedisDedupStore(settings.DEDUP_REDIS_URL?.url ?? '', {
            logger,
            windowMs: settings.DEDUP_REDIS_WINDOW_MS,
            prefix: `hello-rabbit:${encodeURIComponent(settings.AMQP_URL.vhost)}`,
          }),
        );
  if (shared !== undefined)
    logger.info({ store: shared.redacted }, 'Idempotency-Keys: Redis, shared by every instance');
  const idempotency =
    settings.DEDUP_WINDOW === 0
      ? undefined
      : {
          store: shared ?? new MemoryDedupStore(settings.DEDUP_WINDOW, settings.DEDUP_REDIS_WINDOW_MS),
          leaseMs: settings.DEDUP_LEASE_MS,
        };

  const broker = await openBroker(
    {
      endpoint: settings.AMQP_URL,
      connectTimeoutMs: settings.AMQP_CONNECT_TIMEOUT_MS,
      heartbeatSeconds: settings.AMQP_HEARTBEAT_SECONDS,
      connectionName: 'producer (service)',
      topology: settings.AMQP_TOPOLOGY,
      // Every publication's queue: the service publishes to any of them.
      use: { publications: Object.values(PublicationName) },
      managementUrl: settings.AMQP_MANAGEMENT_URL,
    },
    logger,
  ).catch(async (err: unknown) => {
    await shared?.close();
    throw err;
  });
  const connection = watchBrokerConnection(broker, { metrics, readiness });
  const publisher = createPublisher(broker, {
    logger,
    maxInFlight: settings.PUBLISH_WINDOW,
    userId: settings.AMQP_URL.user,
  });
  const service = createPublishService({
    publisher,
    connection,
    logger,
    metrics,
    window: settings.PUBLISH_WINDOW,
    confirmTimeoutMs: settings.PUBLISH_CONFIRM_TIMEOUT_MS,
    deadlineMs: settings.PUBLISH_DEADLINE_MS,
    retryAfterSeconds: settings.HTTP_RETRY_AFTER_SECONDS,
    logPayloads: settings.LOG_PAYLOADS,
    idempotency,
  });
  metrics.trackInFlight('publish', () => service.inFlight);

  const server = createHttpServer({
    host: settings.HTTP_HOST,
    port: settings.HTTP_PORT,
    logger,
    metrics,
    readiness,
    maxEventLoopDelayMs: settings.LIVENESS_MAX_EVENT_LOOP_DELAY_MS,
  });
  registerPublishRoutes(server.app, service);

  const closeBroker = async () => {
    connection.stop();
    await closeWithin(
      'the connection',
      publisher.close().then(() => broker.shutdown()),
      logger,
    );
    await shared?.close();
  };

  let url: string;
  try {
    ({ url } = await server.listen());
  } catch (err) {
    await closeBroker();
    throw listenError(err, settings);
  }
  readiness.pass('startup');
  logger.info({ url }, 'listening');

  return {
    url,
    stop: async (delayMs) => {
      // The probes keep answering until the very end: ready 503 from now, live 200.
      readiness.fail('shutdown', 'shutting down');
      logger.info(
        { delayMs, inFlight: service.inFlight },
        'stopping: not ready any more; new messages are refused after the delay',
      );
      if (delayMs > 0) await sleep(delayMs);
      service.stopAccepting();
      logger.info({ inFlight: service.inFlight }, 'new messages are refused; waiting for the ones in flight');
      const inTime = await withDeadline(
        service.drained(),
        settings.SHUTDOWN_TIMEOUT_MS,
        () => new Error('shutdown timeout'),
      ).then(
        () => true,
        () => false,
      );
      if (!inTime) {
        logger.warn(
          { inFlight: service.inFlight },
          'messages still unconfirmed at SHUTDOWN_TIMEOUT_MS are answered 503',
        );
        service.abandonInFlight();
      }
      await closeWithin('the HTTP server', server.close(), logger);
      await closeBroker();
      logger.info('stopped');
    },
  };
}

/** A listen failure that a setting explains, as one line naming the setting. */
function listenError(err: unknown, settings: ServiceEnv): unknown {
  const code = (err as { code?: unknown }).code;
  const where = `${settings.HTTP_HOST}:${settings.HTTP_PORT}`;
  if (code === 'EADDRINUSE') return new ConfigError(`HTTP_PORT: ${where} is already in use`);
  if (code === 'EACCES') return new ConfigError(`HTTP_PORT: no permission to listen on ${where}`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConfigError(`HTTP_HOST: '${settings.HTTP_HOST}' is not an address of this machine`);
  }
  return err;
}
