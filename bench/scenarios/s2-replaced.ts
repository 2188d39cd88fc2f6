import {
  fmt,
  type MeasuredRun,
  measuredSync,
  REPS,
  rows,
  S1,
  S2,
  sec,
  sections,
  state,
  table,
  withSim,
} from "../lib/context.ts";
import { log, median } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

async function s2() {
  log(`S2 ${S2.projects} projects, concurrency 1 × ${REPS}`);
  const runs = await withSim({ projects: S2.projects, latencyMs: S1.latencyMs }, async (sim) => {
    const out: MeasuredRun[] = [];
    for (let i = 0; i < REPS; i++) {
      out.push(await measuredSync(sim, "S2", { GITLAB_CONCURRENCY: String(S2.concurrency) }, S2.projects));
      log(`  S2 run ${i + 1}: ${sec(out.at(-1)?.wallMs ?? 0)}`);
    }
    return out;
  });
  const wall = median(runs.map((r) => r.wallMs));
  const perProject = wall / S2.projects;
  const speedup = perProject / state.s1PerProjectMs;
  rows.push({
    id: "S2",
    scenario: `same data, GITLAB_CONCURRENCY=1 (the replaced design) on ${fmt(S2.projects)} projects`,
    figure: `${fmt(perProject, 2)} ms/project vs S1's ${fmt(state.s1PerProjectMs, 3)} ms/project: ${fmt(speedup, 1)}× speed-up`,
    target: "≥ 25×",
    verdict: speedup >= 25 ? "met" : "MISSED",
  });
  sections.push(`### S2 — one request at a time (the replaced system's design)

The same binary with \`GITLAB_CONCURRENCY=1\` on ${fmt(S2.projects)} projects at ${S1.latencyMs} ms: every list page and hook
check waits for the previous one, as the replaced system did (its logs: 1,811 projects in 111 s ≈ 61 ms
each). ${REPS} runs:

${table(
  ["run", "wall", "per project", "requests seen by sim"],
  runs.map((r, i) => [i + 1, sec(r.wallMs), `${fmt(r.wallMs / S2.projects, 2)} ms`, fmt(r.sim.requests)]),
)}

Speed-up of S1 over it, per project: ${fmt(perProject, 2)} / ${fmt(state.s1PerProjectMs, 3)} = **${fmt(speedup, 1)}×**
(the ceiling is C = ${S1.concurrency}× minus S1's distance to its bound).`);
}

const scenario: BenchScenario = { id: "S2", run: s2 };
export default scenario;
