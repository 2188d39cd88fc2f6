/**
 * S9 — incremental vs full, side by side (issue 16): 10,000 projects of which 1 % changed since
 * the previous run. Each repetition pushes to 1 % of the projects and runs an incremental sync,
 * then pushes to another 1 % and runs a full sync, on the same database, broker and simulator,
 * with an `item-sync worker` process draining the queues. Per run: the GitLab requests the
 * simulator answered (scan + workers, until the workers drained) and the wall time from launch
 * to drained. Targets: the incremental run's requests ≤ 3 % of the full run's, its wall time
 * ≤ 10 %. Medians over the repetitions. And it must still do the work: a tap on the exchange
 * during each incremental run must see an update-item for every project pushed before it, and
 * at the end the item tables after an incremental run (drained) must equal those after a full
 * run that follows it with nothing pushed in between (test/helpers/imrt-snapshot.ts).
 *
 * GitLab's clock is scaled down, as in the differential test: the simulator bumps
 * `last_activity_at` at most once per `throttleMs` (GitLab: an hour) and the margin is
 * `marginMs` (default: two hours); each run starts `marginMs` + 1 s after the pushes before it,
 * as a nightly run starts long after the previous day's work.
 *
 *   bun bench/s9-incremental.ts [projects] [reps]   on its own (starts its own RabbitMQ)
 */
import { Connection } from "rabbitmq-client";
import { openDb } from "../src/db/client.ts";
import { imrtSnapshot } from "../test/helpers/imrt-snapshot.ts";
import {
  BINARY,
  brokerNames,
  deleteBrokerNames,
  type Execution,
  ensureBinary,
  freePort,
  log,
  median,
  runSync,
  type SyncRun,
  startRabbit,
  startSim,
  syncEnv,
  tempDb,
} from "./lib/harness.ts";

export interface S9Options {
  rabbitUrl: string;
  projects?: number;
  changedFraction?: number;
  reps?: number;
  latencyMs?: number;
  concurrency?: number;
  throttleMs?: number;
  marginMs?: number;
}

export interface S9Run {
  mode: "incremental" | "full";
  requests: number;
  wallMs: number;
  executionMs: number;
  updatePublished: number;
  hooksChecked: number;
  unchanged: number;
}

export interface S9Result {
  projects: number;
  changed: number;
  runs: S9Run[];
  median: { incremental: { requests: number; wallMs: number }; full: { requests: number; wallMs: number } };
  requestShare: number; // incremental / full
  wallShare: number;
  verdicts: { requests: "met" | "MISSED"; wall: "met" | "MISSED"; complete: "met" | "MISSED" };
  /** changed projects the incremental runs published no update-item for, over all repetitions */
  missedChanges: number[];
  changedInAll: number;
  /** whether the item tables after an incremental run equal those after a full run */
  endStateEqual: boolean;
  /** Summary rows (id, scenario, figure, target, verdict) and a Markdown section for BENCHMARKS.md. */
  rows: { id: string; scenario: string; figure: string; target: string; verdict: "met" | "MISSED" }[];
  markdown: string;
}

const TARGET_REQUESTS = 0.03;
const TARGET_WALL = 0.1;

