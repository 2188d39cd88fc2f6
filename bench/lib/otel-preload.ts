/**
 * Preloaded (`bun --preload`) into the S6 publishing worker (bench/s6-publish.ts) by the OTEL
 * scenario, to run the product's publisher with tracing in one of its states:
 *
 *   BENCH_OTEL=absent  src/lib/tracing.ts replaced by the stub of the build without tracing
 *   BENCH_OTEL=on      the SDK started as main.ts starts it, exporting (protobuf) to
 *                      BENCH_OTEL_URL with the sampler parentbased_traceidratio at BENCH_OTEL_RATIO
 *   unset              nothing: tracing off, as without an endpoint
 */
import { TRACING_STUB } from "../../scripts/build-stubs.ts";

const mode = process.env.BENCH_OTEL ?? "";
if (mode === "absent") {
  Bun.plugin({
    name: "bench-without-tracing",
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]lib[\\/]tracing\.ts$/ }, () => ({
        contents: TRACING_STUB,
        loader: "js",
      }));
    },
  });
} else if (mode === "on") {
  // imported only here: log.ts loads tracing.ts, which the "absent" plugin must see first
  const { silentLogger } = await import("../../src/lib/log.ts");
  const { startTracing } = await import("../../src/observability/tracing-sdk.ts");
  startTracing(
    {
      url: `${process.env.BENCH_OTEL_URL}/v1/traces`,
      protocol: "http/protobuf",
      headers: {},
      serviceName: "item-sync-bench",
      resourceAttributes: {},
      sampler: "parentbased_traceidratio",
      samplerRatio: Number(process.env.BENCH_OTEL_RATIO ?? "1"),
      batch: {
        scheduleDelayMs: 1000,
        exportTimeoutMs: 30_000,
        maxQueueSize: 200_000,
        maxExportBatchSize: 2048,
      },
    },
    { version: "bench", logger: silentLogger },
  );
} else if (mode !== "") {
  throw new Error(`BENCH_OTEL must be absent or on, not ${mode}`);
}
