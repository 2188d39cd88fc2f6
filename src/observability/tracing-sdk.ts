/**
 * Starts the OpenTelemetry SDK for this process — only when an endpoint is configured; main.ts
 * imports this module then and never otherwise. It registers, globally: an AsyncLocalStorage
 * context manager (a span stays active across awaits), the W3C trace-context propagator, and a
 * tracer provider whose batch processor exports over OTLP/HTTP, protobuf or JSON
 * (OTEL_EXPORTER_OTLP_PROTOCOL). The exporter also honours the other standard
 * OTEL_EXPORTER_OTLP_* variables it reads itself (timeout, compression, certificates).
 *
 * A receiver that is down never fails anything but the export: the batch is dropped and one
 * warning line says so, at most once a minute.
 */
import { hostname } from "node:os";
import { context, DiagLogLevel, diag, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { setGlobalErrorHandler, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { TRACING_FLUSH_MS, type TracingConfig } from "../config/tracing.ts";
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "../lib/semconv.ts";
import { MINUTE } from "../lib/time.ts";
import { enableTracing } from "../lib/tracing.ts";

export function samplerFor(config: Pick<TracingConfig, "sampler" | "samplerRatio">): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratio();
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio() });
  }
}

export function startTracing(config: TracingConfig, opts: { version: string; logger: Logger }): void {
  const log = opts.logger.child({ component: "tracing" });
  let reportedAt = Number.NEGATIVE_INFINITY;
  let dropped = 0;
  const report = (what: string, err: unknown) => {
    dropped++;
    if (Date.now() - reportedAt < MINUTE) return;
    reportedAt = Date.now();
    log.warn(`${what}; spans are dropped until it answers`, {
      endpoint: config.url,
      failuresSinceLastReport: dropped,
      err: coerceError(err),
    });
    dropped = 0;
  };
  setGlobalErrorHandler((err) => report("trace export failed", err));
  diag.setLogger(
    {
      error: (message) => report("tracing error", new Error(message)),
      warn: (message) => log.debug("tracing diagnostic", { message }),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );

  const exporterOptions = { url: config.url, headers: config.headers };
  const exporter =
    config.protocol === "http/json"
      ? new JsonExporter(exporterOptions)
      : new ProtobufExporter(exporterOptions);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: opts.version,
      "host.name": hostname(),
      "process.pid": process.pid,
    }),
    sampler: samplerFor(config),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: config.batch.scheduleDelayMs,
        exportTimeoutMillis: config.batch.exportTimeoutMs,
        maxQueueSize: config.batch.maxQueueSize,
        maxExportBatchSize: config.batch.maxExportBatchSize,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);

  let stopping: Promise<void> | null = null;
  enableTracing(opts.version, () => {
    stopping ??= (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), TRACING_FLUSH_MS);
      });
      const done = provider.shutdown().then(
        () => "done" as const,
        (err: unknown) => {
          report("exporting the last spans failed", err);
          return "done" as const;
        },
      );
      if ((await Promise.race([done, late])) === "late")
        log.warn("the last spans were not exported in time; exiting without them", {
          waitedMs: TRACING_FLUSH_MS,
        });
      clearTimeout(timer);
    })();
    return stopping;
  });
  log.info("tracing on", {
    endpoint: config.url,
    protocol: config.protocol,
    serviceName: config.serviceName,
    sampler: config.sampler,
    ...(config.sampler.endsWith("traceidratio") ? { ratio: config.samplerRatio } : {}),
  });
}
