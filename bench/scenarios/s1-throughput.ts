import {
  fmt,
  type MeasuredRun,
  mb,
  measuredSync,
  REPS,
  rows,
  S1,
  sec,
  sections,
  state,
  table,
  withSim,
} from "../lib/context.ts";
import { log, median } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

async function s1() {
  log(`S1 ${S1.projects} projects, ${S1.latencyMs} ms, concurrency ${S1.concurrency} × ${REPS}`);
  const runs = await withSim({ projects: S1.projects, latencyMs: S1.latencyMs }, async (sim) => {
    const out: MeasuredRun[] = [];
    for (let i = 0; i < REPS; i++) {
      out.push(await measuredSync(sim, "S1", { GITLAB_CONCURRENCY: String(S1.concurrency) }, S1.projects));
      log(`  S1 run ${i + 1}: ${sec(out.at(-1)?.wallMs ?? 0)}`);
    }
    return out;
  });
  // The floor: every request GitLab must answer — N hook checks, P list pages, a seam probe per
  // page after the first and the group access check — at full concurrency. No client is faster.
  const pages = Math.ceil(S1.projects / S1.perPage);
  const probes = pages - 1;
  const requests = S1.projects + pages + probes + 1;
  const floor = (requests * S1.latencyMs) / S1.concurrency;
  const effectiveFloor = (requests * state.effectiveLatencyMs) / S1.concurrency;
  const wall = median(runs.map((r) => r.wallMs));
  const ratio = wall / floor;
  const seen = median(runs.map((r) => r.sim.requests));
  state.s1PerProjectMs = wall / S1.projects;
  rows.push({
    id: "S1",
    scenario: `${fmt(S1.projects)} projects, ${S1.latencyMs} ms latency, GITLAB_CONCURRENCY=${S1.concurrency}`,
    figure: `${sec(wall)} = ${fmt(ratio, 2)}× the floor (N+P+probes+1)·L/C (${sec(floor)})`,
    target: "≤ 1.25× the floor",
    verdict: ratio <= 1.25 ? "met" : "MISSED",
  });
  sections.push(`### S1 — ${fmt(S1.projects)} projects, ${S1.latencyMs} ms per request, concurrency ${S1.concurrency}

\`item-sync sync --fresh\` (compiled binary, SQLite in a temp dir, private RabbitMQ), ${REPS} runs; wall time is
process start to exit (start-up, migrations and broker connection included).
The floor, with N = ${fmt(S1.projects)} projects, P = ${fmt(pages)} list pages of ${S1.perPage}, ${fmt(probes)} seam probes (one per page
after the first), the access check, L = ${S1.latencyMs} ms and C = ${S1.concurrency}: (N+P+probes+1)·L/C = ${sec(floor)} — every
request GitLab must answer, all at full concurrency, page requests included. At the simulator's effective
latency (${fmt(state.effectiveLatencyMs, 2)} ms, S0) it is ${sec(effectiveFloor)}.

${table(
  [
    "run",
    "wall",
    "execution",
    "÷ floor",
    "÷ floor at effective latency",
    "requests seen by sim",
    "peak concurrency at sim",
    "item-sync CPU",
    "sim CPU",
    "RabbitMQ CPU",
    "peak RSS",
  ],
  runs.map((r, i) => [
    i + 1,
    sec(r.wallMs),
    sec(r.executionMs),
    fmt(r.wallMs / floor, 2),
    fmt(r.wallMs / effectiveFloor, 2),
    fmt(r.sim.requests),
    r.sim.peakConcurrency,
    sec(r.cpuMs),
    sec(r.simCpuMs),
    sec(r.rabbitCpuMs),
    mb(r.maxRssBytes),
  ]),
)}

The simulator saw ${fmt(seen)} requests per run (median) against the ${fmt(requests)} the floor counts.
Median ${sec(wall)}: ${fmt(ratio, 2)}× the floor, ${fmt(wall / effectiveFloor, 2)}× the floor at the effective latency.`);
}

const scenario: BenchScenario = { id: "S1", feeds: ["S2", "S7"], run: s1 };
export default scenario;
