import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, DeadLetterReason, PublishFailureReason } from './metrics.js';

/** The value of one series in the exposition text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createMetrics', () => {
  it('counts publishing: published, resent, confirmed (with its latency), returned and failed, per queue', async () => {
    const metrics = createMetrics();
    metrics.messagePublished('hello');
    metrics.messagePublished('hello');
    metrics.messagePublished('task_queue');
    metrics.messageResent('hello');
    metrics.messageConfirmed('hello', 0.002);
    metrics.messageReturned('task_queue');
    metrics.messagePublishFailed('hello', PublishFailureReason.nacked);
    metrics.messagePublishFailed('hello', PublishFailureReason.unconfirmed);
    const text = await metrics.render();
    expect(sample(text, 'hello_rabbit_messages_published_total{queue="hello"}')).toBe(2);
    expect(sample(text, 'hello_rabbit_messages_published_total{queue="task_queue"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_resent_total{queue="hello"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_confirmed_total{queue="hello"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_returned_total{queue="task_queue"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_publish_failed_total{queue="hello",reason="nacked"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_publish_failed_total{queue="hello",reason="unconfirmed"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_confirm_latency_seconds_count{queue="hello"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_confirm_latency_seconds_bucket{le="0.0025",queue="hello"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_confirm_latency_seconds_bucket{le="0.001",queue="hello"}')).toBe(0);
  });

  it('counts consuming: delivered, acked, retried, dead-lettered by reason, duplicates, handler duration', async () => {
    const metrics = createMetrics();
    metrics.messageDelivered('task_queue');
    metrics.messageAcked('task_queue');
    metrics.messageRetried('task_queue');
    metrics.messageDeadLettered('task_queue', DeadLetterReason.maxAttempts);
    metrics.messageDeadLettered('hello', DeadLetterReason.invalid);
    metrics.duplicateSuppressed('task_queue');
    metrics.observeHandlerDuration('task_queue', 1.5, 'success');
    const text = await metrics.render();
    expect(sample(text, 'hello_rabbit_messages_delivered_total{queue="task_queue"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_acked_total{queue="task_queue"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_retried_total{queue="task_queue"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_dead_lettered_total{queue="task_queue",reason="max_attempts"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_messages_dead_lettered_total{queue="hello",reason="invalid"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_duplicates_suppressed_total{queue="task_queue"}')).toBe(1);
    expect(sample(text, 'hello_rabbit_handler_duration_seconds_sum{queue="task_queue",outcome="success"}')).toBe(1.5);
  });

  it('measures end-to-end latency from the AMQP timestamp, never below zero; skips messages without one', async () => {
    const metrics = createMetrics();
    const now = 1_700_000_042_500;
    metrics.observeEndToEndLatency('hello', 1_700_000_000, now);
    // A timestamp a little ahead of this clock (another machine's) counts as 0, not negative.
    metrics.observeEndToEndLatency('hello', 1_700_000_043, now);
    metrics.observeEndToEndLatency('hello', undefined, now);
    const text = await metrics.render();
    expect(sample(text, 'hello_rabbit_end_to_end_latency_seconds_count{queue="hello"}')).toBe(2);
    expect(sample(text, 'hello_rabbit_end_to_end_latency_seconds_sum{queue="hello"}')).toBe(42.5);
  });

  it('reads the messages in flight from their sources at each scrape, until a source is removed', async () => {
    const metrics = createMetrics();
    let service = 3;
    const removeService = metrics.trackInFlight('publish', () => service);
    metrics.trackInFlight('publish', () => 2);
    metrics.trackInFlight('consume', () => 1);
    expect(sample(await metrics.render(), 'hello_rabbit_in_flight_messages{direction="publish"}')).toBe(5);
    service = 7;
    expect(sample(await metrics.render(), 'hello_rabbit_in_flight_messages{direction="publish"}')).toBe(9);
    removeService();
    const text = await metrics.render();
    expect(sample(text, 'hello_rabbit_in_flight_messages{direction="publish"}')).toBe(2);
    expect(sample(text, 'hello_rabbit_in_flight_messages{direction="consume"}')).toBe(1);
  });

  it('shows the connection state as 0/1 gauges, disconnected until told otherwise', async () => {
    const metrics = createMetrics();
    expect(sample(await metrics.render(), 'hello_rabbit_broker_connected')).toBe(0);
    metrics.setBrokerConnected(true);
    metrics.setBrokerBlocked(true);
    const text = await metrics.render();
    expect(sample(text, 'hello_rabbit_broker_connected')).toBe(1);
    expect(sample(text, 'hello_rabbit_broker_blocked')).toBe(1);
  });

  it("includes Node's default process metrics", async () => {
    const text = await createMetrics().render();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
  });

  it("follows Prometheus' naming conventions: one namespace, _total counters, seconds, snake_case labels", async () => {
    const metrics = createMetrics();
    const families = (await metrics.registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('hello_rabbit_'));
    expect(families.map((m) => m.name).sort()).toEqual([
      'hello_rabbit_broker_blocked',
      'hello_rabbit_broker_connected',
      'hello_rabbit_confirm_latency_seconds',
      'hello_rabbit_duplicates_suppressed_total',
      'hello_rabbit_end_to_end_latency_seconds',
      'hello_rabbit_handler_duration_seconds',
      'hello_rabbit_in_flight_messages',
      'hello_rabbit_messages_acked_total',
      'hello_rabbit_messages_confirmed_total',
      'hello_rabbit_messages_dead_lettered_total',
      'hello_rabbit_messages_delivered_total',
      'hello_rabbit_messages_publish_failed_total',
      'hello_rabbit_messages_published_total',
      'hello_rabbit_messages_resent_total',
      'hello_rabbit_messages_retried_total',
      'hello_rabbit_messages_returned_total',
    ]);
    for (const family of families) {
      expect(family.name).toMatch(/^[a-z][a-z0-9_]*$/);
      if (String(family.type) === 'counter') expect(family.name).toMatch(/_total$/);
      else expect(family.name).not.toMatch(/_total$/);
      if (String(family.type) === 'histogram') expect(family.name).toMatch(/_seconds$/);
      expect(family.help.length).toBeGreaterThan(10);
    }
  });

  it('keeps the dead-letter reason label to a fixed set of snake_case values', () => {
    expect(Object.values(DeadLetterReason)).toEqual([
      'invalid',
      'malformed_headers',
      'handler_failed',
      'max_attempts',
      'untrusted_publisher',
    ]);
  });

  it('defines its metrics on a registry it is given, and refuses to define them twice there', () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    expect(metrics.registry).toBe(registry);
    expect(() => createMetrics(registry)).toThrow(/already been registered/);
  });
});