export async function runS9(opts: S9Options): Promise<S9Result> {
  const projects = opts.projects ?? 10_000;
  const fraction = opts.changedFraction ?? 0.01;
  const reps = Math.max(1, opts.reps ?? 3);
  const concurrency = opts.concurrency ?? 32;
  const throttleMs = opts.throttleMs ?? 1_000;
  const marginMs = opts.marginMs ?? 2_000;
  const sim = await startSim({
    projects,
    latencyMs: opts.latencyMs ?? 20,
    args: ["--activity-throttle-ms", String(throttleMs)],
  });
  const names = brokerNames("s9");
  const db = tempDb();
  const port = freePort();
  const env = syncEnv(sim, opts.rabbitUrl, names, db.url, {
    GITLAB_CONCURRENCY: String(concurrency),
    SYNC_ACTIVITY_MARGIN_MINUTES: String(marginMs / 60_000),
    PORT: String(port),
    HOST: "127.0.0.1",
  });
  const worker = Bun.spawn([BINARY, "worker"], { env, stdout: "ignore", stderr: "pipe" });
  const workerErr = new Response(worker.stderr).text();
  let published = 0;
  const runs: S9Run[] = [];
  try {
    await waitForWorker(port, worker);

    /** Pushes to a share of the projects, then waits as a night would. */
    const push = async (salt: number) => {
      const res = await fetch(`${sim.controlUrl}/push?fraction=${fraction}&salt=${salt}`, { method: "POST" });
      const { pushed } = (await res.json()) as { pushed: number[] };
      await Bun.sleep(marginMs + 1_000);
      return pushed;
    };
    const syncDrained = async (mode: "incremental" | "full", seen?: Set<number>): Promise<S9Run> => {
      await sim.reset();
      const tap = seen ? await updateTap(opts.rabbitUrl, names.AMQP_EXCHANGE, seen) : null;
      const t0 = performance.now();
      const run = await runSync(env, [BINARY, "sync", "--fresh", "--mode", mode]);
      check(run, mode);
      const c = run.execution?.counts as Execution["counts"] & { unchanged?: number };
      published += c.monitorPublished + c.updatePublished + c.deletePublished;
      await drained(port, published);
      const wallMs = performance.now() - t0;
      await tap?.close(c.updatePublished);
      const stats = await sim.stats();
      return {
        mode,
        requests: stats.requests,
        wallMs,
        executionMs: run.executionMs,
        updatePublished: c.updatePublished,
        hooksChecked: c.hooksChecked,
        unchanged: c.unchanged ?? 0,
      };
    };

    log(`S9 warm-up: a full sync of ${projects} projects, then an incremental one (records hook checks)`);
    await syncDrained("full");
    await Bun.sleep(marginMs + 1_000);
    await syncDrained("incremental");
    let changed = 0;
    let changedInAll = 0;
    const missedChanges: number[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      const pushed = await push(2 * rep);
      changed = pushed.length;
      changedInAll += pushed.length;
      const seen = new Set<number>();
      const inc = await syncDrained("incremental", seen);
      missedChanges.push(...pushed.filter((id) => !seen.has(id)));
      runs.push(inc);
      await push(2 * rep + 1);
      const full = await syncDrained("full");
      runs.push(full);
      log(
        `S9 rep ${rep}: incremental ${inc.requests} requests ${(inc.wallMs / 1000).toFixed(2)} s; full ${full.requests} requests ${(full.wallMs / 1000).toFixed(2)} s`,
      );
    }
    // the end state: an incremental run (drained) against a full run right after it, nothing pushed between
    await push(2 * reps + 2);
    await syncDrained("incremental");
    const afterIncremental = await snapshot(db.url);
    await Bun.sleep(marginMs + 1_000);
    await syncDrained("full");
    const afterFull = await snapshot(db.url);
    const endStateEqual = Bun.deepEquals(afterIncremental, afterFull);
    log(
      `S9 end state: incremental ${endStateEqual ? "equals" : "DIFFERS FROM"} full; ${missedChanges.length} changed projects missed`,
    );
    return summarize(projects, changed, runs, opts, { missedChanges, changedInAll, endStateEqual });
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
    if (worker.exitCode !== 0 && worker.exitCode !== null && runs.length === 0) log(await workerErr);
    await sim.stop();
    await deleteBrokerNames(opts.rabbitUrl, names);
    db.cleanup();
  }
}

/** Every item table, comparable across runs (write times left out). */
async function snapshot(databaseUrl: string) {
  const db = openDb(databaseUrl);
  try {
    return await imrtSnapshot(db);
  } finally {
    await db.close();
  }
}

/** Records the project of every update-item published on the exchange while it is open. */
async function updateTap(url: string, exchange: string, seen: Set<number>) {
  const connection = new Connection({ url });
  connection.on("error", () => {});
  let received = 0;
  const consumer = connection.createConsumer(
    {
      queueOptions: { exclusive: true, autoDelete: true },
      queueBindings: [{ exchange, routingKey: "item.update" }],
    },
    async (msg) => {
      received++;
      const body = JSON.parse(
        Buffer.isBuffer(msg.body) ? msg.body.toString("utf8") : JSON.stringify(msg.body),
      );
      seen.add(Number((body as { projectId: unknown }).projectId));
    },
  );
  for (let i = 0; i < 100 && consumer.queue === ""; i++) await Bun.sleep(50);
  return {
    /** closes once it has received `atLeast` messages (or after 30 s) */
    async close(atLeast: number) {
      const deadline = Date.now() + 30_000;
      while (received < atLeast && Date.now() < deadline) await Bun.sleep(20);
      await consumer.close();
      await connection.close();
    },
  };
}

