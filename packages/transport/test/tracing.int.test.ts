import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { eventually, pythonWithPika, runProcess, TASK_QUEUES, useTestVhost } from '@hello-rabbit/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { createPublisher } from '../src/publisher.js';
import { startConsumer, type RunningConsumer } from '../src/start-consumer.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('tracing', { queues: TASK_QUEUES });
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
let broker: Broker | undefined;
let consumer: RunningConsumer | undefined;

beforeAll(() => {
  // What an application does to turn tracing on (here with an in-memory exporter).
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

afterEach(async () => {
  await consumer?.stop();
  await broker?.shutdown();
  consumer = undefined;
  broker = undefined;
  exporter.reset();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const byName = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('tracing', () => {
  it('one trace from the publish through a failed attempt, its retry and the successful one', async () => {
    broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, memoryLogger().logger);
    const attempts: number[] = [];
    consumer = await startConsumer(
      broker,
      'task_queue',
      (_payload, { attempt }) => {
        attempts.push(attempt);
        // The handler runs inside the process span: its own spans are children of it.
        expect(trace.getActiveSpan()?.spanContext().traceId).toBeDefined();
        if (attempt === 1) throw new Error('first attempt fails');
      },
      { logger: memoryLogger().logger, confirmTimeoutMs: 5000, retryDelaysMs: [100] },
    );

    const publisher = createPublisher(broker, { logger: memoryLogger().logger });
    const request = provider.getTracer('test').startSpan('request');
    const outcome = await context.with(trace.setSpan(context.active(), request), () =>
      publisher.publish('task_queue', Buffer.from('traced task'), {
        messageId: 'm-traced',
        contentType: 'text/plain',
        timeoutMs: 5000,
      }),
    );
    request.end();
    await publisher.close();
    expect(outcome.status).toBe('confirmed');

    await eventually(() => byName('task_queue process').length === 2, 15_000, 'two process spans');
    expect(attempts).toEqual([1, 2]);

    const [publish] = byName('task_queue publish');
    const [retry] = byName('task_queue.retry.1 publish');
    const [first, second] = byName('task_queue process').sort(
      (a, b) => Number(a.attributes['messaging.rabbitmq.attempt']) - Number(b.attributes['messaging.rabbitmq.attempt']),
    );
    if (publish === undefined || retry === undefined || first === undefined || second === undefined)
      throw new Error('a span is missing');

    // One trace: the request, the publish, attempt 1, the retry's copy, attempt 2.
    const traceId = request.spanContext().traceId;
    for (const span of [publish, first, retry, second]) expect(span.spanContext().traceId).toBe(traceId);
    expect(parentOf(publish)).toBe(request.spanContext().spanId);
    expect(parentOf(first)).toBe(publish.spanContext().spanId);
    expect(parentOf(retry)).toBe(first.spanContext().spanId);
    expect(parentOf(second)).toBe(retry.spanContext().spanId);

    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(first.kind).toBe(SpanKind.CONSUMER);
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'task_queue',
      'messaging.message.id': 'm-traced',
    });
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(first.events.some((e) => e.name === 'exception')).toBe(true);
    expect(second.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('continues the trace of a message from another client that carries W3C trace context (pika)', async () => {
    broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, memoryLogger().logger);
    let handled = 0;
    consumer = await startConsumer(
      broker,
      'task_queue',
      () => {
        handled++;
      },
      { logger: memoryLogger().logger, confirmTimeoutMs: 5000 },
    );

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const script = [
      'import pika, sys',
      `c = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))`,
      'ch = c.channel()',
      `ch.basic_publish(exchange='', routing_key='task_queue', body=b'from pika', ` +
        `properties=pika.BasicProperties(delivery_mode=2, message_id='m-pika', ` +
        `headers={'traceparent': '00-${traceId}-${parentId}-01'}))`,
      'c.close()',
    ].join('\n');
    const result = await runProcess(pythonWithPika(), ['-c', script, vhost.url]);
    expect(result.code, result.stderr).toBe(0);

    await eventually(
      () => handled === 1 && byName('task_queue process').length === 1,
      15_000,
      'the pika message processed',
    );
    const [processed] = byName('task_queue process');
    expect(processed?.spanContext().traceId).toBe(traceId);
    expect(processed?.parentSpanContext?.spanId).toBe(parentId);
  });
});
