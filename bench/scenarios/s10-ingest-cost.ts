/**
 * S10 — ingest cost: what update-item costs GitLab, counted by the simulator (never by the
 * product's own counters).
 *
 *   (a) a first ingest of a bank whose items have 10 commits and up to 3 workflow moves each (the
 *       simulator's `historyShape`; the shape actually generated is measured and reported): GitLab
 *       requests per item, against the replaced service's update-item re-created in
 *       bench/replaced-ingest.ts (item.json read once per commit) on the same bank — target ≤ 1/3;
 *   (b) one new commit on each of some known items: requests per item — target ≤ 4 (the replaced
 *       algorithm's figure for the same commits is shown beside it);
 *   (c) the first ingest's request rate under GITLAB_MAX_RPS — target ≥ 0.9 of the cap.
 *
 * The simulator runs in this process, so its histories give an independent expectation of the
 * item tables (bun:sqlite reads them): per item its id, item.json as stored, workflow status,
 * when that status began (the first commit of the latest unbroken run of commits with it, walked
 * here over the listed commits), creator and creation date (the first commit), last author, head
 * commit and one item_log row per commit. Every update-item was in the broker's queue (its depth
 * read before any worker ran) and the queue is empty afterwards. Any mismatch is MISSED.
 *
 * The sync that publishes the update-items runs before the request counters are reset; the
 * `item-sync worker` process is started after, so the counted requests are the ingest's alone.
 *
 *   bun run bench -- --only S10            this scenario alone (add --allow-dirty on a dirty tree)
 */
import { Database } from "bun:sqlite";
import { Connection } from "rabbitmq-client";
import { toDate } from "../../src/db/client.ts";
import { type GitlabSim, startGitlabSim } from "../../test/sim/gitlab.ts";
import type { SimCommit } from "../../test/sim/gitlab-model.ts";
import { fmt, rows, sections, state, table } from "../lib/context.ts";
import {
  BINARY,
  brokerNames,
  deleteBrokerNames,
  freePort,
  log,
  runSync,
  type SimProcess,
  syncEnv,
  tempDb,
  WEBHOOK_URL,
} from "../lib/harness.ts";
import { type ReplacedTarget, replacedIngest } from "../replaced-ingest.ts";
import type { BenchScenario } from "./types.ts";

export const S10 = {
  items: 300,
  commits: 10,
  statusMoves: 3,
  latencyMs: 20,
  maxRps: 50,
  concurrency: 16,
  /** known items that get one new commit in (b) */
  known: 30,
};
const TARGET_SHARE = 1 / 3;
const TARGET_KNOWN = 4;
const TARGET_RATE = 0.9;

type Doc = { id: string; workflow?: { workflowStatusCode?: string } };
const statusAt = (c: SimCommit): string | undefined => {
  const text = c.files.get("item.json");
  return text === undefined ? undefined : ((JSON.parse(text) as Doc).workflow?.workflowStatusCode ?? "");
};

