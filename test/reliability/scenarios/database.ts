/**
 * Database faults during a sync, against the compiled binary: a private Postgres server
 * restarted mid-run; a Postgres role whose connection limit is below the service's pool (the
 * pool cannot grow, new connections are refused); SQLite on a tmpfs that is remounted read-only,
 * or filled up, mid-run. Never COMPLETED while the database refuses writes; a clear reason; after
 * the fault is cleared, a relaunch completes and every project has its update-item.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
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
import { pgAdminUrl } from "../../helpers/db.ts";
import { instanceLines, ledgerOf } from "../lib/accounting.ts";
import {
  createPrivatePostgres,
  type Execution,
  getExecution,
  historyProblems,
  readHistory,
  scenarioSim,
  serviceEnv,
  TERMINAL,
} from "../lib/harness.ts";
import { check, faultCheck, historyCheck, lostCheck, type ScenarioResult, say } from "../lib/report.ts";

type Tap = Awaited<ReturnType<typeof startTap>>;

/**
 * After a fault: (re)start serve when it died, then launch until an execution completes (at most
 * `attempts` launches). Returns every execution's end seen, the serve in use.
 */
async function driveToCompletion(
  env: Record<string, string>,
  serve: RunningProcess | undefined,
  attempts: number,
): Promise<{ serve: RunningProcess; ends: Execution[] }> {
  const ends: Execution[] = [];
  let current = serve;
  for (let i = 0; i < attempts; i++) {
    if (!current || current.proc.exitCode !== null) current = await startBinary(["serve"], env);
    const call = api(current.url);
    const launched = await waitFor(
      "a launch",
      async () => {
        const r = await call("POST", "/sync").catch(() => null);
        return r?.status === 202 && r.body;
      },
      60_000,
    );
    const end = await waitFor(
      "the end",
      async () => {
        if (current?.proc.exitCode !== null)
          return { id: launched.id, status: "PROCESS_EXITED" } as Execution;
        const r = await getExecution(call, launched.id as number).catch(() => null);
        return r !== null && TERMINAL.includes(r.status) && r;
      },
      180_000,
    );
    ends.push(end);
    if (end.status === "COMPLETED") return { serve: current, ends };
  }
  throw new Error(
    `no COMPLETED after ${attempts} launches: ${JSON.stringify(ends.map((e) => `${e.status}: ${String(e.exitMessage ?? "").slice(0, 200)}`))}`,
  );
}

/** Waits until every completed sync's update-items reached the tap; returns the per-instance ledger. */
async function settledLedger(databaseUrl: string, ids: number[], tap: Tap) {
  await waitFor(
    "every completed sync's update-items",
    async () => (await ledgerOf(databaseUrl, tap.messages, ids)).lost === 0,
    30_000,
  ).catch(() => {});
  return ledgerOf(databaseUrl, tap.messages, ids);
}

/** Checks every database scenario makes once the fault is cleared. */
function afterChecks(
  ends: Execution[],
  problems: string[],
  ledger: Awaited<ReturnType<typeof ledgerOf>>,
  ids: number[],
) {
  return [
    check(
      "a relaunch COMPLETED after the fault",
      ends.at(-1)?.status === "COMPLETED",
      ends.map((e) => e.status).join("→"),
    ),
    historyCheck(problems),
    lostCheck(
      ledger.lost,
      ids.length * ledger.instances.filter((i) => i.status === "COMPLETED").length,
      "project-syncs",
    ),
  ];
}

/** The first execution's status while the fault lasted, and its end. */
async function observe(call: ReturnType<typeof api>, id: number, serve: RunningProcess, ms: number) {
  const seen = new Set<string>();
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && serve.proc.exitCode === null) {
    const r = await getExecution(call, id).catch(() => null);
    if (r && typeof r.status === "string") seen.add(r.status);
    await Bun.sleep(250);
  }
  return [...seen];
}

