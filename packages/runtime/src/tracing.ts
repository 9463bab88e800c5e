import {
  context as otelContext,
  propagation,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';

/**
 * Tracing through `@opentelemetry/api`: a no-op until the application registers an SDK
 * (a tracer provider, the W3C trace-context propagator and, for spans to nest, a context
 * manager). The publisher makes a `<queue> publish` span and carries its context in the
 * message's headers (`traceparent`, `tracestate`, as W3C trace context says); the consumer
 * makes a `<queue> process` span that continues it, so one trace runs from the producer
 * through the broker to the consumer, across processes and languages, retries included
 * (a retry's copy keeps the headers).
 *
 * Attribute names follow OpenTelemetry's messaging semantic conventions.
 */

const TRACER_NAME = '@hello-rabbit/runtime';

// One tracer for the process: the API's proxy, which hands over to the SDK once one is
// registered (before or after this module is loaded).
let cachedTracer: ReturnType<typeof trace.getTracer> | undefined;
const tracer = () => (cachedTracer ??= trace.getTracer(TRACER_NAME));

/**
 * Whether an SDK is registered: the API's proxy provider has a delegate to hand a tracer
 * out. Without one every span is a no-op, and the publish path skips making one at all
 * (no span object, no name, no closure: it is paid per message).
 */
function tracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(TRACER_NAME) !== undefined;
}

/** What a publish without an SDK carries: the headers as they are, nothing to end. */
const endNothing = () => undefined;

/** Headers a publisher sets from its context, never copied from a delivery onto a copy's new span. */
export const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

const headerSetter = {
  set(carrier: Record<string, unknown>, key: string, value: string) {
    carrier[key] = value;
  },
};

const headerGetter = {
  keys: (carrier: Readonly<Record<string, unknown>> | undefined) => (carrier === undefined ? [] : Object.keys(carrier)),
  get(carrier: Readonly<Record<string, unknown>> | undefined, key: string) {
    const value = carrier?.[key];
    if (typeof value === 'string') return value;
    // amqplib hands long strings from other clients over as Buffers.
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return undefined;
  },
};

export interface PublishSpan {
  /** The message's headers with the span's context added (the same object when nothing was added). */
  readonly headers: Readonly<Record<string, unknown>> | undefined;
  /** Ends the span: an error unless the broker confirmed the message. */
  end(confirmed: boolean, reason?: string): void;
}

/** Starts the span of one publish, a child of the active context, and carries it in the headers. */
export function startPublishSpan(
  queue: string,
  messageId: string,
  headers: Readonly<Record<string, unknown>> | undefined,
): PublishSpan {
  return publishSpanIfTracing(queue, messageId, headers) ?? { headers, end: endNothing };
}

/**
 * The span of one publish, or nothing at all without an SDK (the publisher's hot path:
 * not even an object is made, the headers go as they are).
 */
export function publishSpanIfTracing(
  queue: string,
  messageId: string,
  headers: Readonly<Record<string, unknown>> | undefined,
): PublishSpan | undefined {
  if (!tracing()) return undefined;
  const span = tracer().startSpan(`${queue === '' ? '(default)' : queue} publish`, { kind: SpanKind.PRODUCER });
  let carried = headers;
  // Without an SDK the span records nothing: no attributes are even built (the hot path).
  if (span.isRecording()) {
    span.setAttributes({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': queue,
      'messaging.rabbitmq.destination.routing_key': queue,
      'messaging.message.id': messageId,
    });
    const carrier: Record<string, unknown> = {};
    propagation.inject(trace.setSpan(otelContext.active(), span), carrier, headerSetter);
    if (Object.keys(carrier).length > 0) carried = { ...headers, ...carrier };
  }
  return {
    headers: carried,
    end(confirmed, reason) {
      if (!confirmed) span.setStatus({ code: SpanStatusCode.ERROR, message: reason ?? 'not confirmed' });
      span.end();
    },
  };
}

/** The context a delivery's headers carry (the producer's publish span), or the active one. */
export function extractContext(headers: Readonly<Record<string, unknown>> | undefined): Context {
  return propagation.extract(otelContext.active(), headers, headerGetter);
}

/**
 * Runs `work` inside the span of processing one delivery, a child of the producer's span
 * when the headers carry one. `work` records its own failures on the span (the consumer
 * catches a handler's error to retry it); a throw is recorded too, and rethrown. Without a
 * registered SDK no context is switched: the hot path pays for one no-op span.
 */
export async function inProcessSpan<T>(
  queue: string,
  details: {
    readonly messageId: string | undefined;
    readonly attempt: number;
    readonly headers: Readonly<Record<string, unknown>> | undefined;
  },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = extractContext(details.headers);
  const span = tracer().startSpan(`${queue} process`, { kind: SpanKind.CONSUMER }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': queue,
      'messaging.rabbitmq.attempt': details.attempt,
      'messaging.message.id': details.messageId,
    });
  }
  try {
    if (!trace.isSpanContextValid(span.spanContext())) return await work(span);
    return await otelContext.with(trace.setSpan(parent, span), () => work(span));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span failed by `err`. */
export function recordFailure(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}
