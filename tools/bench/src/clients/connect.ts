import type { ClientName } from '../jobs.js';
import type { BenchClient } from './client.js';

export interface ConnectOptions {
  /** Publishes awaiting their confirm at most (the project's publisher takes it as maxInFlight). */
  readonly window: number;
  /** Unacknowledged deliveries at most, for clients that set it at connection time. */
  readonly prefetch: number;
}

/**
 * Connects one client. Each library is imported only here, on demand: a runner loads the
 * one it measures, and a peer that is not installed (or does not load) is reported as
 * unavailable instead of failing the run.
 */
export async function connectClient(name: ClientName, url: string, options: ConnectOptions): Promise<BenchClient> {
  switch (name) {
    case 'project':
      return (await import('./project.js')).connectProject(url, options.window, options.prefetch);
    case 'project-redis':
      // The shared Redis of this machine (as the tests use it), or REDIS_URL.
      return (await import('./project.js')).connectProject(url, options.window, options.prefetch, {
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      });
    case 'amqplib':
      return (await import('./amqplib.js')).connectAmqplib(url);
    case 'amqplib-mandatory':
      return (await import('./amqplib.js')).connectAmqplib(url, { mandatory: true });
    case 'rabbitmq-client':
      return (await import('./rabbitmq-client.js')).connectRabbitmqClient(url);
    case 'amqp-connection-manager':
      return (await import('./amqp-connection-manager.js')).connectAmqpConnectionManager(url);
  }
}

/** Whether a client's library loads here; the reason when it does not. */
export async function probeClient(
  name: ClientName,
): Promise<{ available: true } | { available: false; reason: string }> {
  try {
    switch (name) {
      case 'project':
        await import('./project.js');
        break;
      case 'project-redis':
        await import('./project.js');
        await import('@hello-rabbit/transport/redis-dedup');
        break;
      case 'amqplib':
      case 'amqplib-mandatory':
        await import('./amqplib.js');
        break;
      case 'rabbitmq-client':
        await import('./rabbitmq-client.js');
        break;
      case 'amqp-connection-manager':
        await import('./amqp-connection-manager.js');
        break;
    }
    return { available: true };
  } catch (err) {
    return { available: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
