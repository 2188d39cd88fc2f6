/**
 * The switch-over from the replaced IMRT ingest service, with the compiled binary, real Postgres,
 * RabbitMQ and the simulator. The database holds what that service left in schema `imrt` (its
 * default search_path): Spring Batch 4's tables, and the IMRT item tables of V44 with items it
 * ingested — one at its project's head, others some commits behind — and a `project_lock` it still
 * holds. item-sync runs with DATABASE_SCHEMA=item_sync and IMRT_SCHEMA=imrt:
 * - `migrate` creates its own schema, and leaves the IMRT tables' shape as it is;
 * - a full sync writes no second item row for a known project, and keeps each one's key (found
 *   through item_git.project_id), its old item_log rows and the rows of an item already at its head;
 * - status dates are dated anew from the branch, except where item.json lost `workflow` (kept);
 * - the item whose lock the old service holds waits for it — never dead-lettered — and is written
 *   once the lock is released;
 * - the Spring Batch tables are byte-for-byte untouched, and nothing of ours lands outside item_sync.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  serviceEnv,
  startBinary,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { pgAdminUrl } from "../helpers/db.ts";
import { sampleValue } from "../metrics/prometheus-text.ts";
import { scrapeMetrics } from "../metrics/scrape.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const PROJECTS = 150;
const BATCH_FIXTURE = join(import.meta.dir, "../fixtures/imrt-spring-batch4.sql");
const V44_FIXTURE = join(import.meta.dir, "../fixtures/imrt-v44.sql");
const PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump";

let sim: GitlabSim;
let serve: RunningProcess | undefined;
let url: string;
let name: string;
const names = brokerNames("switch");

/** `workflow.workflowStatusCode` of a commit's item.json ("" without a code, null without workflow). */
function statusAt(c: { files: Map<string, string> }): string | null | undefined {
  const text = c.files.get("item.json");
  if (text === undefined) return undefined;
  const workflow = (JSON.parse(text) as { workflow?: { workflowStatusCode?: string } }).workflow;
  return workflow ? (workflow.workflowStatusCode ?? "") : null;
}

/** Projects the old service ingested: [project id, item key, the commit it ingested]. */
const known: { projectId: number; key: number; commit: string; itemId: number }[] = [];
let atHead: (typeof known)[number];
let locked: (typeof known)[number];
/** Ingested by the old service a commit before its head, whose item.json then lost `workflow`. */
let workflowDropped: (typeof known)[number];

