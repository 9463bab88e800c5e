import { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fastify, LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from './logger.js';
import type { Metrics } from './metric-events.js';
import type { Readiness } from './readiness.js';

export interface HttpServerOptions {
  /** The address to listen on, e.g. `0.0.0.0` in a container, `127.0.0.1` on a workstation. */
  readonly host: string;
  /** The TCP port; `0` picks a free one (see `listen()`'s answer). */
  readonly port: number;
  /** Fastify logs through it (request logging is off: apps log what matters). */
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  /**
   * `/health/live` fails while the event loop was held longer than this, at once, within
   * the last 5 to 10 seconds: the process is wedged (a busy loop, a synchronous call that
   * never returns) even if it still answers now and then. @default 5000
   */
  readonly maxEventLoopDelayMs?: number;
}

export interface HttpServer {
  /** The Fastify instance: apps add their routes before `listen()`. */
  readonly app: FastifyInstance;
  /** Starts listening; resolves with the address actually bound. */
  listen(): Promise<{ readonly host: string; readonly port: number; readonly url: string }>;
  /**
   * Stops listening, closes idle keep-alive connections, and resolves once the requests in
   * progress have been answered.
   */
  close(): Promise<void>;
}

/** The event-loop delay is measured over windows of this length; liveness looks at the last two. */
const DELAY_WINDOW_MS = 5000;

/**
 * The HTTP server of both apps: `GET /metrics` (Prometheus text format), `GET /health/live`
 * (200 unless the event loop is wedged) and `GET /health/ready` (200 when every readiness
 * condition is met, 503 with the reasons otherwise), ready for Kubernetes probes.
 *
 * Errors are answered as `{ statusCode, error, message }`; a 5xx that nobody expected says
 * "internal error" and is logged, never echoing internals. Request bodies are validated
 * strictly: no type coercion, no silently dropped properties.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { metrics, readiness } = options;
  const maxDelayMs = options.maxEventLoopDelayMs ?? 5000;

  // Typed as Fastify's logger, so that the instance (and the apps' routes) are plain FastifyInstance.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = fastify({
    loggerInstance,
    // No line per request from Fastify: the apps log one line per message that matters.
    logController: new LogController({ disableRequestLogging: true }),
    // The app decides what a request gets while it stops (503 with Retry-After), and the
    // probes keep answering until the server is gone.
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) {
      request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
      return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message: 'internal error' });
    }
    return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message: error.message });
  });

  // The longest the event loop was held at once, this window and the last.
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let previousWindowMaxNs = 0;
  const rotate = setInterval(() => {
    previousWindowMaxNs = delay.max;
    delay.reset();
  }, DELAY_WINDOW_MS);
  rotate.unref();
  const worstDelayMs = () => Math.round(Math.max(previousWindowMaxNs, delay.max) / 1e6);

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.render();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
  });

  app.get('/health/live', async (_request, reply) => {
    const eventLoopDelayMs = worstDelayMs();
    reply.header('cache-control', 'no-store');
    if (eventLoopDelayMs > maxDelayMs) {
      return reply.code(503).send({ status: 'wedged', eventLoopDelayMs, maxEventLoopDelayMs: maxDelayMs });
    }
    return reply.code(200).send({ status: 'live', eventLoopDelayMs });
  });

  app.get('/health/ready', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (readiness.ready) return reply.code(200).send({ status: 'ready' });
    return reply.code(503).send({ status: 'not ready', reasons: readiness.reasons });
  });

  app.addHook('onClose', () => {
    clearInterval(rotate);
    delay.disable();
  });

  return {
    app,
    listen: async () => {
      await app.listen({ host: options.host, port: options.port });
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { host: address.address, port: address.port, url: `http://${host}:${address.port}` };
    },
    close: () => app.close(),
  };
}
