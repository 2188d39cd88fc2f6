/**
 * A Postgres failover mid-sync: a primary and a streaming standby on this machine, `serve` given
 * both hosts with `target_session_attrs=read-write` (as libpq teaches). The primary is stopped
 * with `-m immediate` while the sync runs, the API is polled until it answers 503, the standby
 * is promoted, and the API must answer 200 again. The outage is shorter than the lease, so the
 * same execution must COMPLETE, with every project's update-item and a consistent history.
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
import { instanceLines, ledgerOf } from "../lib/accounting.ts";
import {
  fencingProblems,
  getExecution,
  historyProblems,
  readHistory,
  scenarioSim,
  serviceEnv,
  waitTerminal,
} from "../lib/harness.ts";
import { startPostgresPair } from "../lib/pg-ha.ts";
import { check, faultCheck, historyCheck, lostCheck, type ScenarioResult, say } from "../lib/report.ts";

/** A log's lines with the time left out, each distinct one once, for a failure's message. */
function distinctLines(log: string): string {
  const seen = new Set<string>();
  for (const line of log.split("\n")) seen.add(line.replace(/"time":"[^"]*",?/, ""));
  return [...seen].join("\n").slice(-8000);
}

export async function postgresFailover(
  opts: { projects?: number; leaseSeconds?: number; outageSeconds?: number } = {},
): Promise<ScenarioResult & { status: string; during: number[]; after: number }> {
  const projects = opts.projects ?? 3000;
  const lease = opts.leaseSeconds ?? 30;
  const pair = await startPostgresPair();
  const sim = scenarioSim(projects, 5);
  const names = brokerNames("failover");
  const tap = await startTap(names.AMQP_EXCHANGE);
  let serve: RunningProcess | undefined;
  try {
    const env = serviceEnv(sim, {
      DATABASE_URL: pair.url,
      AMQP_URL: amqpUrl(),
      JOB_LEASE_SECONDS: String(lease),
      GITLAB_CONCURRENCY: "4",
      ...names,
    });
    serve = await startBinary(["serve"], env);
    const call = api(serve.url);
    const launched = await call("POST", "/sync");
    if (launched.status !== 202) throw new Error(`launch refused: ${JSON.stringify(launched.body)}`);
    const id = launched.body.id as number;
    await waitFor("progress", async () => ((await getExecution(call, id)).counts?.read ?? 0) >= 300, 60_000);

    const atCrash = (await getExecution(call, id)).status;
    const lostAt = Date.now();
    await pair.crashPrimary();
    say("failover: primary stopped (-m immediate)");
    // during the switch the service says it is not ready (the database does not answer)
    const during: number[] = [];
    await waitFor(
      "a 503 while the primary is gone",
      async () => {
        const r = await fetch(`${serve?.url}/health/ready`);
        during.push(r.status);
        return r.status === 503;
      },
      10_000,
    );
    // a switch of a few seconds, as a failover manager's detection takes: heartbeats and
    // checkpoints fail meanwhile
    await Bun.sleep(Math.max(0, lostAt + (opts.outageSeconds ?? 4) * 1000 - Date.now()));
    await pair.promoteStandby();
    // and once the standby is promoted, the API answers from it again
    let lastSeen = "nothing yet";
    const after = await waitFor(
      "a 200 from the promoted standby",
      async () => {
        const ready = await fetch(`${serve?.url}/health/ready`);
        lastSeen = `/health/ready ${ready.status} ${await ready.text()}`;
        const r = ready.status === 200 ? await call("GET", `/jobs/${id}`) : null;
        if (r) lastSeen = `GET /jobs/${id} ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
        return r?.status === 200 && r.status;
      },
      // a hang guard: a request that went to a pooled connection of the lost primary may wait
      // for the answer limit (max(lease, 30 s)) before the pool reconnects (README, known limits)
      75_000,
    ).catch((err: unknown) => {
      throw new Error(
        `${(err as Error).message}; last seen: ${lastSeen}; service log (each distinct line once):\n${distinctLines(serve?.logs() ?? "")}\n${pair.logs()}`,
      );
    });
    const outageMs = Date.now() - lostAt;
    say(`failover: standby promoted, API answering again after ${outageMs} ms`);

    const done = await waitTerminal(call, id, 120_000, serve);
    const ids = sim.state.projects.map((p) => p.id);
    await waitFor(
      "every completed sync's update-items",
      async () => (await ledgerOf(pair.url, tap.messages, ids)).lost === 0,
      15_000,
    ).catch(() => {});
    const ledger = await ledgerOf(pair.url, tap.messages, ids);
    const db = openDb(pair.url);
    let history: Awaited<ReturnType<typeof readHistory>>;
    let historyIssues: string[];
    let fencing: string[];
    try {
      history = await readHistory(db);
      historyIssues = historyProblems(history);
      fencing = await fencingProblems(db, tap.messages);
    } finally {
      await db.close();
    }
    const checks = [
      faultCheck(
        "primary lost while the sync ran",
        atCrash === "STARTED",
        `execution ${atCrash} at the crash`,
      ),
      check("503 while the primary was gone", during.includes(503), [...new Set(during)].join("/")),
      check("200 from the promoted standby", after === 200, after),
      check(
        "the launched execution COMPLETED",
        done.status === "COMPLETED",
        `${done.status}${done.exitMessage ? `: ${done.exitMessage}` : ""}`,
      ),
      check("one execution for the run", history.length === 1, history.length),
      historyCheck(historyIssues),
      check("fencing held", fencing.length === 0, fencing.length === 0 ? "none" : fencing.join("; ")),
      lostCheck(ledger.lost, ids.length),
    ];
    const problems = checks.filter((c) => !c.ok).map((c) => `${c.name} (${c.figure})`);
    return {
      scenario: "Postgres failover mid-sync",
      tried: `primary + streaming standby, DATABASE_URL listing both with target_session_attrs=read-write; primary stopped -m immediate after 300 of ${projects} projects were read, standby promoted (${(outageMs / 1000).toFixed(1)} s without a primary, lease ${lease} s)`,
      runs: history.length,
      faults: "1 primary lost + promote",
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      outcome:
        `execution ${id} ${done.status} (the same execution); API during the switch: ${[...new Set(during)].join("/")}, after: ${after}; ` +
        `${ledger.instances.map((i) => i.published).join("+")}/${ids.length} projects published; problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
      checks,
      notes: [
        ...instanceLines(ledger.instances),
        ...(serve.logs().includes("the step's write waits for it")
          ? ["the step's writes waited for the new primary (logged) instead of failing the run"]
          : []),
      ],
      status: done.status,
      during,
      after,
    };
  } finally {
    await serve?.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    await pair.destroy();
  }
}