function check(run: SyncRun, mode: string) {
  if (run.code !== 0 || run.execution?.status !== "COMPLETED") {
    throw new Error(`S9 ${mode} sync did not complete (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  }
  const got = (run.execution as unknown as { mode?: string }).mode;
  if (got !== mode) throw new Error(`S9: asked for a ${mode} sync, got ${got}`);
}

async function waitForWorker(port: number, worker: ReturnType<typeof Bun.spawn>) {
  for (let i = 0; i < 300; i++) {
    if (worker.exitCode !== null) throw new Error(`S9: item-sync worker exited with ${worker.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health/live`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await Bun.sleep(100);
  }
  throw new Error("S9: item-sync worker did not start");
}

/** Waits until the worker has finished (handled, failed or refused) `expected` deliveries in all. */
async function drained(port: number, expected: number) {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let done = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith("item_sync_consumer_messages_total{")) done += Number(line.split(" ").at(-1));
    }
    if (done >= expected) return;
    if (Date.now() > deadline) throw new Error(`S9: workers finished ${done} of ${expected} messages`);
    await Bun.sleep(20);
  }
}

function summarize(
  projects: number,
  changed: number,
  runs: S9Run[],
  opts: S9Options,
  work: { missedChanges: number[]; changedInAll: number; endStateEqual: boolean },
): S9Result {
  const of = (mode: S9Run["mode"]) => runs.filter((r) => r.mode === mode);
  const med = (mode: S9Run["mode"]) => ({
    requests: median(of(mode).map((r) => r.requests)),
    wallMs: median(of(mode).map((r) => r.wallMs)),
  });
  const inc = med("incremental");
  const full = med("full");
  const requestShare = inc.requests / full.requests;
  const wallShare = inc.wallMs / full.wallMs;
  const verdicts = {
    requests: requestShare <= TARGET_REQUESTS ? ("met" as const) : ("MISSED" as const),
    wall: wallShare <= TARGET_WALL ? ("met" as const) : ("MISSED" as const),
    complete: work.missedChanges.length === 0 && work.endStateEqual ? ("met" as const) : ("MISSED" as const),
  };
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const scenario = `${projects.toLocaleString("en-US")} projects, ${changed} changed (${pct(changed / projects)}), incremental vs full side by side`;
  const rows = [
    {
      id: "S9",
      scenario: `${scenario}: GitLab requests (scan + workers)`,
      figure: `${inc.requests.toLocaleString("en-US")} vs ${full.requests.toLocaleString("en-US")} = ${pct(requestShare)}`,
      target: `≤ ${pct(TARGET_REQUESTS)}`,
      verdict: verdicts.requests,
    },
    {
      id: "S9",
      scenario: `${scenario}: wall time, launch to workers drained`,
      figure: `${(inc.wallMs / 1000).toFixed(2)} s vs ${(full.wallMs / 1000).toFixed(2)} s = ${pct(wallShare)}`,
      target: `≤ ${pct(TARGET_WALL)}`,
      verdict: verdicts.wall,
    },
    {
      id: "S9",
      scenario: `${scenario}: the incremental runs still do the work`,
      figure: `${work.changedInAll - work.missedChanges.length}/${work.changedInAll} changed projects got their update-item; item tables after an incremental run ${work.endStateEqual ? "equal" : "DIFFER FROM"} a full run's`,
      target: "all; equal",
      verdict: verdicts.complete,
    },
  ];
  const lines = runs.map(
    (r) =>
      `| ${r.mode} | ${r.requests.toLocaleString("en-US")} | ${(r.wallMs / 1000).toFixed(2)} s | ${(r.executionMs / 1000).toFixed(2)} s | ${r.hooksChecked} | ${r.updatePublished} | ${r.unchanged} |`,
  );
  const markdown = `### S9 — incremental vs full (${scenario})

Simulator latency ${opts.latencyMs ?? 20} ms, GITLAB_CONCURRENCY=${opts.concurrency ?? 32}, one \`item-sync worker\`
process draining the queues, SQLite. Before each run ${pct(changed / projects)} of the projects got a push; the runs
alternate incremental, full. Requests are every request the simulator answered from launch until the workers
drained; wall time is launch to drained. GitLab's one-hour \`last_activity_at\` throttle and the two-hour
margin are scaled down to ${opts.throttleMs ?? 1_000} ms and ${opts.marginMs ?? 2_000} ms, and each run starts after the margin has passed.

| mode | GitLab requests | wall (to drained) | execution | hooks checked | update-item | unchanged |
|---|---|---|---|---|---|---|
${lines.join("\n")}

Every changed project's update-item was looked for with a tap on the exchange during each incremental run:
${work.changedInAll - work.missedChanges.length} of ${work.changedInAll} found${work.missedChanges.length > 0 ? ` (missed: ${work.missedChanges.slice(0, 20).join(", ")})` : ""}. At the end, after one more push, the
item tables after a drained incremental run were compared with those after a full run right after it (nothing pushed
between; every row of every IMRT table and the project facts, write times left out): ${work.endStateEqual ? "equal" : "**different**"}.

Medians: incremental ${inc.requests.toLocaleString("en-US")} requests, ${(inc.wallMs / 1000).toFixed(2)} s; full ${full.requests.toLocaleString("en-US")} requests, ${(full.wallMs / 1000).toFixed(2)} s.`;
  return {
    projects,
    changed,
    runs,
    median: { incremental: inc, full },
    missedChanges: work.missedChanges,
    changedInAll: work.changedInAll,
    endStateEqual: work.endStateEqual,
    requestShare,
    wallShare,
    verdicts,
    rows,
    markdown,
  };
}

if (import.meta.main) {
  const projects = Number(process.argv[2] ?? 10_000);
  const reps = Number(process.argv[3] ?? 3);
  await ensureBinary();
  const rabbit = await startRabbit();
  try {
    const result = await runS9({ rabbitUrl: rabbit.url, projects, reps });
    console.log(result.markdown);
    for (const r of result.rows)
      console.log(`${r.id} ${r.scenario}: ${r.figure} (target ${r.target}) ${r.verdict}`);
  } finally {
    await rabbit.stop();
  }
}