/** Counts per route of the requests the simulator answered since its last reset. */
function routes(sim: GitlabSim): string {
  const by = sim.stats().byRoute;
  return Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${fmt(n)}`)
    .join("; ");
}

/** Requests on a project's own routes (/projects/:id…): what an item costs, apart from a worker's one-off lookups. */
function perProject(sim: GitlabSim): number {
  return Object.entries(sim.stats().byRoute)
    .filter(([r]) => / \/projects\/:id(\/|$)/.test(r))
    .reduce((n, [, v]) => n + v, 0);
}

/** Messages waiting in a queue, as the broker reports them. */
async function queueDepth(url: string, queue: string): Promise<number> {
  const c = new Connection({ url });
  try {
    return (await c.queueDeclare({ queue, passive: true })).messageCount;
  } finally {
    await c.close();
  }
}

/** What the simulator's histories say the tables must hold; returns the mismatches, by column. */
function compareTables(sim: GitlabSim, dbPath: string): { checked: number; mismatches: string[] } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const got = new Map(
      (
        db
          .query(
            `select g.project_id, g.current_commit_hash, i.id, i.item_json, i.workflow_status, i.workflow_status_set_at,
               i.item_created_by, i.item_created_at, i.updated_by,
               (select count(*) from item_log l where l.item_key = g.item_key) as logs
             from item_git g join item i on i.key = g.item_key`,
          )
          .all() as Record<string, unknown>[]
      ).map((r) => [Number(r.project_id), r]),
    );
    const mismatches: string[] = [];
    let checked = 0;
    for (const p of sim.state.projects) {
      const h = sim.state.historyOf(p); // newest first, as GitLab lists a branch
      const head = h[0];
      const first = h.at(-1);
      const text = head?.files.get("item.json");
      if (!head || !first || text === undefined) continue;
      checked++;
      const row = got.get(p.id);
      if (!row) {
        mismatches.push(`${p.id}: no row`);
        continue;
      }
      const current = statusAt(head);
      let runStart = head;
      for (const c of h.slice(1)) {
        if (statusAt(c) !== current) break;
        runStart = c;
      }
      const iso = (v: unknown) => toDate(v)?.toISOString() ?? null;
      const want: Record<string, unknown> = {
        id: Number((JSON.parse(text) as Doc).id),
        current_commit_hash: head.id,
        logs: h.length,
        item_json: text,
        workflow_status: current,
        workflow_status_set_at: new Date(runStart.committedDate).toISOString(),
        item_created_by: first.authorName,
        item_created_at: new Date(first.committedDate).toISOString(),
        updated_by: head.authorName,
      };
      for (const [col, value] of Object.entries(want)) {
        const have = col.endsWith("_at")
          ? iso(row[col])
          : col === "id" || col === "logs"
            ? Number(row[col])
            : row[col];
        if (have !== value)
          mismatches.push(`${p.id} ${col}: ${String(have).slice(0, 40)} ≠ ${String(value).slice(0, 40)}`);
      }
    }
    return { checked, mismatches };
  } finally {
    db.close();
  }
}

async function waitMetric(port: number, expected: number, worker: { exitCode: number | null }) {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    if (worker.exitCode !== null) throw new Error(`S10: item-sync worker exited ${worker.exitCode}`);
    const text = await fetch(`http://127.0.0.1:${port}/metrics`)
      .then((r) => r.text())
      .catch(() => "");
    let done = 0;
    for (const line of text.split("\n"))
      if (line.startsWith("item_sync_consumer_messages_total{")) done += Number(line.split(" ").at(-1));
    if (done >= expected) return;
    if (Date.now() > deadline) throw new Error(`S10: the worker finished ${done} of ${expected} messages`);
    await Bun.sleep(50);
  }
}

/** Runs an `item-sync worker` until it has handled `expected` messages; returns when it stopped. */
async function drainWith(env: Record<string, string>, port: number, expected: number) {
  const worker = Bun.spawn([BINARY, "worker"], { env, stdout: "ignore", stderr: "pipe" });
  const stderr = new Response(worker.stderr).text();
  try {
    await waitMetric(port, expected, worker);
  } catch (err) {
    throw new Error(
      `${String(err)}\n${(await Promise.race([stderr, Bun.sleep(500).then(() => "")])).slice(-2000)}`,
    );
  } finally {
    worker.kill("SIGTERM");
    await worker.exited;
  }
}

