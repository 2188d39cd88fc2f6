/**
 * The benchmark scenarios, in the order bench/run.ts runs them. Adding one is one line here, for
 * a file in this folder whose default export is a BenchScenario.
 */
import type { BenchScenario } from "./types.ts";

export const SCENARIOS: BenchScenario[] = [
  (await import("./s0-harness.ts")).default,
  (await import("./s1-throughput.ts")).default,
  (await import("./s2-replaced.ts")).default,
  (await import("./s3-rate-limit.ts")).default,
  (await import("./s5-memory.ts")).default,
  (await import("./s6-confirmed-publishing.ts")).default,
  (await import("./s7-api-under-sync.ts")).default,
  (await import("./s8-startup.ts")).default,
  (await import("./s9-incremental.ts")).default,
  (await import("./otel-cost.ts")).default,
  (await import("./s10-ingest-cost.ts")).default,
  (await import("./profile.ts")).default,
];
