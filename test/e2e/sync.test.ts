/**
 * The sync job end to end, with the compiled binary, a real RabbitMQ, SQLite, and the GitLab
 * simulator: every project gets its update-item, unmonitored ones their monitor-item, and once
 * the ingest workers drain, every project with an item.json has its IMRT item at its latest
 * commit, with one item_log row per commit, and exactly the unmonitored projects gained our hook.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../src/db/client.ts";
import {
  API_TOKEN,
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  serviceEnv,
  startBinary,
  startTap,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { imrtSnapshot } from "../helpers/imrt-snapshot.ts";
import { handledCount, scrapeMetrics } from "../metrics/scrape.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const WEBHOOK_URL = TEST_WEBHOOK_URL;
const PROJECTS = 3000;
/** Only a hang guard for each wait below: every one waits for an event, on a loaded machine too. */
const GUARD = 300_000;

let sim: GitlabSim;
let dir: string;
let serve: RunningProcess | undefined;
const names = brokerNames("e2e");

beforeAll(() => {
  sim = startGitlabSim({
    projects: PROJECTS,
    monitoredFraction: 0.6,
    otherHookFraction: 0.3,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: WEBHOOK_URL,
  });
  dir = mkdtempSync(join(tmpdir(), "item-sync-e2e-"));
});

/** Every row of the IMRT tables, item-sync's project facts and its events, in a stable order. */
async function snapshot(path: string) {
  const db = openDb(`sqlite:${path}`);
  try {
    return {
      tables: await imrtSnapshot(db),
      // write times too: a later sync that changed nothing must not even rewrite a row
      writes: await db.all("select key, created_at, updated_at from item order by key"),
      events: await db.all("select * from sync_item_event order by id"),
    };
  } finally {
    await db.close();
  }
}

afterAll(async () => {
  await serve?.kill("SIGKILL");
  await sim.close();
  await deleteBrokerNames(names);
  rmSync(dir, { recursive: true, force: true });
});

