/**
 * Crash anywhere: a `serve` is SIGKILLed at random moments of a sync (listing, hook checks,
 * publishing and checkpoint writes all happen within the first second of a run), restarted and
 * the sync relaunched each time; then it runs to the end. Afterwards every project has at least
 * one update-item (seen by an independent tap), the execution history is consistent, and the
 * duplicates are counted.
 */
import { openDb } from "../../../src/db/client.ts";
import {
  amqpUrl,
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  startTap,
  waitFor,
} from "../../helpers/binary.ts";
import { createTestDatabase } from "../../helpers/db.ts";
import { startGitlabSim } from "../../sim/gitlab.ts";
import {
  duplicateCount,
  historyProblems,
  missingUpdates,
  readHistory,
  serviceEnv,
  waitTerminal,
} from "../lib/harness.ts";
import { type ScenarioResult, say } from "../lib/report.ts";

export async function crashScenario(opts: { projects: number; crashes: number }): Promise<ScenarioResult> {
  const sim = startGitlabSim({
    projects: opts.projects,
    latencyMs: 3,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: "https://item-sync.test/webhooks/gitlab",
  });
  const t = await createTestDatabase("pg");
  const names = brokerNames("crash");
  const tap = await startTap(names.AMQP_EXCHANGE);
  const env = serviceEnv(sim, {
    DATABASE_URL: t.url,
    AMQP_URL: amqpUrl(),
    JOB_LEASE_SECONDS: "3",
    ...names,
  });
  let serve: RunningProcess | undefined;
  const killedAt: string[] = [];
  const resumes: number[] = [];
  const spurious: string[] = []; // executions that failed without being killed
  try {
    let previous: number | null = null;
    for (let crash = 0; crash <= opts.crashes; crash++) {
      serve = await startBinary(["serve"], env);
      const call = api(serve.url);
      // The dead execution's lease must expire before a launch resumes it: 409 until then.
      const launched = await waitFor(
        "a launch",
        async () => {
          const r = await call("POST", "/sync");
          return r.status === 202 && r.body;
        },
        30_000,
      );
      const id = launched.id as number;
      if (previous !== null && launched.restartOf === previous) resumes.push(id);
      previous = id;
      if (crash === opts.crashes) {
        // Run to the end; a run that fails on its own (not killed) is relaunched and counted.
        let done = await waitTerminal(call, id, 300_000, serve);
        while (done.status !== "COMPLETED" && spurious.length < 5) {
          spurious.push(`${done.id} ${done.status}: ${done.exitMessage}`);
          say(`final run ${done.id} ended ${done.status}: ${done.exitMessage}; relaunching`);
          const again = await call("POST", "/sync");
          if (again.status !== 202) throw new Error(`relaunch refused: ${JSON.stringify(again.body)}`);
          done = await waitTerminal(call, again.body.id as number, 300_000, serve);
        }
        if (done.status !== "COMPLETED") throw new Error(`final run ${done.status}: ${done.exitMessage}`);
        await serve.kill("SIGTERM");
        break;
      }
      const delay = 30 + Math.floor(Math.random() * 1500);
      await Bun.sleep(delay);
      const before = (await call("GET", `/jobs/${id}`)).body as { counts?: { read: number } };
      serve.proc.kill("SIGKILL");
      await serve.exited;
      killedAt.push(`${delay} ms (read ${before.counts?.read ?? "?"})`);
      say(
        `crash ${crash + 1}/${opts.crashes}: SIGKILL at ${delay} ms, execution ${id}, read ${before.counts?.read}`,
      );
    }
    const ids = sim.state.projects.map((p) => p.id);
    await waitFor(
      "an update-item for every project",
      async () => missingUpdates(ids, tap.counts["item.update"]).length === 0,
      30_000,
    ).catch(() => {});
    const db = openDb(t.url);
    const history = await readHistory(db);
    await db.close();
    const problems = historyProblems(history);
    const lost = missingUpdates(ids, tap.counts["item.update"]).length;
    const duplicates = duplicateCount(tap.counts["item.update"]);
    const failed = history.filter((h) => h.status === "FAILED");
    return {
      scenario: "crash anywhere",
      tried: `SIGKILL of serve at ${opts.crashes} random moments (30–1530 ms into each run) of a ${opts.projects}-project sync on Postgres, restart + relaunch each time`,
      runs: history.length,
      faults: `${opts.crashes} SIGKILLs`,
      lost,
      duplicates,
      outcome:
        `executions ${JSON.stringify(Object.fromEntries([...new Set(history.map((h) => h.status))].map((st) => [st, history.filter((h) => h.status === st).length])))} ` +
        `(a resumed run may complete before its kill: the next launch then starts a new instance); FAILED reasons: ${[...new Set(failed.map((f) => f.exitMessage.replace(/since .*/, "since …")))].join("; ")}; ` +
        `${resumes.length} resumed from the checkpoint, ${spurious.length} failed on their own, final COMPLETED; history problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
      notes: [
        `kills at: ${killedAt.join(", ")}`,
        ...spurious.map((x) => `failed without a fault injected (product bug): ${x}`),
      ],
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}
