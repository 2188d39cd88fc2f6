import { describe, expect, test } from "bun:test";
import { ConfigError } from "../lib/errors.ts";
import { loadConfig, secretValues } from "./config.ts";
import { keyValuePairs } from "./tracing.ts";

const NEEDS = { gitlab: false, auth: false };
const load = (env: Record<string, string>) => loadConfig(env, NEEDS);
const problems = (env: Record<string, string>) => {
  try {
    load(env);
    return "";
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
};

describe("tracing configuration (OTEL_*)", () => {
  test("off without an endpoint, whatever else is set; off with OTEL_SDK_DISABLED=true", () => {
    expect(load({ OTEL_SERVICE_NAME: "x", OTEL_TRACES_SAMPLER: "always_on" }).tracing).toBeNull();
    expect(
      load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" }).tracing,
    ).toBeNull();
  });

  test("the base endpoint gets /v1/traces; the traces endpoint is used as it is and wins", () => {
    expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracing?.url).toBe(
      "http://collector:4318/v1/traces",
    );
    expect(
      load({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://tempo.example.org/otlp/v1/traces",
      }).tracing?.url,
    ).toBe("https://tempo.example.org/otlp/v1/traces");
  });

  test("the standard defaults: http/protobuf, parentbased_always_on, service item-sync", () => {
    const t = load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }).tracing;
    expect(t).toMatchObject({
      protocol: "http/protobuf",
      sampler: "parentbased_always_on",
      samplerRatio: 1,
      serviceName: "item-sync",
      batch: { scheduleDelayMs: 5000, exportTimeoutMs: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 },
    });
  });

  test("service name: OTEL_SERVICE_NAME, else service.name of OTEL_RESOURCE_ATTRIBUTES", () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
    const attrs = "service.name=from-attrs,deployment.environment.name=prod%20eu";
    expect(load({ ...base, OTEL_RESOURCE_ATTRIBUTES: attrs }).tracing).toMatchObject({
      serviceName: "from-attrs",
      resourceAttributes: { "deployment.environment.name": "prod eu" },
    });
    expect(
      load({ ...base, OTEL_RESOURCE_ATTRIBUTES: attrs, OTEL_SERVICE_NAME: "named" }).tracing?.serviceName,
    ).toBe("named");
  });

  test("bad values stop start-up, each named; header values are never echoed", () => {
    const out = problems({
      OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_TRACES_SAMPLER: "jaeger_remote",
      OTEL_TRACES_SAMPLER_ARG: "1.5",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic%20c2VjcmV0LXZhbHVl,broken",
    });
    expect(out).toContain("OTEL_EXPORTER_OTLP_ENDPOINT:");
    expect(out).toContain("OTEL_EXPORTER_OTLP_PROTOCOL:");
    expect(out).toContain("http/protobuf, http/json");
    expect(out).toContain("OTEL_TRACES_SAMPLER:");
    expect(out).toContain("OTEL_TRACES_SAMPLER_ARG:");
    expect(out).toContain("OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value");
    expect(out).not.toContain("c2VjcmV0");
  });

  test("OTLP header values long enough to be credentials are secrets (redacted from logs)", () => {
    const config = load({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20abcdefgh12345678,X-Scope-OrgID=t1",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "X-Scope-OrgID=t2",
    });
    expect(config.tracing?.headers).toEqual({
      Authorization: "Bearer abcdefgh12345678",
      "X-Scope-OrgID": "t2",
    });
    expect(secretValues(config)).toContain("Bearer abcdefgh12345678");
    expect(secretValues(config)).not.toContain("t2");
  });

  test("key=value lists: percent-decoding, blanks skipped", () => {
    const p: string[] = [];
    expect(keyValuePairs("X", " a=1 , ,b=%2C%3D ", p)).toEqual({ a: "1", b: ",=" });
    expect(p).toEqual([]);
  });
});
