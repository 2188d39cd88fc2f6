/**
 * S2: the replaced system's algorithm, re-created (bench/replaced-sync.ts: every project id
 * listed first, then per project one after another: hook check, publish, no confirms), on the
 * same simulator at S1's latency, against S1's time per project.
 */
import { join } from "node:path";
import { fmt, REPS, rows, S1, S2, sec, sections, state, table, withSim } from "../lib/context.ts";
import { brokerNames, log, median, ROOT, type SimStats, WEBHOOK_URL } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

interface ReplacedRun {
  wallMs: number;
  projects: number;
  monitor: number;
  /** update-items published, and those the broker held in the queue before its deletion */
  sent: number;
  update: number;
  sim: SimStats;
}

async function s2() {
  log(`S2 the replaced algorithm re-created, ${S2.projects} projects × ${REPS}`);
  const runs = await withSim({ projects: S2.projects, latencyMs: S1.latencyMs }, async (sim) => {
    const out: ReplacedRun[] = [];
    for (let i = 0; i < REPS; i++) {
      await sim.reset();
      const names = brokerNames("s2");
      const t0 = performance.now();
      const proc = Bun.spawn(
        [
          "bun",
          join(ROOT, "bench/replaced-sync.ts"),
          sim.url,
          sim.token,
          sim.group,
          state.rabbit.url,
          names.AMQP_EXCHANGE,
          names.AMQP_UPDATE_QUEUE,
          WEBHOOK_URL,
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      const wallMs = performance.now() - t0; // process start to exit, as S1 measures the binary
      if (code !== 0) throw new Error(`bench/replaced-sync.ts exited ${code}: ${stderr.slice(-2000)}`);
      const r = JSON.parse(stdout.trim()) as Omit<ReplacedRun, "wallMs" | "sim">;
      if (r.projects !== S2.projects)
        throw new Error(`the replaced algorithm saw ${r.projects} projects, not ${S2.projects}`);
      if (r.update !== S2.projects)
        throw new Error(`the replaced algorithm's queue held ${r.update} update-items, not ${S2.projects}`);
      out.push({ ...r, wallMs, sim: await sim.stats() });
      log(`  S2 run ${i + 1}: ${sec(wallMs)}`);
    }
    return out;
  });
  const wall = median(runs.map((r) => r.wallMs));
  const perProject = wall / S2.projects;
  const speedup = perProject / state.s1PerProjectMs;
  rows.push({
    id: "S2",
    scenario: `the replaced algorithm re-created (ids first, then per project: hook check, publish, no confirms), ${fmt(S2.projects)} projects, ${S1.latencyMs} ms latency`,
    figure: `${fmt(perProject, 2)} ms/project vs S1's ${fmt(state.s1PerProjectMs, 3)} ms/project: ${fmt(speedup, 1)}× speed-up`,
    target: "≥ 25×",
    verdict: speedup >= 25 ? "met" : "MISSED",
  });
  sections.push(`### S2 — the replaced system's algorithm, re-created

\`bench/replaced-sync.ts\` in its own process, on ${fmt(S2.projects)} projects at ${S1.latencyMs} ms: every project id is listed
first (the list pages one after the other), then for each project, one after another, its hooks are asked for and
a monitor-item (when our hook is missing) and an update-item are published to a durable queue without publisher
confirms. Wall time is process start to exit, as in S1. Update-items are counted by reading the queue back from the
broker before it is deleted. ${REPS} runs:

${table(
  ["run", "wall", "per project", "requests seen by sim", "monitor-items", "update-items in the queue"],
  runs.map((r, i) => [
    i + 1,
    sec(r.wallMs),
    `${fmt(r.wallMs / S2.projects, 2)} ms`,
    fmt(r.sim.requests),
    fmt(r.monitor),
    fmt(r.update),
  ]),
)}

Speed-up of S1 over it, per project: ${fmt(perProject, 2)} / ${fmt(state.s1PerProjectMs, 3)} = **${fmt(speedup, 1)}×**.`);
}

const scenario: BenchScenario = { id: "S2", run: s2 };
export default scenario;
