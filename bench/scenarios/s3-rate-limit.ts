import { pacedRate } from "../../src/gitlab/pacer.ts";
import {
  fmt,
  type MeasuredRun,
  measuredSync,
  REPS,
  rows,
  S34,
  sec,
  sections,
  state,
  table,
  withSim,
} from "../lib/context.ts";
import { log, median } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

async function s34() {
  log(`S3/S4 ${S34.projects} projects, simulator limit ${S34.limit} req/s × ${REPS}`);
  const { s3runs, s4runs } = await withSim(
    {
      projects: S34.projects,
      latencyMs: S34.latencyMs,
      rateLimit: S34.limit,
      earlyAllowance: S34.concurrency,
    },
    async (sim) => {
      const s3runs: MeasuredRun[] = [];
      const s4runs: MeasuredRun[] = [];
      for (let i = 0; i < REPS; i++) {
        const base = { GITLAB_CONCURRENCY: String(S34.concurrency) };
        s3runs.push(
          await measuredSync(sim, "S3", { ...base, GITLAB_MAX_RPS: String(S34.limit) }, S34.projects),
        );
        log(`  S3 run ${i + 1}: ${sec(s3runs.at(-1)?.wallMs ?? 0)}`);
        // the simulator counts in whole seconds: start S4 in a fresh window, like S3 did
        await Bun.sleep(1100);
        s4runs.push(await measuredSync(sim, "S4", { ...base, GITLAB_MAX_RPS: "0" }, S34.projects));
        log(`  S4 run ${i + 1}: ${sec(s4runs.at(-1)?.wallMs ?? 0)}`);
        await Bun.sleep(1100);
      }
      return { s3runs, s4runs };
    },
  );
  const rate = (r: MeasuredRun) =>
    r.sim.requests / (((r.sim.lastArrivalMs ?? 0) - (r.sim.firstArrivalMs ?? 0)) / 1000);
  const s3rate = median(s3runs.map(rate));
  const s3429 = Math.max(...s3runs.map((r) => r.sim.rateLimited));
  state.s3WallMs = median(s3runs.map((r) => r.wallMs));
  rows.push({
    id: "S3",
    scenario: `simulator limits ${S34.limit} req/s (429 beyond), GITLAB_MAX_RPS=${S34.limit}, ${fmt(S34.projects)} projects`,
    figure: `${fmt(s3rate)} req/s (${fmt(s3rate / S34.limit, 3)}× the limit); ${s3429} 429s in the worst run`,
    target: `≥ ${fmt(0.9 * S34.limit)} req/s, zero 429s`,
    verdict: s3rate >= 0.9 * S34.limit && s3429 === 0 ? "met" : "MISSED",
  });
  const s4wall = median(s4runs.map((r) => r.wallMs));
  // projects without an update-item in the broker's queue (its depth before deletion), worst run
  const s4lost = Math.max(...s4runs.map((r) => Math.max(0, S34.projects - r.queued)));
  const s4ratio = s4wall / state.s3WallMs;
  rows.push({
    id: "S4",
    scenario: `same limit, GITLAB_MAX_RPS=0 (learns only from 429 + Retry-After)`,
    figure: `${sec(s4wall)} = ${fmt(s4ratio, 2)}× S3 (${sec(state.s3WallMs)}); ${fmt(median(s4runs.map((r) => r.sim.rateLimited)))} 429s per run; ${s4lost} projects lost`,
    target: "≤ 1.3× S3, none lost",
    verdict: s4ratio <= 1.3 && s4lost === 0 ? "met" : "MISSED",
  });
  const detail = (r: MeasuredRun, i: number) => [
    i + 1,
    sec(r.wallMs),
    fmt(r.sim.requests),
    fmt(rate(r)),
    fmt(r.sim.maxInOneSecond),
    fmt(r.sim.rateLimited),
    fmt(r.sim.earlyRequests),
    `${r.execution?.counts.updatePublished ?? 0} / ${r.execution?.counts.skipped ?? 0}`,
  ];
  const header = [
    "run",
    "wall",
    "requests",
    "req/s (first→last arrival)",
    "most in any 1 s",
    "429s",
    "arrived during a Retry-After hold beyond those already under way",
    "updates published / skipped",
  ];
  sections.push(`### S3 / S4 — GitLab's request rate limit

The simulator answers 429 (\`Retry-After\` to the next whole second, RateLimit-* headers) beyond
${S34.limit} requests per second per token, ${S34.latencyMs} ms latency, ${fmt(S34.projects)} projects, concurrency ${S34.concurrency}
(which alone would allow ≈ ${fmt((S34.concurrency * 1000) / S34.latencyMs)} req/s, so the limit is what binds). S3 and S4 alternate, ${REPS} runs each.

**S3, \`GITLAB_MAX_RPS=${S34.limit}\`** (the pacer spaces requests evenly (GCRA) so that any R + 1 of them span at least 1.025 s: its sustained ceiling is ${fmt(pacedRate(S34.limit))} req/s):

${table(header, s3runs.map(detail))}

**S4, \`GITLAB_MAX_RPS=0\`** (no client cap: a 429 holds every request for its Retry-After):

${table(header, s4runs.map(detail))}

S4 median ${sec(s4wall)} vs S3 median ${sec(state.s3WallMs)}: ${fmt(s4ratio, 2)}×.`);
}

const scenario: BenchScenario = { id: "S3", also: ["S4"], run: s34 };
export default scenario;
