/**
 * The one door to OpenTelemetry tracing for the rest of the code: spans, context propagation
 * (W3C `traceparent` in HTTP and AMQP headers) and the ids log lines carry. Every instrumented
 * module imports this file, never `@opentelemetry/*` itself, so that:
 *
 *  - with tracing off (no OTEL endpoint: the default) each helper returns at its first line —
 *    no span object, no context switch, no header — and the SDK is never loaded
 *    (src/observability/tracing-sdk.ts is imported only when tracing is configured);
 *  - a build without tracing at all replaces this file alone (scripts/build-stubs.ts), which is
 *    how the benchmark compares "off" with "absent".
 *
 * Span helpers hand the callback `undefined` when tracing is off: callers write
 * `span?.setAttribute(…)`, which costs nothing then.
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";

export type { Attributes, Context, Span };

/** Span kinds by name (the API's enum values), so callers need not import the API. */
export const KIND = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 } as const satisfies Record<
  string,
  SpanKind
>;

export interface SpanSpec {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; default: the active one. */
  parent?: Context;
  /** Start a new trace (the links say what caused it). */
  root?: boolean;
  links?: Link[];
}

let tracer: Tracer | null = null;
let flush: (() => Promise<void>) | null = null;

/** Whether spans are recorded in this process (an SDK was started). */
export function tracingEnabled(): boolean {
  return tracer !== null;
}

/** Called once by tracing-sdk.ts after it registered the provider, context manager and propagator. */
export function enableTracing(version: string, shutdown: () => Promise<void>): void {
  tracer = trace.getTracer("item-sync", version);
  flush = shutdown;
}

/** Exports what is left and stops the SDK; idempotent, a no-op without tracing. */
export async function stopTracing(): Promise<void> {
  const f = flush;
  flush = null;
  if (f) await f();
}

/** Starts a span that the caller ends (`span.end()`); undefined without tracing. */
export function startSpan(name: string, spec: SpanSpec = {}): Span | undefined {
  if (tracer === null) return undefined;
  return tracer.startSpan(
    name,
    { kind: spec.kind, attributes: spec.attributes, root: spec.root, links: spec.links },
    spec.parent ?? context.active(),
  );
}

/** Runs `fn` with `span` as the active span (its children and log lines find it). */
export function withActive<T>(span: Span | undefined, fn: () => T): T {
  if (span === undefined) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Runs `fn` inside a new active span, ended when `fn` settles; a thrown error is recorded on it
 * (status ERROR, `error.type`) and thrown on. Without tracing: `fn(undefined)`.
 */
export function inSpan<T>(
  name: string,
  spec: SpanSpec,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (tracer === null) return fn(undefined);
  const span = startSpan(name, spec) as Span;
  return withActive(span, () => fn(span)).then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      failSpan(span, err);
      span.end();
      throw err;
    },
  );
}

/** Marks the span failed with `err` (status ERROR, an exception event, `error.type`). */
export function failSpan(span: Span | undefined, err: unknown): void {
  if (span === undefined) return;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  span.recordException(e);
  span.setAttribute("error.type", typeof code === "string" ? code : e.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message.slice(0, 500) });
}

/** Marks the span failed without an exception (a 5xx answer, a dead-lettered message). */
export function errorStatus(span: Span | undefined, message: string): void {
  span?.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Names the active server span's route (`POST /jobs/:id/stop`) once the router matched one. */
export function nameRoute(method: string, route: string): void {
  const span = activeSpan();
  if (span === undefined) return;
  span.setAttribute("http.route", route);
  span.updateName(`${method} ${route}`);
}

/** The active span, when tracing is on and one is active. */
export function activeSpan(): Span | undefined {
  if (tracer === null) return undefined;
  return trace.getSpan(context.active());
}

/** A link to the span active now (what caused a new trace), if any. */
export function linkToActive(): Link[] | undefined {
  const span = activeSpan();
  return span ? [{ context: span.spanContext() }] : undefined;
}

/**
 * The W3C trace context headers (`traceparent`, `tracestate`) naming `span` as the parent, for
 * a message or a request; undefined without a span.
 */
export function traceHeaders(span: Span | undefined): Record<string, string> | undefined {
  if (span === undefined) return undefined;
  const out: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), out);
  return out.traceparent === undefined ? undefined : out;
}

const HEADER_GETTER = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const v = carrier[key];
    if (typeof v === "string") return v;
    if (v instanceof Uint8Array) return new TextDecoder().decode(v);
    return undefined;
  },
};

/** The context a caller sent (`traceparent` in message or request headers); the active one if none. */
export function contextFrom(headers: Record<string, unknown> | Headers | undefined): Context | undefined {
  if (tracer === null) return undefined;
  if (headers === undefined) return context.active();
  const carrier: Record<string, unknown> =
    headers instanceof Headers
      ? {
          traceparent: headers.get("traceparent") ?? undefined,
          tracestate: headers.get("tracestate") ?? undefined,
        }
      : headers;
  return propagation.extract(context.active(), carrier, HEADER_GETTER);
}

/** `trace_id` and `span_id` of the active span, for a log line; undefined when there is none. */
export function traceLogFields(): { trace_id: string; span_id: string } | undefined {
  if (tracer === null) return undefined;
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