test(
  "a sync publishes one update-item per project and one monitor-item per unmonitored project; workers bring every item up to date",
  async () => {
    const state = sim.state;
    const ids = state.projects.map((p) => p.id);
    const unmonitored = new Set(
      ids.filter((id) => !state.hooksOf(state.project(id)!).some((h) => h.url === WEBHOOK_URL)),
    );
    const hooksBefore = new Map(ids.map((id) => [id, state.hooksOf(state.project(id)!).length]));
    expect(unmonitored.size).toBeGreaterThan(PROJECTS * 0.3);
    expect(unmonitored.size).toBeLessThan(PROJECTS * 0.5);

    const tap = await startTap(names.AMQP_EXCHANGE);
    try {
      serve = await startBinary(
        ["serve"],
        serviceEnv(sim, names, {
          DATABASE_URL: `sqlite:${join(dir, "e2e.db")}`,
          GITLAB_CONCURRENCY: "16",
          WEBHOOK_SECRET: "e2e-webhook-secret-0123456789",
        }),
      );
      const call = api(serve.url);
      const launched = await call("POST", "/sync");
      expect(launched.status).toBe(202);
      const id = launched.body.id as number;
      const done = await waitForExecution(call, id, { timeoutMs: GUARD });
      expect(done.status).toBe("COMPLETED");
      expect(done.mode).toBe("full"); // SYNC_MODE=auto, and no full sync ever COMPLETED
      expect(done.counts).toEqual({
        read: PROJECTS,
        hooksChecked: PROJECTS,
        monitorPublished: unmonitored.size,
        updatePublished: PROJECTS,
        deletePublished: 0,
        skipped: 0,
        unchanged: 0,
        hooksAdopted: 0,
      });

      // what the broker delivered, seen by an independent client
      await waitFor(
        "tap to receive every message",
        async () => tap.total("item.update") >= PROJECTS && tap.total("item.monitor") >= unmonitored.size,
        GUARD,
      );
      expect([...tap.counts["item.update"].keys()].sort((a, b) => a - b)).toEqual(
        [...ids].sort((a, b) => a - b),
      );
      expect([...tap.counts["item.update"].values()].every((n) => n === 1)).toBe(true);
      expect(new Set(tap.counts["item.monitor"].keys())).toEqual(unmonitored);
      const sample = tap.messages.find((m) => m.routingKey === "item.update");
      expect(sample?.properties).toMatchObject({
        contentType: "application/json",
        type: "update-item",
        appId: "item-sync",
        messageId: `${id}:update-item:${sample?.body.projectId}`,
        durable: true,
      });
      expect(sample?.body).toMatchObject({ type: "update-item", version: 1, jobExecutionId: id });

      // the workers drain both queues: every item at its latest commit, hooks only where missing
      const db = new Database(join(dir, "e2e.db"), { readonly: true });
      try {
        await waitFor(
          "every project handled",
          async () =>
            (
              db.query("select count(*) as n from sync_project where ingest_state is not null").get() as {
                n: number;
              }
            ).n === PROJECTS,
          GUARD,
        );
        await waitFor(
          "every missing hook",
          async () =>
            ids.every((pid) => state.hooksOf(state.project(pid)!).some((h) => h.url === WEBHOOK_URL)),
          GUARD,
        );
        const rows = db
          .query(
            `select p.project_id, p.project_path, p.ingest_state, g.current_commit_hash, i.id,
               (select count(*) from item_log l where l.item_key = g.item_key) as logs
             from sync_project p left join item_git g on g.project_id = p.project_id left join item i on i.key = g.item_key`,
          )
          .all() as {
          project_id: number;
          project_path: string;
          ingest_state: string;
          current_commit_hash: string | null;
          id: number | null;
          logs: number;
        }[];
        expect(rows.length).toBe(PROJECTS);
        let withItem = 0;
        for (const row of rows) {
          const p = state.project(row.project_id)!;
          const history = state.commitsOf(p);
          expect(row.project_path).toBe(state.fullPathOf(p));
          const doc = state.itemOf(p.id);
          if (!doc) {
            expect(row).toMatchObject({ ingest_state: "no_item_json", current_commit_hash: null });
            continue;
          }
          withItem++;
          expect(row.ingest_state).toBe("ingested");
          expect(row.current_commit_hash).toBe(history[0]!.id);
          expect(row.id).toBe(Number((doc as { id: string }).id));
          expect(row.logs).toBe(history.length);
        }
        // the simulator leaves about 2 % without item.json: both kinds were seen
        expect(withItem).toBeGreaterThan(PROJECTS * 0.9);
        expect(withItem).toBeLessThan(PROJECTS);
        for (const pid of ids) {
          const hooks = state.hooksOf(state.project(pid)!);
          expect(hooks.length).toBe((hooksBefore.get(pid) ?? 0) + (unmonitored.has(pid) ? 1 : 0));
          const ours = hooks.filter((h) => h.url === WEBHOOK_URL);
          expect(ours.length).toBe(1);
          if (unmonitored.has(pid)) {
            expect(ours[0]).toMatchObject({
              pushEvents: true,
              enableSslVerification: true,
              token: "e2e-webhook-secret-0123456789",
            });
          }
        }
      } finally {
        db.close();
      }

      // later syncs change no item: messages are handled idempotently. Once both queues of the
      // first round are drained, the item rows and item_log are kept, then compared after every
      // update-item of the later rounds has been handled.
      await waitFor(
        "first round handled",
        async () => {
          const f = await scrapeMetrics(serve!.url);
          return (
            handledCount(f, names.AMQP_UPDATE_QUEUE) >= PROJECTS &&
            handledCount(f, names.AMQP_MONITOR_QUEUE) >= unmonitored.size
          );
        },
        GUARD,
      );
      const before = await snapshot(join(dir, "e2e.db"));
      expect(before.tables.sync_project?.length).toBe(PROJECTS);
      // a second sync (SYNC_MODE=auto: a full one just COMPLETED, so incremental) finds nothing
      // changed: no update-item, every project counted unchanged
      const second = await call("POST", "/sync");
      expect(second.status).toBe(202);
      expect(second.body.mode).toBe("incremental");
      await waitFor(
        "second COMPLETED",
        async () => (await call("GET", `/jobs/${second.body.id}`)).body.status === "COMPLETED",
        GUARD,
      );
      expect((await call("GET", `/jobs/${second.body.id}`)).body.counts).toMatchObject({
        monitorPublished: 0,
        updatePublished: 0,
        unchanged: PROJECTS,
      });

      // a forced full one publishes update-item for every project again, and changes no item
      const third = await call("POST", "/sync?mode=full");
      expect(third.status).toBe(202);
      expect(third.body.mode).toBe("full");
      await waitFor(
        "third COMPLETED",
        async () => (await call("GET", `/jobs/${third.body.id}`)).body.status === "COMPLETED",
        GUARD,
      );
      expect((await call("GET", `/jobs/${third.body.id}`)).body.counts).toMatchObject({
        monitorPublished: 0,
        updatePublished: PROJECTS,
        hooksChecked: PROJECTS,
      });
      await waitFor(
        "full round handled",
        async () => handledCount(await scrapeMetrics(serve!.url), names.AMQP_UPDATE_QUEUE) >= 2 * PROJECTS,
        GUARD,
      );
      const after = await snapshot(join(dir, "e2e.db"));
      expect(after).toEqual(before);
    } finally {
      await tap.close();
    }
    expect(await serve.kill("SIGTERM")).toBe(0);
    expect(serve.logs()).not.toContain(API_TOKEN);
    expect(serve.logs()).not.toContain(sim.token);
    expect(serve.logs()).not.toContain("e2e-webhook-secret");
    serve = undefined;
  },
  4 * GUARD,
);