async function run(): Promise<void> {
  const sim = startGitlabSim({
    projects: S10.items,
    latencyMs: S10.latencyMs,
    subgroupFraction: 0,
    sharedFraction: 0,
    monitoredFraction: 1, // every hook in place: the sync publishes update-items only
    otherHookFraction: 0,
    noItemFraction: 0,
    invalidItemFraction: 0,
    webhookUrl: WEBHOOK_URL,
    historyShape: { commits: S10.commits, statusMoves: S10.statusMoves },
  });
  const names = brokerNames("s10");
  const db = tempDb();
  const port = freePort();
  const env = syncEnv(sim as unknown as SimProcess, state.rabbit.url, names, db.url, {
    GITLAB_CONCURRENCY: String(S10.concurrency),
    GITLAB_MAX_RPS: String(S10.maxRps),
    PORT: String(port),
    HOST: "127.0.0.1",
  });
  try {
    // the bank's shape, as generated
    const histories = sim.state.projects.map((p) => sim.state.historyOf(p));
    const commitsPerItem = histories.reduce((n, h) => n + h.length, 0) / histories.length;
    const movesPerItem =
      histories.reduce(
        (n, h) =>
          n + h.filter((c, i) => i + 1 < h.length && statusAt(c) !== statusAt(h[i + 1] as SimCommit)).length,
        0,
      ) / histories.length;

    // (a) + (c): the sync publishes, the broker holds every update-item, then one worker ingests
    const scan = await runSync(env);
    if (scan.code !== 0 || scan.execution?.status !== "COMPLETED")
      throw new Error(`S10: the sync did not complete (exit ${scan.code}): ${scan.stderr.slice(-2000)}`);
    const queued = await queueDepth(state.rabbit.url, names.AMQP_UPDATE_QUEUE);
    sim.resetStats();
    const t0 = performance.now();
    await drainWith(env, port, queued);
    const firstWallMs = performance.now() - t0;
    const first = sim.stats();
    const firstProject = perProject(sim);
    const firstRoutes = routes(sim);
    const spanMs = (first.arrivals.at(-1) ?? 0) - (first.arrivals[0] ?? 0);
    const rate = spanMs > 0 ? ((first.requests - 1) * 1000) / spanMs : Number.NaN;
    const busiest = sim.maxInWindow(1000);
    const afterFirst = compareTables(sim, db.url.slice("sqlite:".length));
    const leftAfterFirst = await queueDepth(state.rabbit.url, names.AMQP_UPDATE_QUEUE);

    // the replaced algorithm on the same bank (no cap: only its requests are compared)
    sim.resetStats();
    const replaced = await replacedIngest({
      gitlabUrl: sim.url,
      token: sim.token,
      targets: sim.state.projects.map((p) => ({ projectId: p.id, branch: p.defaultBranch ?? "main" })),
    });
    const replacedFirst = sim.stats().requests;

    // (b): one new commit on each of `known` items, their update-items published by
    // `item-sync sync --project`, then the worker again
    const known = sim.state.projects
      .filter((_, i) => i % Math.floor(S10.items / S10.known) === 0)
      .slice(0, S10.known);
    const stored: ReplacedTarget[] = known.map((p) => {
      const head = sim.state.historyOf(p)[0] as SimCommit;
      return {
        projectId: p.id,
        branch: p.defaultBranch ?? "main",
        stored: { commitDate: head.committedDate, commitHash: head.id },
      };
    });
    for (const p of known) sim.state.touchItem(p.id, "S10: one new commit");
    for (const p of known) {
      const one = await runSync(env, [BINARY, "sync", "--project", String(p.id)]);
      if (one.code !== 0)
        throw new Error(`S10: sync --project ${p.id} exited ${one.code}: ${one.stderr.slice(-1000)}`);
    }
    const queuedKnown = await queueDepth(state.rabbit.url, names.AMQP_UPDATE_QUEUE);
    sim.resetStats();
    await drainWith(env, port, queuedKnown);
    const knownRequests = sim.stats().requests;
    const knownProject = perProject(sim);
    const knownRoutes = routes(sim);
    const afterKnown = compareTables(sim, db.url.slice("sqlite:".length));
    sim.resetStats();
    await replacedIngest({ gitlabUrl: sim.url, token: sim.token, targets: stored });
    const replacedKnown = sim.stats().requests;

    const perItem = firstProject / queued;
    const replacedPerItem = replacedFirst / replaced.projects;
    const share = perItem / replacedPerItem;
    const perKnown = knownProject / queuedKnown;
    const complete =
      queued === S10.items &&
      queuedKnown === known.length &&
      leftAfterFirst === 0 &&
      afterFirst.mismatches.length === 0 &&
      afterKnown.mismatches.length === 0;
    const problems = [
      ...(queued !== S10.items ? [`${queued} update-items queued for ${S10.items} items`] : []),
      ...(queuedKnown !== known.length
        ? [`${queuedKnown} update-items queued for ${known.length} known items`]
        : []),
      ...(leftAfterFirst !== 0 ? [`${leftAfterFirst} left in the queue after the first ingest`] : []),
      ...afterFirst.mismatches.slice(0, 5).map((m) => `first ingest: ${m}`),
      ...afterKnown.mismatches.slice(0, 5).map((m) => `after the new commits: ${m}`),
    ];
    const verdict = (ok: boolean) => (ok && complete ? ("met" as const) : ("MISSED" as const));
    const tables = `tables ${afterFirst.checked - afterFirst.mismatches.length}/${afterFirst.checked} items as expected`;
    rows.push(
      {
        id: "S10",
        scenario: `first ingest of ${S10.items} items (${fmt(commitsPerItem, 1)} commits, ${fmt(movesPerItem, 1)} status moves each): GitLab requests per item vs the replaced algorithm`,
        figure: `${fmt(perItem, 2)} vs ${fmt(replacedPerItem, 2)} = ${fmt(100 * share, 1)} % (${tables})`,
        target: "≤ 33.3 %",
        verdict: verdict(share <= TARGET_SHARE),
      },
      {
        id: "S10",
        scenario: `one new commit on ${known.length} known items: GitLab requests per item`,
        figure: `${fmt(perKnown, 2)} (replaced: ${fmt(replacedKnown / known.length, 2)}; tables ${afterKnown.checked - afterKnown.mismatches.length}/${afterKnown.checked} as expected)`,
        target: `≤ ${TARGET_KNOWN}`,
        verdict: verdict(perKnown <= TARGET_KNOWN),
      },
      {
        id: "S10",
        scenario: `first ingest under GITLAB_MAX_RPS=${S10.maxRps}: request rate`,
        figure: `${fmt(rate, 1)} requests/s = ${fmt((100 * rate) / S10.maxRps, 1)} % of the cap (busiest second ${busiest})`,
        target: "≥ 90 % of the cap",
        verdict: verdict(rate >= TARGET_RATE * S10.maxRps),
      },
    );
    sections.push(`### S10 — ingest cost

A bank of ${S10.items} items generated with ${S10.commits} commits and at most ${S10.statusMoves} workflow moves each
(measured: ${fmt(commitsPerItem, 2)} commits and ${fmt(movesPerItem, 2)} status changes per item, merges included),
simulator latency ${S10.latencyMs} ms, in the benchmark's process. \`item-sync sync --fresh\` published the update-items
(${queued} in the broker's queue before any worker ran); the request counters were then reset and one
\`item-sync worker\` (GITLAB_CONCURRENCY=${S10.concurrency}, GITLAB_MAX_RPS=${S10.maxRps}, SQLite) drained the queue in
${fmt(firstWallMs / 1000, 2)} s (${leftAfterFirst} left). Requests counted by the simulator; "per item" counts the
requests on a project's own routes (\`/projects/:id…\`) per update-item, the table's total also the worker's
one-off lookups at start (the item group).

${table(
  ["run", "GitLab requests (all)", "per item", "by route"],
  [
    ["first ingest, item-sync", fmt(first.requests), fmt(perItem, 2), firstRoutes],
    [
      "first ingest, replaced algorithm (bench/replaced-ingest.ts)",
      fmt(replacedFirst),
      fmt(replacedPerItem, 2),
      `${fmt(replaced.commitsReplayed)} commits replayed`,
    ],
    [`one new commit on ${known.length} items, item-sync`, fmt(knownRequests), fmt(perKnown, 2), knownRoutes],
    [`the same, replaced algorithm`, fmt(replacedKnown), fmt(replacedKnown / known.length, 2), ""],
  ],
)}

Rate: ${fmt(first.requests)} requests from the first to the last arrival over ${fmt(spanMs / 1000, 2)} s = ${fmt(rate, 1)}/s
against a cap of ${S10.maxRps}/s; the busiest one-second window held ${busiest}; ${first.rateLimited} answered 429.

Item tables against the expectation computed from the simulator's histories (id, item.json, workflow status and
when it began, creator and creation date, last author, head commit, one item_log row per commit): after the first
ingest ${afterFirst.checked - afterFirst.mismatches.length} of ${afterFirst.checked} items match, after the new commits ${afterKnown.checked - afterKnown.mismatches.length} of ${afterKnown.checked}.
${problems.length > 0 ? `\nProblems: ${problems.join("; ")}` : ""}`);
    log(
      `S10: ${fmt(perItem, 2)} vs ${fmt(replacedPerItem, 2)} requests per item; known ${fmt(perKnown, 2)}; rate ${fmt(rate, 1)}/s; ${problems.length} problems; first: ${firstRoutes}; known: ${knownRoutes}`,
    );
  } finally {
    await deleteBrokerNames(state.rabbit.url, names);
    await sim.close();
    db.cleanup();
  }
}

const scenario: BenchScenario = { id: "S10", run };
export default scenario;
