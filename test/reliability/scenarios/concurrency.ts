/**
 * Concurrency against the compiled binary on Postgres: several `serve` processes receive many
 * simultaneous POST /sync, round after round — exactly one execution starts each round; and
 * three replicas whose cron ticks every second start one execution per slot between them.
 * Executions are counted from the database; a cron sync's update-items from an independent tap.
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
import { readExecutions, syncLedger } from "../lib/accounting.ts";
import { historyProblems, readHistory, scenarioSim, serviceEnv, waitTerminal } from "../lib/harness.ts";
import { check, faultCheck, historyCheck, lostCheck, type ScenarioResult } from "../lib/report.ts";

export async function launchRounds(opts: {
  processes: number;
  launches: number;
  rounds: number;
}): Promise<ScenarioResult & { perRound: number[] }> {
  const sim = scenarioSim(3000, 15);
  const t = await createTestDatabase("pg");
  const names = brokerNames("conc");
  const env = serviceEnv(sim, {
    DATABASE_URL: t.url,
    AMQP_URL: amqpUrl(),
    GITLAB_CONCURRENCY: "4",
    ...names,
  });
  const procs: RunningProcess[] = [];
  const perRound: number[] = []; // executions the database holds for each round
  const accepted: number[] = []; // execution ids answered with 202
  let conflicts = 0;
  let others = 0;
  const db = openDb(t.url);
  const newest = async () =>
    Number(
      (
        await db.all<{ n: number }>("select coalesce(max(job_execution_id), 0) as n from batch_job_execution")
      )[0]?.n ?? 0,
    );
  try {
    for (let i = 0; i < opts.processes; i++) procs.push(await startBinary(["serve"], env));
    const calls = procs.map((p) => api(p.url));
    for (let round = 0; round < opts.rounds; round++) {
      const before = await newest();
      const results = await Promise.all(
        calls.flatMap((call) =>
          Array.from({ length: opts.launches }, () => call("POST", "/sync?fresh=true")),
        ),
      );
      const started = results.filter((r) => r.status === 202);
      conflicts += results.filter((r) => r.status === 409).length;
      others += results.filter((r) => r.status !== 202 && r.status !== 409).length;
      accepted.push(...started.map((r) => r.body.id as number));
      const call = calls[round % calls.length] as (typeof calls)[number];
      for (const s of started) {
        await call("POST", `/jobs/${s.body.id}/stop`);
        await waitTerminal(call, s.body.id as number, 60_000);
      }
      perRound.push((await newest()) - before);
    }
    const history = await readHistory(db);
    const problems = historyProblems(history);
    const recorded = new Set(history.map((h) => h.id));
    const unrecorded = accepted.filter((id) => !recorded.has(id));
    const duplicates = perRound.reduce((n, k) => n + Math.max(0, k - 1), 0);
    return {
      scenario: "simultaneous launches",
      tried: `${opts.processes} serve processes × ${opts.launches} simultaneous POST /sync?fresh=true on one Postgres, ${opts.rounds} rounds (each round's execution stopped before the next)`,
      runs: opts.rounds * opts.processes * opts.launches,
      faults: `${opts.processes * opts.launches} concurrent launches per round`,
      // a launch answered 202 whose execution the database does not hold
      lost: unrecorded.length,
      // executions beyond one per round, as the database holds them
      duplicates,
      outcome: `executions recorded per round: ${perRound.join(",")}; ${accepted.length} × 202, ${conflicts} × 409, ${others} other answers; ${history.length} executions recorded; history problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
      checks: [
        faultCheck(
          "simultaneous launches from several processes",
          accepted.length + conflicts + others === opts.rounds * opts.processes * opts.launches &&
            conflicts > 0,
          `${accepted.length + conflicts + others} launches answered, ${conflicts} × 409`,
        ),
        check("at most one execution per round", duplicates === 0, `per round: ${perRound.join(",")}`),
        check(
          "every round started an execution",
          perRound.every((k) => k > 0),
          `per round: ${perRound.join(",")}`,
        ),
        check("every answer 202 or 409", others === 0, `${others} other answers`),
        check(
          "every launch answered 202 is recorded",
          unrecorded.length === 0,
          `${unrecorded.length} unrecorded`,
        ),
        historyCheck(problems),
      ],
      perRound,
    };
  } finally {
    await db.close();
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    await sim.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}

export async function cronReplicas(opts: {
  replicas: number;
  seconds: number;
}): Promise<ScenarioResult & { slotsWithMoreThanOne: number; slots: number }> {
  const sim = scenarioSim(20);
  const t = await createTestDatabase("pg");
  const names = brokerNames("cron");
  const tap = await startTap(names.AMQP_EXCHANGE);
  const env = serviceEnv(sim, {
    DATABASE_URL: t.url,
    AMQP_URL: amqpUrl(),
    SYNC_CRON: "* * * * * *",
    ...names,
  });
  const procs: RunningProcess[] = [];
  try {
    for (let i = 0; i < opts.replicas; i++) procs.push(await startBinary(["serve"], env));
    await Bun.sleep(opts.seconds * 1000);
    await Promise.all(procs.map((p) => p.kill("SIGTERM")));
    const db = openDb(t.url);
    const rows = await db.all<{ slot: string; n: number }>(
      `select p.parameter_value as slot, count(*) as n from batch_job_execution e
         join batch_job_execution_params p on p.job_execution_id = e.job_execution_id and p.parameter_name = 'schedule.slot'
        where e.trigger = 'cron' group by p.parameter_value`,
    );
    const history = await readHistory(db);
    const executions = await readExecutions(db);
    await db.close();
    const problems = historyProblems(history);
    const multi = rows.filter((r) => Number(r.n) > 1).length;
    const ids = sim.state.projects.map((p) => p.id);
    await waitFor(
      "every completed sync's update-items",
      async () => syncLedger(executions, tap.messages, ids).lost === 0,
      10_000,
    ).catch(() => {});
    const ledger = syncLedger(executions, tap.messages, ids);
    const duplicates = rows.reduce((n, r) => n + Math.max(0, Number(r.n) - 1), 0);
    return {
      scenario: "cron on replicas",
      tried: `${opts.replicas} serve replicas with SYNC_CRON="* * * * * *" on one Postgres for ${opts.seconds} s (a 20-project sync per slot)`,
      runs: history.length,
      faults: `${opts.replicas} ticks per second`,
      // projects a completed cron sync did not publish
      lost: ledger.lost,
      // executions beyond one per slot
      duplicates,
      outcome: `${rows.length} slots ran, ${multi} with more than one execution; ${ledger.instances.filter((i) => i.status === "COMPLETED").length} syncs COMPLETED, ${ledger.duplicates} update-items beyond one per project within a sync; history problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
      checks: [
        faultCheck(
          "several replicas ticked for the same slots",
          rows.length > 0 && opts.replicas > 1,
          `${rows.length} slots, ${opts.replicas} replicas`,
        ),
        check("one execution per slot", duplicates === 0, `${duplicates} beyond one per slot`),
        check(
          "a cron sync COMPLETED",
          ledger.instances.some((i) => i.status === "COMPLETED"),
          `${ledger.instances.filter((i) => i.status === "COMPLETED").length} COMPLETED`,
        ),
        historyCheck(problems),
        lostCheck(
          ledger.lost,
          ids.length * ledger.instances.filter((i) => i.status === "COMPLETED").length,
          "project-syncs",
        ),
      ],
      slotsWithMoreThanOne: multi,
      slots: rows.length,
    };
  } finally {
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}
