import { join } from "node:path";
import { fmt, sections, state, table, withSim } from "../lib/context.ts";
import { log, ROOT, sh } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

async function harnessCalibration() {
  log("S0 harness calibration: the simulator alone");
  const result: Record<string, { reqPerSec: number; p50Ms: number; p99Ms: number; simCpuMs: number }> = {};
  for (const latencyMs of [20, 0]) {
    await withSim({ projects: 1000, latencyMs }, async (sim) => {
      const count = latencyMs ? 5_000 : 20_000;
      const before = await sim.stats();
      const out = await sh([
        "bun",
        join(ROOT, "bench/sim-load.ts"),
        sim.url,
        sim.token,
        String(count),
        "32",
        "1000",
      ]);
      const after = await sim.stats();
      const r = JSON.parse(out.trim()) as {
        reqPerSec: number;
        p50Ms: number;
        p99Ms: number;
        failures: number;
      };
      if (r.failures) throw new Error(`simulator calibration: ${r.failures} failed requests`);
      result[`L=${latencyMs}`] = { ...r, simCpuMs: after.cpuMs - before.cpuMs };
    });
  }
  const l20 = result["L=20"];
  const l0 = result["L=0"];
  state.effectiveLatencyMs = l20?.p50Ms ?? Number.NaN;
  sections.push(`### S0 — the harness on its own (calibration)

A Bun client (bench/sim-load.ts, its own process) sends \`GET /projects/:id/hooks\` with 32 in
flight to the simulator (its own process), no item-sync involved:

${table(
  ["simulated latency", "requests/s", "p50 per request", "p99 per request", "simulator CPU"],
  Object.entries(result).map(([k, v]) => [
    `${k.replace("L=", "")} ms`,
    fmt(v.reqPerSec),
    `${fmt(v.p50Ms, 2)} ms`,
    `${fmt(v.p99Ms, 2)} ms`,
    `${fmt(v.simCpuMs)} ms`,
  ]),
)}

- With 20 ms simulated, one request takes ${fmt(l20?.p50Ms ?? Number.NaN, 2)} ms at the median: the simulator's timer
  and the loopback HTTP stack add ≈ ${fmt((l20?.p50Ms ?? 0) - 20, 1)} ms to every request. S1's floor uses the nominal
  latency (stricter); the floor at the effective latency is shown next to it.
- With no latency the simulator and a client serve ${fmt(l0?.reqPerSec ?? Number.NaN)} requests/s, the most this harness
  can answer; the zero-latency runs (S5, the profile) are limited by the simulator only if they come near it.`);
}

const scenario: BenchScenario = { id: "S0", feeds: ["S1"], run: harnessCalibration };
export default scenario;
