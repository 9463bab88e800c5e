// The health and metrics server, for the apps that serve HTTP (it loads Fastify and
// prom-client, which the others never do).
export { createHttpServer } from './http-server.js';
export type { HttpServer, HttpServerOptions } from './http-server.js';
export { createMetrics } from './metrics.js';