beforeAll(async () => {
  sim = startGitlabSim({ projects: PROJECTS, subgroupFraction: 0, sharedFraction: 0 });
  name = `switch_${Date.now().toString(36)}`;
  const admin = postgres(pgAdminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.unsafe(`alter database ${name} set search_path = imrt, public`);
  await admin.end();
  const u = new URL(pgAdminUrl());
  u.pathname = `/${name}`;
  url = u.toString();
  const db = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await db.file(BATCH_FIXTURE); // creates schema imrt and sets the session's search_path to it
    await db.file(V44_FIXTURE);
    await db.unsafe("select setval('item_key_seq', 500)");
    // three items as the old service left them: one at its head, two some commits behind
    const withItem = sim.state.projects.filter(
      (p) => sim.state.itemOf(p.id) && sim.state.commitsOf(p).length >= 3,
    );
    // the middle one: ingested inside its current status's run, dated by the old service to its
    // batch's first commit (2018-04-01 here), so a true date needs the commits before it
    const runStart = (p: (typeof withItem)[number]) => {
      const history = sim.state.commitsOf(p);
      const current = statusAt(history[0]!);
      let start = 0;
      while (start + 1 < history.length && statusAt(history[start + 1]!) === current) start++;
      return { start, current };
    };
    const middle = withItem.slice(1).find((p) => runStart(p).start >= 1);
    if (!middle) throw new Error("no project whose status run spans two commits");
    const chosen = [withItem[0]!, middle, ...withItem.slice(1).filter((p) => p !== middle)].slice(0, 4);
    for (const [i, p] of chosen.entries()) {
      const history = sim.state.commitsOf(p);
      const run = runStart(p);
      // newest; inside the current run (its first commit); the first commit; the newest, which a
      // push below then follows with an item.json without `workflow`
      const commit = i === 0 || i === 3 ? history[0] : i === 1 ? history[run.start] : history.at(-1);
      if (!commit) throw new Error("no commit");
      const status = i === 1 ? (run.current ?? "Draft") : "Draft";
      const doc = sim.state.itemOf(p.id) as { id: string; type: string };
      const key = 1000 + i;
      await db.unsafe(
        `insert into item (key, id, subject, grade, workflow_status, item_type, dok, item_created_by, item_created_at,
           item_json, updated_by, classification, workflow_status_set_at, organization_type_id, organization_name,
           created_at, updated_at)
         values ($1, $2, 'ELA', '4', $6, $3, '', 'old-service', '2018-04-01T10:00:00Z', $4, 'old-service',
           $5, '2018-04-01T10:00:00Z', '', '', '2018-04-01T10:00:00Z', '2018-04-01T10:00:00Z')`,
        [key, Number(doc.id), doc.type, JSON.stringify(doc), doc.type === "stim" ? "stim" : "item", status],
      );
      await db.unsafe(
        `insert into item_git (item_key, project_id, project_path, current_commit_hash, updated_by, current_commit_date, created_at, updated_at)
         values ($1, $2, 'imrt/items', $3, 'old-service', $4, '2018-04-01T10:00:00Z', '2018-04-01T10:00:00Z')`,
        [key, p.id, commit.id, commit.committedDate],
      );
      await db.unsafe(
        "insert into item_log (item_key, commit_hash, commit_date, updated_by) values ($1, $2, $3, 'old-service')",
        [key, commit.id, commit.committedDate],
      );
      await db.unsafe(
        "insert into item_keyword (item_key, section, content) values ($1, 'Prompt / Stem', 'old')",
        [key],
      );
      known.push({ projectId: p.id, key, commit: commit.id, itemId: Number(doc.id) });
    }
    [atHead, , locked, workflowDropped] = known as [
      (typeof known)[number],
      (typeof known)[number],
      (typeof known)[number],
      (typeof known)[number],
    ];
    sim.state.editItem(
      workflowDropped.projectId,
      (doc) => {
        delete doc.workflow;
      },
      { author: "editor" },
    );
    // the old service is working on one of them right now
    await db.unsafe(
      "insert into project_lock (project_id, locked_at, created_at, updated_at, updated_by) values ($1, now(), now(), now(), 'internal')",
      [locked.projectId],
    );
  } finally {
    await db.end();
  }
});

