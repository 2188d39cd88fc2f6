/**
 * A CPU profile of a sync: where item-sync's own time goes.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, measuredSync, PROFILE, S5, sec, sections, table, withSim } from "../lib/context.ts";
import { log, ROOT } from "../lib/harness.ts";
import { type ProfileSummary, summarizeProfile } from "../lib/profile.ts";
import type { BenchScenario } from "./types.ts";

let profile: ProfileSummary | null = null;

async function cpuProfile() {
  log(`CPU profile: bun --cpu-prof src/main.ts sync, ${PROFILE.projects} projects, no latency`);
  const dir = join(tmpdir(), `item-sync-bench-prof-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const run = await withSim({ projects: PROFILE.projects, latencyMs: 0 }, (sim) =>
      measuredSync(sim, "PROF", { GITLAB_CONCURRENCY: String(S5.concurrency) }, PROFILE.projects, [
        "bun",
        "--cpu-prof",
        `--cpu-prof-dir=${dir}`,
        join(ROOT, "src/main.ts"),
        "sync",
        "--fresh",
      ]),
    );
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error("no .cpuprofile written");
    profile = summarizeProfile(join(dir, file), 15);
    const p = profile;
    sections.push(`### CPU profile of a sync (where item-sync's own time goes)

\`bun --cpu-prof src/main.ts sync --fresh\` (the non-compiled entry), ${fmt(PROFILE.projects)} projects, no latency, concurrency
${S5.concurrency}: wall ${sec(run.wallMs)}; item-sync's JS thread was busy ${sec(p.busyMs)} of the profiled ${sec(p.wallMs)}
(${fmt((p.busyMs / p.wallMs) * 100, 0)} %); simulator CPU ${sec(run.simCpuMs)}, RabbitMQ CPU ${sec(run.rabbitCpuMs)}.
Times are samples × the sampling interval, measured from this profile: ${fmt(p.intervalMs * 1000, 0)} µs (the median time
between samples).

By origin (self time, share of the busy time):

${table(
  ["origin", "self time", "share"],
  p.byOrigin.slice(0, 10).map((o) => [o.origin, `${fmt(o.ms)} ms`, `${fmt(o.share * 100, 1)} %`]),
)}

Top functions:

${table(
  ["function (line)", "origin", "self time", "share"],
  p.topFunctions.map((f) => [`\`${f.fn}\``, f.origin, `${fmt(f.ms)} ms`, `${fmt(f.share * 100, 1)} %`]),
)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const scenario: BenchScenario = { id: "PROFILE", run: cpuProfile };
export default scenario;
