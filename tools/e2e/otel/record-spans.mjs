// Turns tracing on in an app, as a user's `node --import` file would: the W3C trace-context
// propagator, a context manager, and a tracer provider whose exporter appends every ended
// span as a JSON line to $TRACE_SPANS_FILE (a file, as the spans of several processes are
// compared). For the end-to-end tracing test only.
import { appendFileSync } from 'node:fs';
import process from 'node:process';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const file = process.env.TRACE_SPANS_FILE;
if (file === undefined || file === '') throw new Error('record-spans: set TRACE_SPANS_FILE');
const app = process.env.TRACE_APP_NAME ?? 'app';

const exporter = {
  export(spans, done) {
    for (const span of spans) {
      const line = {
        app,
        name: span.name,
        kind: span.kind,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        status: span.status.code,
        attributes: span.attributes,
      };
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    }
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: () => Promise.resolve(),
};

const contextManager = new AsyncLocalStorageContextManager();
contextManager.enable();
context.setGlobalContextManager(contextManager);
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