afterAll(async () => {
  await serve?.kill("SIGKILL");
  await sim.close();
  await deleteBrokerNames(names);
  const admin = postgres(pgAdminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

function dump(args: string[]): string {
  // a fixed \restrict key: pg_dump otherwise draws a random one into every dump
  const out = Bun.spawnSync([PG_DUMP, "--no-owner", "--restrict-key=itemsync", ...args, "-d", url]);
  if (out.exitCode !== 0) throw new Error(`pg_dump failed: ${out.stderr.toString()}`);
  return out.stdout.toString();
}
const batchTables = () => dump(["--table=imrt.batch_*"]);
const imrtShape = () => dump(["--schema=imrt", "--schema-only"]);

test("IMRT_SCHEMA=imrt, DATABASE_SCHEMA=item_sync: known items keep their row and key, a held lock is waited for, the batch tables stay untouched", async () => {
  const batchBefore = batchTables();
  expect(batchBefore).toContain("CREATE TABLE imrt.batch_job_instance");
  expect(batchBefore).toContain("itemSynchronizationJob");
  const shapeBefore = imrtShape();

  const env = serviceEnv(sim, names, {
    DATABASE_URL: url,
    DATABASE_SCHEMA: "item_sync",
    IMRT_SCHEMA: "imrt",
    WEBHOOK_SECRET: "switch-webhook-secret-0123456",
  });
  const migrate = await startBinary(["migrate"], env, { waitForHttp: false });
  expect(await migrate.exited).toBe(0);
  expect(imrtShape()).toBe(shapeBefore); // the existing IMRT tables are used as they are

  serve = await startBinary(["serve"], env);
  const call = api(serve.url);
  const launched = await call("POST", "/sync");
  expect(launched.status).toBe(202);
  const done = await waitForExecution(call, Number(launched.body.id), { timeoutMs: 60_000 });
  expect(done.status).toBe("COMPLETED");
  expect(done.counts).toMatchObject({ read: PROJECTS, updatePublished: PROJECTS });

  const db = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // every project handled but the one whose lock the old service holds
    await waitFor("every other project handled", async () => {
      const [row] =
        await db`select count(*)::int as n from item_sync.sync_project where ingest_state is not null`;
      return row?.n === PROJECTS - 1;
    });
    await waitFor("the worker waiting for the lock says so", async () =>
      serve?.logs().includes("waiting for project_lock held by another writer"),
    );
    const [held] =
      await db`select current_commit_hash from imrt.item_git where project_id = ${locked.projectId}`;
    expect(held?.current_commit_hash).toBe(locked.commit); // not written while locked
    await db`delete from imrt.project_lock where project_id = ${locked.projectId}`;
    const head = sim.state.commitsOf(sim.state.project(locked.projectId)!)[0]?.id;
    await waitFor("the locked item written once released", async () => {
      const [row] =
        await db`select current_commit_hash from imrt.item_git where project_id = ${locked.projectId}`;
      return row?.current_commit_hash === head;
    });
    const families = await scrapeMetrics(serve.url);
    expect(
      sampleValue(families, "item_sync_consumer_dead_lettered_total", { queue: names.AMQP_UPDATE_QUEUE }) ??
        0,
    ).toBe(0);

    // one item row per project with an item.json: none twice, the known ones under their old key
    const withItem = sim.state.projects.filter((p) => sim.state.itemOf(p.id)).length;
    const [items] = await db`select count(*)::int as n, count(distinct id)::int as ids from imrt.item`;
    expect(items).toEqual({ n: withItem, ids: withItem });
    for (const k of known) {
      const rows =
        await db`select i.key, g.item_key from imrt.item i join imrt.item_git g on g.item_key = i.key
        where g.project_id = ${k.projectId}`;
      expect(rows.map((r) => [r.key, r.item_key])).toEqual([[k.key, k.key]]);
      const history = sim.state.commitsOf(sim.state.project(k.projectId)!);
      const log = await db`select commit_hash, updated_by from imrt.item_log where item_key = ${k.key}`;
      // the old row, then one per newer commit
      expect(log.length).toBe(history.findIndex((c) => c.id === k.commit) + 1);
      expect(log.find((l) => l.commit_hash === k.commit)?.updated_by).toBe("old-service");
      if (k !== atHead && k !== workflowDropped) {
        // dated anew from the whole branch, not kept from the old service's batch (§4.5): the
        // first commit of the latest run of commits whose item.json has the head's status
        const current = statusAt(history[0]!);
        let start = 0;
        while (start + 1 < history.length && statusAt(history[start + 1]!) === current) start++;
        const [dated] = await db`select workflow_status_set_at from imrt.item where key = ${k.key}`;
        expect(new Date(dated?.workflow_status_set_at).toISOString()).toBe(
          new Date(history[start]!.committedDate).toISOString(),
        );
      }
    }
    // an item.json without `workflow` keeps the stored status and its date (§3.3 #5), even one
    // the old service wrote: no walk dates the commit that dropped it
    const [kept] =
      await db`select workflow_status, workflow_status_set_at from imrt.item where key = ${workflowDropped.key}`;
    expect(kept?.workflow_status).toBe("Draft");
    expect(new Date(kept?.workflow_status_set_at).toISOString()).toBe("2018-04-01T10:00:00.000Z");
    // the item already at its head was left as the old service wrote it
    const [untouched] = await db`select updated_by, updated_at from imrt.item where key = ${atHead.key}`;
    expect(untouched?.updated_by).toBe("old-service");
    expect(new Date(untouched?.updated_at).toISOString()).toBe("2018-04-01T10:00:00.000Z");
    const [oldKeywords] =
      await db`select count(*)::int as n from imrt.item_keyword where item_key = ${atHead.key}`;
    expect(oldKeywords?.n).toBe(1);

    // ours: only in item_sync (bookkeeping included); nothing in public, no drizzle schema
    const tables = await db`select table_schema, table_name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`;
    const bySchema = new Map<string, string[]>();
    for (const t of tables)
      bySchema.set(t.table_schema, [...(bySchema.get(t.table_schema) ?? []), t.table_name]);
    expect([...bySchema.keys()].sort()).toEqual(["imrt", "item_sync"]);
    expect(bySchema.get("item_sync")).toContain("__drizzle_migrations");
    expect(bySchema.get("item_sync")).toContain("sync_project");
    const [ours] = await db`select count(*)::int as n from item_sync.batch_job_execution`;
    expect(ours?.n).toBe(1);
  } finally {
    await db.end();
  }

  expect(await serve.kill("SIGTERM")).toBe(0);
  serve = undefined;
  expect(batchTables()).toBe(batchBefore);
  expect(imrtShape()).toBe(shapeBefore);
}, 180_000);
