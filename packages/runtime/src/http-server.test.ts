import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../test/helpers.js';
import { createHttpServer, type HttpServer, type HttpServerOptions } from './http-server.js';
import { createReadiness } from './readiness.js';
import { createMetrics } from './metrics.js';

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function serve(options: Partial<HttpServerOptions> = {}) {
  const { logger, lines } = memoryLogger();
  const metrics = options.metrics ?? createMetrics();
  const readiness = options.readiness ?? createReadiness();
  server = createHttpServer({ host: '127.0.0.1', port: 0, logger, metrics, readiness, ...options });
  return { server, app: server.app, metrics, readiness, lines };
}

/** Holds the event loop, as a wedged process would. */
function holdEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

describe('GET /health/ready', () => {
  it('answers 200 while every condition is met, 503 with the reasons while one is not', async () => {
    const { app, readiness } = serve({ readiness: createReadiness({ startup: 'starting' }) });
    let response = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not ready', reasons: ['starting'] });

    readiness.pass('startup');
    response = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready' });
    expect(response.headers['cache-control']).toBe('no-store');

    readiness.fail('broker', 'not connected to the broker');
    readiness.fail('shutdown', 'shutting down');
    response = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not ready', reasons: ['not connected to the broker', 'shutting down'] });
  });
});

describe('GET /health/live', () => {
  it('answers 200 while the event loop turns', async () => {
    const { app } = serve({ maxEventLoopDelayMs: 30_000 });
    const response = await app.inject({ method: 'GET', url: '/health/live' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'live' });
  });

  it('answers 503 once the event loop was held longer than the limit', async () => {
    const { app } = serve({ maxEventLoopDelayMs: 200 });
    // The delay monitor measures from its first tick on.
    await new Promise((resolve) => setTimeout(resolve, 100));
    holdEventLoop(800);
    // Let the delay monitor's timer fire and record the hold.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const response = await app.inject({ method: 'GET', url: '/health/live' });
    expect(response.statusCode).toBe(503);
    const body = response.json<{ status: string; eventLoopDelayMs: number; maxEventLoopDelayMs: number }>();
    expect(body.status).toBe('wedged');
    expect(body.maxEventLoopDelayMs).toBe(200);
    expect(body.eventLoopDelayMs).toBeGreaterThan(200);
  });
});

describe('GET /metrics', () => {
  it("serves the registry in Prometheus' text format, as the metrics move", async () => {
    const { app, metrics } = serve();
    metrics.messagePublished('hello');
    let response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('hello_rabbit_messages_published_total{queue="hello"} 1');
    metrics.messagePublished('hello');
    response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.body).toContain('hello_rabbit_messages_published_total{queue="hello"} 2');
    expect(response.body).toContain('# TYPE process_cpu_seconds_total counter');
  });
});

describe('errors', () => {
  it('answers an unexpected failure with 500 "internal error", logging it without echoing it', async () => {
    const { app, lines } = serve();
    app.get('/boom', () => {
      throw new Error('secret internals');
    });
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
    expect(lines.some((line) => line.includes('secret internals') && line.includes('request failed'))).toBe(true);
  });

  it('validates bodies strictly: no type coercion, no extra properties silently dropped', async () => {
    const { app } = serve();
    app.post(
      '/strict',
      {
        schema: {
          body: { type: 'object', properties: { n: { type: 'string' } }, required: ['n'], additionalProperties: false },
        },
      },
      (request) => request.body,
    );
    const post = (payload: unknown) => app.inject({ method: 'POST', url: '/strict', payload: payload as object });
    expect((await post({ n: 'x' })).statusCode).toBe(200);
    const coerced = await post({ n: 1 });
    expect(coerced.statusCode).toBe(400);
    expect(coerced.json()).toEqual({ statusCode: 400, error: 'Bad Request', message: 'body/n must be string' });
    expect((await post({ n: 'x', extra: true })).statusCode).toBe(400);
  });

  it('answers an unknown route with 404', async () => {
    const { app } = serve();
    const response = await app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
  });
});

describe('listen and close', () => {
  it('listens on the host and port given (0: a free one), then stops', async () => {
    const { server: running } = serve({ readiness: createReadiness() });
    const address = await running.listen();
    expect(address.host).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    expect(address.url).toBe(`http://127.0.0.1:${address.port}`);
    const response = await fetch(`${address.url}/health/ready`);
    expect(response.status).toBe(200);
    await running.close();
    server = undefined;
    await expect(fetch(`${address.url}/health/ready`)).rejects.toThrow();
  });
});
