import { cpus } from "node:os";
import { join } from "node:path";
import {
  fmt,
  type MeasuredRun,
  mb,
  measuredSync,
  notes,
  REPS,
  rows,
  S5,
  sec,
  sections,
  table,
  withSim,
} from "../lib/context.ts";
import { log, median, ROOT, sh } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

async function s5() {
  log(`S5 ${S5.small} vs ${S5.large} projects, no latency × ${REPS}`);
  const bySize: Record<number, MeasuredRun[]> = {};
  for (const n of [S5.small, S5.large]) {
    bySize[n] = await withSim({ projects: n, latencyMs: 0 }, async (sim) => {
      const out: MeasuredRun[] = [];
      for (let i = 0; i < REPS; i++) {
        out.push(await measuredSync(sim, "S5", { GITLAB_CONCURRENCY: String(S5.concurrency) }, n));
        log(`  S5 ${n} run ${i + 1}: ${sec(out.at(-1)?.wallMs ?? 0)}, ${mb(out.at(-1)?.maxRssBytes ?? 0)}`);
      }
      return out;
    });
  }
  const small = bySize[S5.small] ?? [];
  const large = bySize[S5.large] ?? [];
  const rssRatio = median(large.map((r) => r.maxRssBytes)) / median(small.map((r) => r.maxRssBytes));
  const pps = (runs: MeasuredRun[], n: number) => median(runs.map((r) => (n / r.wallMs) * 1000));
  rows.push({
    id: "S5",
    scenario: `${fmt(S5.small)} vs ${fmt(S5.large)} projects, no latency`,
    figure: `peak RSS ${mb(median(large.map((r) => r.maxRssBytes)))} vs ${mb(median(small.map((r) => r.maxRssBytes)))} = ${fmt(rssRatio, 2)}×; ${fmt(pps(small, S5.small))} vs ${fmt(pps(large, S5.large))} projects/s; ${fmt(median(large.map((r) => r.cpuMs / (S5.large / 1000))), 0)} ms item-sync CPU per 1,000 projects`,
    target: "RSS ≤ 1.2×; projects/s reported",
    verdict: rssRatio <= 1.2 ? "met" : "MISSED",
  });
  const lines: (string | number)[][] = [];
  for (const [n, runs] of [
    [S5.small, small],
    [S5.large, large],
  ] as const) {
    runs.forEach((r, i) => {
      lines.push([
        fmt(n),
        i + 1,
        sec(r.wallMs),
        fmt((n / r.wallMs) * 1000),
        mb(r.maxRssBytes),
        `${sec(r.cpuMs)} (${fmt(r.cpuMs / (n / 1000), 0)} ms/1k)`,
        `${sec(r.simCpuMs)} (${fmt(r.simCpuMs / (n / 1000), 0)} ms/1k)`,
        `${sec(r.rabbitCpuMs)} (${fmt(r.rabbitCpuMs / (n / 1000), 0)} ms/1k)`,
        fmt((r.cpuMs + r.simCpuMs + r.rabbitCpuMs) / r.wallMs / cpus().length, 2),
      ]);
    });
  }
  sections.push(`### S5 — memory and CPU cost per project (no latency)

Concurrency ${S5.concurrency}, half the projects unmonitored (≈ 1.5 messages per project). Peak RSS is the binary's
maxRSS from the kernel; CPU times are per process (item-sync from its rusage, the simulator from its
own \`process.cpuUsage()\`, RabbitMQ's Erlang VM from /proc). "machine busy" is the three together over
wall time × ${cpus().length} cores.

${table(["projects", "run", "wall", "projects/s", "peak RSS", "item-sync CPU", "simulator CPU", "RabbitMQ CPU", "machine busy"], lines)}

Peak RSS ratio ${fmt(S5.large)} / ${fmt(S5.small)}: **${fmt(rssRatio, 2)}×** (medians).`);
  // the project stream alone (another engineer's bench/stream-memory.ts), folded in as a sub-figure
  try {
    const out = await sh(["bun", join(ROOT, "bench/stream-memory.ts")]);
    const r = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      small: { projects: number; seconds: number; peakRssMb: number; simTrivialRequestMedianMs: number };
      large: { projects: number; seconds: number; peakRssMb: number; simTrivialRequestMedianMs: number };
      ratio: number;
    };
    sections.push(`The project stream alone (\`bun bench/stream-memory.ts\`: the real GitLab client listing every page,
no hook checks, no broker, non-compiled):

${table(
  ["projects", "time", "peak RSS", "simulator: trivial request p50"],
  [r.small, r.large].map((x) => [
    fmt(x.projects),
    `${fmt(x.seconds, 2)} s`,
    `${fmt(x.peakRssMb, 1)} MB`,
    `${fmt(x.simTrivialRequestMedianMs, 3)} ms`,
  ]),
)}

Ratio ${fmt(r.ratio, 3)}×.`);
  } catch (err) {
    notes.push(`bench/stream-memory.ts failed: ${String(err).slice(0, 300)}`);
  }
}

const scenario: BenchScenario = { id: "S5", run: s5 };
export default scenario;
