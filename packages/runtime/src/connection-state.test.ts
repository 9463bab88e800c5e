import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchBrokerConnection } from './connection-state.js';
import { createReadiness } from './readiness.js';
import { createMetrics } from './metrics.js';

const gauge = async (metrics: ReturnType<typeof createMetrics>, name: string) =>
  (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;

describe('watchBrokerConnection', () => {
  it('starts connected and ready, as openBroker hands the broker over', async () => {
    const metrics = createMetrics();
    const readiness = createReadiness({ broker: 'connecting' });
    const state = watchBrokerConnection(new EventEmitter(), { metrics, readiness });
    expect(state.connected).toBe(true);
    expect(readiness.ready).toBe(true);
    expect(await gauge(metrics, 'hello_rabbit_broker_connected')).toBe(1);
  });

  it("follows Rascal's disconnect and connect: the gauge and readiness drop, then come back", async () => {
    const broker = new EventEmitter();
    const metrics = createMetrics();
    const readiness = createReadiness();
    const state = watchBrokerConnection(broker, { metrics, readiness });

    broker.emit('disconnect');
    expect(state.connected).toBe(false);
    expect(readiness.ready).toBe(false);
    expect(readiness.reasons).toEqual(['not connected to the broker (reconnecting)']);
    expect(await gauge(metrics, 'hello_rabbit_broker_connected')).toBe(0);

    // Rascal says 'disconnect' again at each failed reconnection attempt.
    broker.emit('disconnect');
    expect(readiness.reasons).toEqual(['not connected to the broker (reconnecting)']);

    broker.emit('connect');
    expect(state.connected).toBe(true);
    expect(readiness.ready).toBe(true);
    expect(await gauge(metrics, 'hello_rabbit_broker_connected')).toBe(1);
  });

  it('is not ready while the broker blocks publishing, and a new connection starts unblocked', async () => {
    const broker = new EventEmitter();
    const metrics = createMetrics();
    const readiness = createReadiness();
    const state = watchBrokerConnection(broker, { metrics, readiness });

    broker.emit('blocked', 'low on memory');
    expect(state.blocked).toBe(true);
    expect(readiness.reasons).toEqual(['the broker blocks publishing (resource alarm)']);
    expect(await gauge(metrics, 'hello_rabbit_broker_blocked')).toBe(1);
    broker.emit('unblocked');
    expect(readiness.ready).toBe(true);

    broker.emit('blocked', 'low on memory');
    broker.emit('disconnect');
    broker.emit('connect');
    expect(state.blocked).toBe(false);
    expect(readiness.ready).toBe(true);
    expect(await gauge(metrics, 'hello_rabbit_broker_blocked')).toBe(0);
  });

  it('leaves other readiness conditions alone', () => {
    const broker = new EventEmitter();
    const readiness = createReadiness({ shutdown: 'shutting down' });
    watchBrokerConnection(broker, { readiness });
    broker.emit('connect');
    expect(readiness.reasons).toEqual(['shutting down']);
  });

  it('stops listening when stopped', () => {
    const broker = new EventEmitter();
    const state = watchBrokerConnection(broker);
    state.stop();
    broker.emit('disconnect');
    expect(state.connected).toBe(true);
    expect(broker.eventNames()).toEqual([]);
  });
});
