/**
 * Items whose project left GitLab leave the database, through the compiled binary on SQLite and
 * Postgres: exactly the deleted and moved-out projects get delete-item after a complete scan, a
 * scan cut short deletes nothing, and the mass-deletion guard holds until allowMassDelete.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Db, openDb } from "../../src/db/client.ts";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  type ExecutionBody,
  type RunningProcess,
  serviceEnv,
  startBinary,
  startTap,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const WEBHOOK_URL = TEST_WEBHOOK_URL;
type Body = ExecutionBody;

for (const dialect of DIALECTS) {
  describe(`deletions via the binary on ${dialect}`, () => {
    let t: TestDatabase;
    let db: Db;
    let sim: GitlabSim;
    let serve: RunningProcess;
    let call: ReturnType<typeof api>;
    const names = brokerNames(`del${dialect}`);

    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      db = openDb(t.url);
      sim = startGitlabSim({
        projects: 600,
        monitoredFraction: 1,
        subgroupFraction: 0,
        sharedFraction: 0,
        webhookUrl: WEBHOOK_URL,
      });
      serve = await startBinary(
        ["serve"],
        serviceEnv(sim, names, {
          DATABASE_URL: t.url,
          GITLAB_CONCURRENCY: "16",
          // Full scans, slow enough to stop mid-way (the deletion pass of incremental scans, the
          // same code, is exercised by test/sync/differential.test.ts).
          SYNC_MODE: "full",
        }),
      );
      call = api(serve.url);
    });
    afterAll(async () => {
      await serve.kill("SIGKILL");
      await sim.close();
      await deleteBrokerNames(names);
      await db.close();
      await t.drop();
    });

    const itemIds = async () =>
      (
        await db.all<{ project_id: number }>(
          "select project_id from sync_project where ingest_state is not null order by project_id",
        )
      ).map((r) => Number(r.project_id));
    /** Projects the IMRT tables hold an item for. */
    const imrtIds = async () =>
      (await db.all<{ project_id: number }>("select project_id from item_git order by project_id")).map((r) =>
        Number(r.project_id),
      );
    const projectIds = () =>
      sim.state.projects.filter((p) => p.namespaceId === sim.state.group.id).map((p) => p.id);
    const run = async (query = ""): Promise<Body> => {
      const launched = await call("POST", `/sync${query}`);
      expect(launched.status).toBe(202);
      return waitForExecution(call, launched.body.id as number, { proc: serve });
    };
    const drained = (expected: number[]) =>
      waitFor(
        `ingested items = ${expected.length} projects`,
        async () => JSON.stringify(await itemIds()) === JSON.stringify(expected),
        60_000,
      );

    test("50 deleted and 10 moved out: exactly those 60 get delete-item, and the database then holds the rest", async () => {
      const first = await run();
      expect(first.status).toBe("COMPLETED");
      expect(first.counts.deletePublished).toBe(0);
      await drained(projectIds());

      const ids = projectIds();
      const deleted = ids.filter((_, i) => i % 12 === 0).slice(0, 50);
      const moved = ids.filter((_, i) => i % 12 === 5).slice(0, 10);
      for (const id of deleted) sim.state.removeProject(id);
      for (const id of moved) sim.state.moveOut(id);

      const tap = await startTap(names.AMQP_EXCHANGE);
      try {
        const second = await run();
        expect(`${second.status} ${second.exitMessage}`).toBe("COMPLETED ");
        expect(second.counts.deletePublished).toBe(60);
        await waitFor("60 delete-items", async () => tap.total("item.delete") >= 60);
        expect([...tap.counts["item.delete"].keys()].sort((a, b) => a - b)).toEqual(
          [...deleted, ...moved].sort((a, b) => a - b),
        );
        await drained(projectIds());
        // no IMRT row is left of them: every item remaining belongs to a project still there
        const gone = new Set([...deleted, ...moved]);
        expect((await imrtIds()).filter((id) => gone.has(id))).toEqual([]);
        expect((await imrtIds()).length).toBeGreaterThan(projectIds().length * 0.9);
        for (const table of ["item", "item_log", "item_keyword", "stim_link"]) {
          const [orphans] = await db.all<{ n: number }>(
            table === "item"
              ? "select count(*) as n from item i where not exists (select 1 from item_git g where g.item_key = i.key)"
              : `select count(*) as n from ${table} c where not exists (select 1 from item_git g where g.item_key = c.${table === "stim_link" ? "item_key_stim" : "item_key"})`,
          );
          expect(`${table}: ${Number(orphans?.n)}`).toBe(`${table}: 0`);
        }
        const logged = await db.all<{ n: number }>(
          "select count(*) as n from sync_item_event where action = 'deleted' and job_execution_id = $1",
          [second.id],
        );
        expect(Number(logged[0]?.n)).toBe(60);
      } finally {
        await tap.close();
      }
    }, 180_000);

    test("a scan cut short (GitLab refusing the token, or a stop) publishes no delete-item", async () => {
      const before = await itemIds();
      for (const id of projectIds().slice(0, 5)) sim.state.removeProject(id);
      const tap = await startTap(names.AMQP_EXCHANGE);
      try {
        // GitLab starts refusing the token after the first listing page
        const stopListening = sim.onRequest((info) => {
          if (info.route === "GET /groups/:id/projects" && info.url.includes("page=2"))
            sim.set({ token: "revoked" });
        });
        const failed = await run("?fresh=true");
        stopListening();
        sim.set({ token: "sim-token" });
        expect(failed.status).toBe("FAILED");
        expect(String(failed.exitMessage)).toContain("401");

        // and a stopped scan
        sim.set({ latencyMs: 20 });
        const launched = await call("POST", "/sync?fresh=true");
        await waitFor(
          "a checkpoint",
          async () =>
            ((await call("GET", `/jobs/${launched.body.id}`)).body.counts as { read: number }).read > 0,
        );
        await call("POST", `/jobs/${launched.body.id}/stop`);
        const stopped = await waitForExecution(call, launched.body.id as number, { proc: serve });
        sim.set({ latencyMs: 0 });
        expect(stopped.status).toBe("STOPPED");
        expect(stopped.counts.deletePublished).toBe(0);
        await tap.barrier("item.delete");
        expect(tap.total("item.delete")).toBe(0);
        expect(await itemIds()).toEqual(before);
      } finally {
        await tap.close();
      }
      // the next complete scan removes them
      const complete = await run("?fresh=true");
      expect(complete.status).toBe("COMPLETED");
      expect(complete.counts.deletePublished).toBe(5);
      await drained(projectIds());
    }, 180_000);

    test("the guard: half the group gone → FAILED, nothing deleted; resumed with allowMassDelete → deleted", async () => {
      const before = await itemIds();
      const ids = projectIds();
      for (const id of ids.filter((_, i) => i % 2 === 0)) sim.state.removeProject(id);
      const tap = await startTap(names.AMQP_EXCHANGE);
      let refusedId: number;
      try {
        const refused = await run();
        refusedId = refused.id as number;
        expect(refused.status).toBe("FAILED");
        expect(String(refused.exitMessage)).toMatch(/mass deletion refused: \d+ of \d+ items/);
        expect(String(refused.exitMessage)).toContain("allowMassDelete=true");
        expect(refused.counts.deletePublished).toBe(0);
        // the broker got no delete-item (positively: the tap's barrier came through first)
        await tap.barrier("item.delete");
        expect(tap.total("item.delete")).toBe(0);
      } finally {
        await tap.close();
      }
      expect(await itemIds()).toEqual(before);

      const allowed = await run("?allowMassDelete=true");
      expect(allowed.restartOf).toBe(refusedId);
      expect(`${allowed.status} ${allowed.exitMessage}`).toBe("COMPLETED ");
      expect(allowed.counts.deletePublished).toBe(before.length - projectIds().length);
      await drained(projectIds());
    }, 180_000);
  });
}
