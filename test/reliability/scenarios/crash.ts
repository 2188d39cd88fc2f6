/**
 * Crash anywhere: a `serve` is SIGKILLed at random moments of a sync (listing, hook checks,
 * publishing and checkpoint writes all happen within the first second of a run), restarted and
 * the sync relaunched each time; then it runs to the end. Afterwards, per job instance (the first
 * execution and the relaunches that resumed it, see ../lib/accounting.ts), every completed one
 * published an update-item for every project (seen by an independent tap); each relaunch either
 * resumed its killed predecessor and published nothing at or below the checkpoint that predecessor
 * had committed, or started a new instance because the predecessor had already COMPLETED; the
 * execution history is consistent; the duplicates are counted.
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
import { readExecutions, syncLedger, syncUpdates } from "../lib/accounting.ts";
import {
  getExecution,
  historyProblems,
  readHistory,
  scenarioSim,
  serviceEnv,
  waitTerminal,
} from "../lib/harness.ts";
import { check, faultCheck, historyCheck, lostCheck, type ScenarioResult, say } from "../lib/report.ts";

/** A relaunch, and what its killed predecessor had committed when it died. */
interface Relaunch {
  id: number;
  restartOf: number | null;
  previous: number;
  /** the predecessor's checkpoint: projects at or below it were done */
  lastProjectId: number;
  scanComplete: boolean;
}

export async function crashScenario(opts: {
  projects: number;
  crashes: number;
}): Promise<ScenarioResult & { resumeProblems: string[]; resumes: number; resumesPastCheckpoint: number }> {
  const sim = scenarioSim(opts.projects, 3);
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
  const relaunches: Relaunch[] = [];
  const spurious: string[] = []; // executions that failed without being killed
  try {
    let previous: number | null = null;
    for (let crash = 0; crash <= opts.crashes; crash++) {
      serve = await startBinary(["serve"], env);
      const call = api(serve.url);
      // what the killed execution had committed: a resumed run must start after it
      const committed = previous === null ? null : ((await getExecution(call, previous)).step?.context ?? {});
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
      if (previous !== null && committed !== null) {
        const checkpoint = committed.checkpoint as { lastProjectId?: number } | undefined;
        relaunches.push({
          id,
          restartOf: (launched.restartOf as number | null) ?? null,
          previous,
          lastProjectId: checkpoint?.lastProjectId ?? 0,
          scanComplete: committed.scanComplete === true,
        });
      }
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
      // Every other kill comes after the execution committed a checkpoint (however slow the
      // machine), so relaunches have a checkpoint to resume from; the others at a random moment.
      const afterCheckpoint = crash % 2 === 1;
      if (afterCheckpoint) {
        await waitFor(
          "a committed checkpoint",
          async () => (await getExecution(call, id)).step?.context?.checkpoint !== undefined,
          120_000,
        );
      }
      const delay = afterCheckpoint ? Math.floor(Math.random() * 300) : 30 + Math.floor(Math.random() * 1500);
      await Bun.sleep(delay);
      const before = (await call("GET", `/jobs/${id}`)).body as { counts?: { read: number } };
      serve.proc.kill("SIGKILL");
      await serve.exited;
      killedAt.push(
        `${afterCheckpoint ? "checkpoint + " : ""}${delay} ms (read ${before.counts?.read ?? "?"})`,
      );
      say(
        `crash ${crash + 1}/${opts.crashes}: SIGKILL at ${delay} ms, execution ${id}, read ${before.counts?.read}`,
      );
    }
    const ids = sim.state.projects.map((p) => p.id);
    const db = openDb(t.url);
    const history = await readHistory(db);
    const executions = await readExecutions(db);
    await db.close();
    // every completed instance's update-items reach the tap (it may still be draining)
    await waitFor(
      "every completed instance's update-items",
      async () => syncLedger(executions, tap.messages, ids).lost === 0,
      30_000,
    ).catch(() => {});
    const problems = historyProblems(history);
    const ledger = syncLedger(executions, tap.messages, ids);
    const failed = history.filter((h) => h.status === "FAILED");
    const statusOf = new Map(executions.map((e) => [e.id, e.status]));
    const published = new Map<number, number[]>();
    for (const u of syncUpdates(tap.messages))
      published.set(u.executionId, [...(published.get(u.executionId) ?? []), u.projectId]);
    const resumeProblems: string[] = [];
    let resumes = 0;
    let resumesPastCheckpoint = 0;
    for (const r of relaunches) {
      if (r.restartOf === r.previous) {
        resumes++;
        if (r.lastProjectId > 0) resumesPastCheckpoint++;
        const below = (published.get(r.id) ?? []).filter((pid) => pid <= r.lastProjectId);
        if (r.scanComplete && (published.get(r.id) ?? []).length > 0)
          resumeProblems.push(`${r.id} re-published after a complete scan of ${r.previous}`);
        else if (below.length > 0)
          resumeProblems.push(
            `${r.id} resumed ${r.previous} at project ${r.lastProjectId} but published ${below.length} at or below it (first ${below[0]})`,
          );
      } else if (statusOf.get(r.previous) !== "COMPLETED") {
        resumeProblems.push(
          `${r.id} did not resume ${r.previous} (${statusOf.get(r.previous)}): restartOf ${r.restartOf}`,
        );
      }
    }
    const perInstance = ledger.instances.map(
      (i) =>
        `instance ${i.instanceId} (executions ${i.executions.join(",")}, ${i.status}): ${i.published} projects published, ${i.lost.length} lost, ${i.duplicates} duplicates`,
    );
    return {
      scenario: "crash anywhere",
      tried: `SIGKILL of serve at ${opts.crashes} moments (every other one 0–300 ms after a committed checkpoint, the others 30–1530 ms into the run) of a ${opts.projects}-project sync on Postgres, restart + relaunch each time`,
      runs: history.length,
      faults: `${opts.crashes} SIGKILLs`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      outcome:
        `executions ${JSON.stringify(Object.fromEntries([...new Set(history.map((h) => h.status))].map((st) => [st, history.filter((h) => h.status === st).length])))} ` +
        `(a resumed run may complete before its kill: the next launch then starts a new instance); FAILED reasons: ${[...new Set(failed.map((f) => f.exitMessage.replace(/since .*/, "since …")))].join("; ")}; ` +
        `${resumes}/${relaunches.length} relaunches resumed their predecessor (${resumesPastCheckpoint} from a checkpoint past the first page), ${resumeProblems.length} not from its checkpoint; ${spurious.length} failed on their own, final COMPLETED; history problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
      checks: [
        faultCheck(
          "serve SIGKILLed mid-sync",
          killedAt.length === opts.crashes,
          `${killedAt.length} of ${opts.crashes} kills`,
        ),
        check(
          "every relaunch resumed from its predecessor's checkpoint",
          resumeProblems.length === 0,
          resumeProblems.length === 0 ? `${resumes}/${relaunches.length} resumed` : resumeProblems.join("; "),
        ),
        check(
          "a relaunch resumed from a checkpoint past the first page",
          resumesPastCheckpoint > 0,
          resumesPastCheckpoint,
        ),
        check(
          "no execution failed without a fault injected",
          spurious.length === 0,
          spurious.length === 0 ? "none" : spurious.join("; "),
        ),
        historyCheck(problems),
        lostCheck(
          ledger.lost,
          ids.length * ledger.instances.filter((i) => i.status === "COMPLETED").length,
          "project-syncs",
        ),
      ],
      resumeProblems,
      resumes,
      resumesPastCheckpoint,
      notes: [`kills at: ${killedAt.join(", ")}`, ...perInstance],
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}
