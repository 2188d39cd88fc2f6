import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createJobRepository, type JobRepository } from "../../src/batch/repository.ts";
import { zeroCounts } from "../../src/batch/types.ts";
import { migrate } from "../../src/db/migrate.ts";
import { ConflictError, NotFoundError } from "../../src/lib/errors.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

const JOB = "itemSynchronizationJob";
const STEP = "itemSynchronizationStep";
const LEASE = 60_000;

for (const dialect of DIALECTS) {
  describe(`job repository on ${dialect}`, () => {
    let t: TestDatabase;
    let repo: JobRepository;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      repo = createJobRepository(t.db, { leaseMs: LEASE });
    });
    afterAll(() => t.drop());

    test("migrate is idempotent", async () => {
      expect(await migrate(t.db)).toEqual([]);
    });

    test("launch starts one execution; a second launch reports it", async () => {
      const first = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api" });
      expect(first.kind).toBe("started");
      if (first.kind !== "started") return;
      expect(first.execution.status).toBe("STARTING");
      expect(first.execution.restartOf).toBeNull();
      expect(first.execution.params["run.id"]).toBeString();
      const second = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api" });
      expect(second).toEqual({ kind: "running", runningId: first.execution.id });
      expect(await repo.markStarted(first.execution.id)).toBe(true);
      const counts = { ...zeroCounts(), read: 40, updatePublished: 40 };
      expect(await repo.saveCheckpoint(first.execution.id, { checkpoint: { page: 2 } }, counts)).toBe(
        "STARTED",
      );
      expect(await repo.finish(first.execution.id, "FAILED", "boom", counts)).toBe(true);
      const failed = await repo.get(first.execution.id);
      expect(failed?.status).toBe("FAILED");
      expect(failed?.counts.read).toBe(40);
      expect(failed?.endTime).toBeInstanceOf(Date);

      // the failed instance is resumed, with the step context carried over
      const resumed = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "cli" });
      if (resumed.kind !== "started") throw new Error("expected a resume");
      expect(resumed.execution.restartOf).toBe(first.execution.id);
      expect(resumed.execution.jobInstanceId).toBe(first.execution.jobInstanceId);
      expect(resumed.execution.params["run.id"]).toBe(first.execution.params["run.id"] as string);
      expect((await repo.getStep(resumed.execution.id))?.context).toEqual({ checkpoint: { page: 2 } });
      await repo.markStarted(resumed.execution.id);
      await repo.finish(resumed.execution.id, "COMPLETED", "", zeroCounts());

      // a completed instance is not resumed; fresh=true also forces a new instance
      const next = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api" });
      if (next.kind !== "started") throw new Error("expected a new instance");
      expect(next.execution.jobInstanceId).not.toBe(first.execution.jobInstanceId);
      expect(next.execution.restartOf).toBeNull();
      await repo.finish(next.execution.id, "STOPPED", "", zeroCounts());
      const fresh = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api", fresh: true });
      if (fresh.kind !== "started") throw new Error("expected a fresh instance");
      expect(fresh.execution.restartOf).toBeNull();
      expect(fresh.execution.jobInstanceId).not.toBe(next.execution.jobInstanceId);
      await repo.reset(fresh.execution.id, { force: true, leaseMs: LEASE });
    });

    test("a cron slot runs once, even after it finished", async () => {
      const slot = { "schedule.slot": "2026-11-27T09:00:00.000Z" };
      const a = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "cron", identifying: slot });
      if (a.kind !== "started") throw new Error("expected start");
      await repo.finish(a.execution.id, "COMPLETED", "", zeroCounts());
      const b = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "cron", identifying: slot });
      expect(b).toEqual({ kind: "duplicate", executionId: a.execution.id });
    });

    test("dead executions are failed with the time of their last heartbeat, then resumed", async () => {
      const t0 = new Date("2026-01-01T00:00:00Z");
      const a = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api", fresh: true }, t0);
      if (a.kind !== "started") throw new Error("expected start");
      await repo.markStarted(a.execution.id, t0);
      const later = new Date(t0.getTime() + LEASE + 1000);
      const b = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api" }, later);
      if (b.kind !== "started") throw new Error("expected the dead one to be failed and resumed");
      expect(b.execution.restartOf).toBe(a.execution.id);
      const dead = await repo.get(a.execution.id);
      expect(dead?.status).toBe("FAILED");
      expect(dead?.exitMessage).toContain("no heartbeat since 2026-01-01T00:00:00.000Z");
      // the dead process's late writes are refused
      expect(await repo.heartbeat(a.execution.id, zeroCounts())).toBeNull();
      expect(await repo.finish(a.execution.id, "COMPLETED", "", zeroCounts())).toBe(false);
      await repo.reset(b.execution.id, { force: true, leaseMs: LEASE });
    });

    test("stop and reset follow the contract", async () => {
      const a = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api", fresh: true });
      if (a.kind !== "started") throw new Error("expected start");
      await repo.markStarted(a.execution.id);
      expect((await repo.requestStop(a.execution.id)).status).toBe("STOPPING");
      expect(await repo.heartbeat(a.execution.id, zeroCounts())).toBe("STOPPING");
      const err = await repo.reset(a.execution.id, { force: false, leaseMs: LEASE }).catch((e) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect(err.code).toBe("JOB_HEARTBEAT_FRESH");
      const abandoned = await repo.reset(a.execution.id, { force: true, leaseMs: LEASE });
      expect(abandoned.status).toBe("ABANDONED");
      expect(abandoned.endTime).toBeInstanceOf(Date);
      expect(await repo.heartbeat(a.execution.id, zeroCounts())).toBeNull();
      const again = await repo.reset(a.execution.id, { force: true, leaseMs: LEASE }).catch((e) => e);
      expect(again.code).toBe("JOB_ALREADY_TERMINAL");
      expect(await repo.requestStop(a.execution.id).catch((e) => e.code)).toBe("JOB_NOT_RUNNING");
      expect(await repo.requestStop(999_999).catch((e) => e)).toBeInstanceOf(NotFoundError);
      // an ABANDONED instance is not resumed
      const b = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api" });
      if (b.kind !== "started") throw new Error("expected start");
      expect(b.execution.restartOf).toBeNull();
      await repo.reset(b.execution.id, { force: true, leaseMs: LEASE });
    });

    test("a STOPPING execution whose process is gone is ended by the sweep, FAILED and restartable", async () => {
      const a = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api", fresh: true });
      if (a.kind !== "started") throw new Error("expected start");
      await repo.markStarted(a.execution.id);
      const stopping = await repo.requestStop(a.execution.id);
      expect(stopping.status).toBe("STOPPING");
      // the stop request does not count as a heartbeat: no process beats, so the lease runs out
      const later = new Date(stopping.lastUpdated.getTime() + LEASE + 1000);
      expect(await repo.failStale(LEASE, later)).toEqual([a.execution.id]);
      const ended = await repo.get(a.execution.id);
      expect(ended?.status).toBe("FAILED");
      expect(ended?.exitMessage).toContain("no heartbeat since");
      const next = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api" });
      if (next.kind !== "started") throw new Error("expected start");
      expect(next.execution.restartOf).toBe(a.execution.id);
      await repo.reset(next.execution.id, { force: true, leaseMs: LEASE });
    });

    test("list is newest first with status, limit and before", async () => {
      const all = await repo.list({ limit: 100 });
      expect(all.length).toBeGreaterThan(3);
      const ids = all.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((x, y) => y - x));
      const abandoned = await repo.list({ limit: 100, status: "ABANDONED" });
      expect(abandoned.every((e) => e.status === "ABANDONED")).toBe(true);
      const page = await repo.list({ limit: 2, before: ids[0] as number });
      expect(page.map((e) => e.id)).toEqual(ids.slice(1, 3));
    });

    test("twenty concurrent launches start exactly one execution", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          repo.launch({ jobName: "concurrencyJob", stepName: STEP, trigger: "api" }),
        ),
      );
      const started = results.filter((r) => r.kind === "started");
      expect(started.length).toBe(1);
      const id = started[0]?.kind === "started" ? started[0].execution.id : -1;
      for (const r of results) if (r.kind === "running") expect(r.runningId).toBe(id);
    });
  });
}