export async function postgresRestart(
  opts: { projects?: number; downSeconds?: number } = {},
): Promise<ScenarioResult> {
  const projects = opts.projects ?? 3000;
  const pg = await createPrivatePostgres();
  await pg.start();
  const sim = scenarioSim(projects, 5);
  const names = brokerNames("pgrs");
  const tap = await startTap(names.AMQP_EXCHANGE);
  const env = serviceEnv(sim, {
    DATABASE_URL: pg.url,
    AMQP_URL: amqpUrl(),
    GITLAB_CONCURRENCY: "4",
    JOB_LEASE_SECONDS: "3",
    ...names,
  });
  let serve: RunningProcess | undefined;
  try {
    serve = await startBinary(["serve"], env);
    const call = api(serve.url);
    const id = (await call("POST", "/sync")).body.id as number;
    await waitFor("progress", async () => ((await getExecution(call, id)).counts?.read ?? 0) >= 300, 60_000);
    const atStop = (await getExecution(call, id)).status;
    await pg.stop();
    say(`postgres stopped for ${opts.downSeconds ?? 3} s`);
    await Bun.sleep((opts.downSeconds ?? 3) * 1000);
    const readyDuring =
      serve.proc.exitCode === null ? (await fetch(`${serve.url}/health/ready`)).status : "exited";
    await pg.start();
    const during = await observe(call, id, serve, 15_000);
    const firstExit = serve.proc.exitCode;
    const driven = await driveToCompletion(env, serve, 4);
    serve = driven.serve;
    const ids = sim.state.projects.map((p) => p.id);
    const ledger = await settledLedger(pg.url, ids, tap);
    await serve.kill("SIGTERM");
    const db = openDb(pg.url);
    const history = await readHistory(db);
    await db.close();
    const problems = historyProblems(history);
    return {
      scenario: "Postgres restarted mid-sync",
      tried: `private Postgres stopped ${opts.downSeconds ?? 3} s after 300 of ${projects} projects were read, started again; relaunch until COMPLETED`,
      runs: history.length,
      faults: `1 restart (/health/ready during: ${readyDuring})`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      checks: [
        faultCheck(
          "Postgres stopped while the sync ran",
          atStop === "STARTED",
          `execution ${atStop} when stopped`,
        ),
        ...afterChecks(driven.ends, problems, ledger, ids),
      ],
      notes: instanceLines(ledger.instances),
      outcome:
        `first execution seen ${during.join("→") || "-"}${firstExit !== null ? ` (serve exited ${firstExit})` : ""}; ` +
        `history ${history.map((h) => `${h.id} ${h.status}${h.exitMessage ? ` (${h.exitMessage.slice(0, 120)})` : ""}`).join(", ")}; ` +
        `problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    await pg.destroy();
  }
}

/** A role limited to `limit` connections, below the service's pool of 10. */
export async function poolExhausted(
  opts: { projects?: number; limit?: number } = {},
): Promise<ScenarioResult> {
  const projects = opts.projects ?? 2000;
  const limit = opts.limit ?? 2;
  const admin = postgres(pgAdminUrl(), { max: 1, onnotice: () => {} });
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const role = `rel_role_${suffix}`;
  const dbName = `rel_pool_${suffix}`;
  await admin.unsafe(`create role ${role} login connection limit ${limit}`);
  await admin.unsafe(`create database ${dbName} owner ${role}`);
  const u = new URL(pgAdminUrl());
  u.username = role;
  u.pathname = `/${dbName}`;
  const sim = scenarioSim(projects, 5);
  const names = brokerNames("pool");
  const tap = await startTap(names.AMQP_EXCHANGE);
  const env = serviceEnv(sim, {
    DATABASE_URL: u.toString(),
    AMQP_URL: amqpUrl(),
    GITLAB_CONCURRENCY: "8",
    JOB_LEASE_SECONDS: "3",
    // the step's progress lines, for the report of a stall
    LOG_LEVEL: "info",
    ...names,
  });
  let serve: RunningProcess | undefined;
  try {
    serve = await startBinary(["serve"], env);
    // hammer the API while the sync runs, so the pool wants more connections than it may open
    const call = api(serve.url);
    // two connections are few: the launch itself may be refused (503) while start-up work holds
    // them; that is a clear answer, and the launch is tried again
    const launches: number[] = [];
    const first = await waitFor(
      "POST /sync to be accepted",
      async () => {
        const r = await call("POST", "/sync");
        launches.push(r.status);
        return r.status === 202 && r;
      },
      30_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; answers ${launches.join(",")}`);
    });
    const id = first.body.id as number;
    const statuses: Record<string, number> = {};
    let stop = false;
    const hammer = (async () => {
      while (!stop) {
        const rs = await Promise.all(
          Array.from({ length: 20 }, () => call("GET", "/jobs?limit=5").catch(() => ({ status: 0 }))),
        );
        for (const r of rs) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    })();
    // The end is read from the database as the superuser (the role's own connections are what
    // the hammer exhausts, so GET /jobs/:id may keep answering 503); the API must then agree.
    const superuser = new URL(pgAdminUrl());
    superuser.pathname = `/${dbName}`;
    const watcher = postgres(superuser.toString(), { max: 1, onnotice: () => {} });
    const ended = await waitFor(
      "the first execution to end",
      async () => {
        if (serve?.proc.exitCode !== null) return { status: "PROCESS_EXITED", exitMessage: "" };
        const [row] = await watcher.unsafe(
          "select status, exit_message from batch_job_execution where job_execution_id = $1",
          [id],
        );
        const status = String(row?.status ?? "");
        return TERMINAL.includes(status) && { status, exitMessage: String(row?.exit_message ?? "") };
      },
      180_000,
    )
      .catch(async (err: unknown) => {
        const [row] = await watcher
          .unsafe(
            "select status, exit_message, last_updated from batch_job_execution where job_execution_id = $1",
            [id],
          )
          .catch(() => []);
        const lastApi = JSON.stringify(
          (await call("GET", `/jobs/${id}`).catch((e: unknown) => ({ error: String(e) }))) ?? null,
        );
        const sessions = await watcher
          .unsafe(
            "select state, wait_event_type, wait_event, now() - xact_start as xact_age, left(query, 120) as query from pg_stat_activity where usename = $1",
            [role],
          )
          .catch((e: unknown) => [{ error: String(e) }]);
        // the hammered requests' warnings say nothing of the step: leave them out
        const stepLines = (serve?.logs() ?? "")
          .split("\n")
          .filter((l) => !l.includes("during a request"))
          .slice(-40)
          .join("\n");
        throw new Error(
          `${(err as Error).message}; execution row ${JSON.stringify(row ?? null)}; API ${lastApi.slice(0, 1500)}; ` +
            `API answers ${JSON.stringify(statuses)}; role's sessions ${JSON.stringify(sessions)}; ` +
            `serve log without request warnings (last 40):\n${stepLines.slice(-8000)}`,
        );
      })
      .finally(async () => {
        stop = true; // a failed wait must not leave the hammer running
        await hammer;
        await watcher.end();
      });
    // with the hammer gone, the API reports the same end
    const during =
      ended.status === "PROCESS_EXITED"
        ? ({ id, status: ended.status, exitMessage: "" } as Execution)
        : await waitFor(
            "GET /jobs/:id to report the end",
            async () => {
              const r = await getExecution(call, id).catch(() => null);
              return r !== null && r.status === ended.status && r;
            },
            30_000,
          );
    const firstEnd = `${during.status}${during.exitMessage ? `: ${during.exitMessage.slice(0, 200)}` : ""}`;
    // still two connections: a relaunch may fail the same way, each resuming from its checkpoint
    const driven = await driveToCompletion(env, serve, 8);
    serve = driven.serve;
    const ids = sim.state.projects.map((p) => p.id);
    // read as the superuser: the role's own connections are what the service holds
    const ledger = await settledLedger(superuser.toString(), ids, tap);
    await serve.kill("SIGTERM");
    const db = openDb(u.toString());
    const history = await readHistory(db);
    await db.close();
    const problems = historyProblems(history);
    return {
      scenario: "connection pool exhausted",
      tried: `Postgres role limited to ${limit} connections (pool of 10) while a ${projects}-project sync runs and 20 API calls at a time hammer GET /jobs`,
      runs: history.length,
      faults: `connection limit ${limit}; launch answers ${launches.join(",")}; API answers ${JSON.stringify(statuses)}`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      checks: [
        faultCheck(
          "the pool ran out of connections (503 answers)",
          (statuses[503] ?? 0) + launches.filter((x) => x === 503).length > 0,
          `${(statuses[503] ?? 0) + launches.filter((x) => x === 503).length} answers 503`,
        ),
        ...afterChecks(driven.ends, problems, ledger, ids),
      ],
      notes: instanceLines(ledger.instances),
      outcome: `first execution ${firstEnd}; then ${driven.ends.map((e) => e.status).join("→")}; history problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.unsafe(`drop role if exists ${role}`);
    await admin.end();
  }
}

/**
 * SQLite on a filesystem of its own. `read-only`: a loop-mounted ext4 image that is shut down
 * mid-sync (EXT4_IOC_SHUTDOWN after a sync of what was written, what the kernel's errors=remount-ro amounts to: every write gets
 * EROFS; a plain `mount -o remount,ro` is refused while SQLite holds the file open for writing).
 * `full`: an 8 MiB tmpfs filled up with a file. The execution must not be reported COMPLETED
 * while the fault lasts; afterwards (remounted / file removed) a restart and relaunch complete.
 */
export async function sqliteFault(
  mode: "read-only" | "full",
  opts: { projects?: number } = {},
): Promise<ScenarioResult> {
  const projects = opts.projects ?? 3000;
  const mnt = mkdtempSync(join(tmpdir(), "item-sync-rel-fs-"));
  const image = `${mnt}.ext4`;
  const mountIt = () =>
    mode === "read-only"
      ? execFileSync("mount", ["-o", "loop", image, mnt])
      : execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt]);
  if (mode === "read-only") {
    execFileSync("truncate", ["-s", "64M", image]);
    execFileSync("mkfs.ext4", ["-q", image]);
  }
  mountIt();
  const dir = join(mnt, "data");
  mkdirSync(dir);
  const sim = scenarioSim(projects, 5);
  const names = brokerNames("sqfs");
  const tap = await startTap(names.AMQP_EXCHANGE);
  const env = serviceEnv(sim, {
    DATABASE_URL: `sqlite:${join(dir, "item-sync.db")}`,
    AMQP_URL: amqpUrl(),
    GITLAB_CONCURRENCY: "4",
    JOB_LEASE_SECONDS: "3",
    ...names,
  });
  let serve: RunningProcess | undefined;
  const filler = join(mnt, "filler");
  try {
    serve = await startBinary(["serve"], env);
    const call = api(serve.url);
    const id = (await call("POST", "/sync")).body.id as number;
    await waitFor("progress", async () => ((await getExecution(call, id)).counts?.read ?? 0) >= 300, 60_000);
    if (mode === "read-only") {
      const shutdown = `import fcntl,os,struct\nfd=os.open(${JSON.stringify(mnt)},os.O_RDONLY)\nfcntl.ioctl(fd,0x8004587D,struct.pack('I',0))`;
      execFileSync("python3", ["-c", shutdown]);
    } else {
      // fill every free byte: writes then fail with SQLITE_FULL
      try {
        for (;;) writeFileSync(filler, Buffer.alloc(256 * 1024), { flag: "a" });
      } catch {
        // ENOSPC: full
      }
    }
    say(`sqlite filesystem made ${mode}`);
    const during = await observe(call, id, serve, 8_000);
    const api503 = serve.proc.exitCode === null ? (await call("GET", `/jobs/${id}`)).body : null;
    const exitedDuring = serve.proc.exitCode;
    const logTail = serve
      .logs()
      .split("\n")
      .filter((l) => /readonly|read-only|full|disk|SQLITE|EROFS|I\/O/i.test(l))
      .slice(-2)
      .join(" | ");
    if (serve.proc.exitCode === null) await serve.kill("SIGKILL");
    if (mode === "read-only") {
      execFileSync("umount", [mnt]);
      mountIt(); // the journal brings the file back to its last commit
    } else rmSync(filler, { force: true });
    const driven = await driveToCompletion(env, undefined, 4);
    serve = driven.serve;
    const ids = sim.state.projects.map((p) => p.id);
    const ledger = await settledLedger(`sqlite:${join(dir, "item-sync.db")}`, ids, tap);
    await serve.kill("SIGTERM");
    const db = openDb(`sqlite:${join(dir, "item-sync.db")}`);
    const history = await readHistory(db);
    await db.close();
    const problems = historyProblems(history);
    const firstRecord = history.find((h) => h.id === id);
    return {
      scenario: `SQLite on a ${mode} filesystem`,
      tried: `SQLite file on ${mode === "read-only" ? "a loop-mounted ext4 shut down (EROFS)" : "an 8 MiB tmpfs filled up"} after 300 of ${projects} projects were read; then fault cleared, restart, relaunch`,
      runs: history.length,
      faults: `1 ${mode} filesystem`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      checks: [
        faultCheck(
          `writes refused (${mode})`,
          exitedDuring !== null ||
            during.includes("FAILED") ||
            firstRecord?.status === "FAILED" ||
            logTail !== "",
          `statuses ${during.join("→")}${exitedDuring !== null ? `, serve exited ${exitedDuring}` : ""}; log ${logTail ? "names the refusal" : "silent"}`,
        ),
        check(
          "never COMPLETED while the database refused writes",
          !during.includes("COMPLETED"),
          during.join("→"),
        ),
        ...afterChecks(driven.ends, problems, ledger, ids),
      ],
      outcome:
        `during the fault: statuses ${during.join("→")}${exitedDuring !== null ? `, serve exited ${exitedDuring}` : ""}` +
        `${api503 ? ` (GET /jobs/${id} → ${String((api503 as Execution).status ?? JSON.stringify(api503).slice(0, 100))})` : ""}; ` +
        `log: ${logTail.slice(0, 300) || "-"}; recorded afterwards: ${firstRecord?.status} (${firstRecord?.exitMessage.slice(0, 160)}); ` +
        `relaunch ${driven.ends.map((e) => e.status).join("→")}; history problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
      notes: instanceLines(ledger.instances),
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    try {
      execFileSync("umount", ["-l", mnt]);
    } catch {
      // already unmounted
    }
    rmSync(mnt, { recursive: true, force: true });
    rmSync(image, { force: true });
  }
}
