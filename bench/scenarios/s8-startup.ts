import { fmt, rows, S8, sections, serveProcess, state, waitReady, withSim } from "../lib/context.ts";
import { brokerNames, deleteBrokerNames, log, median, syncEnv, tempDb } from "../lib/harness.ts";
import type { BenchScenario } from "./types.ts";

async function s8() {
  log(`S8 serve start to /health/ready × ${S8.reps}`);
  const times: number[] = [];
  await withSim({ projects: 10 }, async (sim) => {
    for (let i = 0; i < S8.reps; i++) {
      const names = brokerNames("s8");
      const db = tempDb();
      const t0 = performance.now();
      const serve = await serveProcess(syncEnv(sim, state.rabbit.url, names, db.url));
      try {
        await waitReady(serve.url, serve.proc, serve.stderr);
        times.push(performance.now() - t0);
      } finally {
        serve.proc.kill("SIGTERM");
        await serve.proc.exited;
        await deleteBrokerNames(state.rabbit.url, names);
        db.cleanup();
      }
    }
  });
  rows.push({
    id: "S8",
    scenario: "compiled binary start to `/health/ready` = 200",
    figure: `${fmt(median(times))} ms (min ${fmt(Math.min(...times))}, max ${fmt(Math.max(...times))})`,
    target: "report",
    verdict: "report",
  });
  sections.push(`### S8 — start-up

\`dist/item-sync serve\` on a new SQLite file (so the migrations run) with the broker up, polled every 2 ms
until \`/health/ready\` answers 200 (database and broker checked). ${S8.reps} starts:
${times.map((t) => `${fmt(t)} ms`).join(", ")} → median **${fmt(median(times))} ms**.`);
}

const scenario: BenchScenario = { id: "S8", run: s8 };
export default scenario;
