/**
 * The tracing part of the configuration: OpenTelemetry's standard variables, read the way the
 * OpenTelemetry SDKs read them (specification "SDK environment variables" and "OTLP exporter"),
 * and validated like every other variable: a bad value stops start-up with its problem named.
 *
 * Tracing is on only when an endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, used as it is,
 * or OTEL_EXPORTER_OTLP_ENDPOINT, to which `v1/traces` is appended) and OTEL_SDK_DISABLED is not
 * `true`; without one `tracing` is null and no SDK is ever loaded (src/observability/tracing-sdk.ts).
 */

import { SECOND } from "../lib/time.ts";
import type { ConfigReader } from "./reader.ts";

export const TRACES_SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
export type TracesSampler = (typeof TRACES_SAMPLERS)[number];

/** OTLP over HTTP; `grpc`, the third standard protocol, is refused (no gRPC exporter is built in). */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface TracingConfig {
  /** Where spans are sent (OTLP/HTTP), the full URL (…/v1/traces). */
  url: string;
  protocol: OtlpProtocol;
  /** OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, decoded; the values are secrets (an API key). */
  headers: Record<string, string>;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded (service.name there loses to OTEL_SERVICE_NAME). */
  resourceAttributes: Record<string, string>;
  sampler: TracesSampler;
  /** The ratio of traceidratio samplers, 0..1. */
  samplerRatio: number;
  /** OTEL_BSP_*: the batch span processor. */
  batch: {
    scheduleDelayMs: number;
    exportTimeoutMs: number;
    maxQueueSize: number;
    maxExportBatchSize: number;
  };
}

export const DEFAULT_SERVICE_NAME = "item-sync";

export function readTracingConfig(read: ConfigReader, problems: string[]): TracingConfig | null {
  const disabled = read.bool("OTEL_SDK_DISABLED", false);
  const base = read.url("OTEL_EXPORTER_OTLP_ENDPOINT", "", ["http:", "https:"]);
  const traces = read.url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", ["http:", "https:"]);
  const protocol =
    read.string("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "") !== ""
      ? read.oneOf("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", OTLP_PROTOCOLS)
      : read.oneOf("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", OTLP_PROTOCOLS);
  const headers = {
    ...keyValuePairs("OTEL_EXPORTER_OTLP_HEADERS", read.string("OTEL_EXPORTER_OTLP_HEADERS", ""), problems),
    ...keyValuePairs(
      "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
      read.string("OTEL_EXPORTER_OTLP_TRACES_HEADERS", ""),
      problems,
    ),
  };
  const resourceAttributes = keyValuePairs(
    "OTEL_RESOURCE_ATTRIBUTES",
    read.string("OTEL_RESOURCE_ATTRIBUTES", ""),
    problems,
  );
  const serviceName =
    read.string("OTEL_SERVICE_NAME", "") || resourceAttributes["service.name"] || DEFAULT_SERVICE_NAME;
  const sampler = read.oneOf("OTEL_TRACES_SAMPLER", "parentbased_always_on", TRACES_SAMPLERS);
  const samplerRatio = read.number("OTEL_TRACES_SAMPLER_ARG", 1, 0, 1);
  const batch = {
    scheduleDelayMs: read.int("OTEL_BSP_SCHEDULE_DELAY", 5000, 1, 3_600_000),
    exportTimeoutMs: read.int("OTEL_BSP_EXPORT_TIMEOUT", 30_000, 1, 3_600_000),
    maxQueueSize: read.int("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1, 10_000_000),
    maxExportBatchSize: read.int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1, 10_000_000),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    problems.push("OTEL_BSP_MAX_EXPORT_BATCH_SIZE: must not exceed OTEL_BSP_MAX_QUEUE_SIZE");
  }
  if (disabled || (base === "" && traces === "")) return null;
  return {
    url: traces !== "" ? traces : `${base.replace(/\/*$/, "")}/v1/traces`,
    protocol,
    headers,
    serviceName,
    resourceAttributes,
    sampler,
    samplerRatio,
    batch,
  };
}

/**
 * `key1=value1,key2=value2` with percent-encoded values (W3C Baggage octets), as the
 * specification gives OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS. The values are
 * never echoed: the headers carry API keys.
 */
export function keyValuePairs(name: string, text: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (text.trim() === "") return out;
  for (const [i, part] of text.split(",").entries()) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    const key = eq > 0 ? part.slice(0, eq).trim() : "";
    if (key === "" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      problems.push(`${name}: entry ${i + 1} is not key=value (comma-separated, values percent-encoded)`);
      continue;
    }
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      problems.push(`${name}: the value of ${key} is not valid percent-encoding`);
    }
  }
  return out;
}

/** How long the last spans may take to leave at exit before the process stops waiting. */
export const TRACING_FLUSH_MS = 5 * SECOND;
