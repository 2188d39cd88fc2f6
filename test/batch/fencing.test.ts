/**
 * Fencing in the database, on both dialects: every write of a running execution is conditional
 * on still owning it (running, heartbeat within the lease), and reset cannot turn an execution
 * that just ended into ABANDONED.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LeaseLostError } from "../../src/batch/fence.ts";
import { createJobRepository, type JobRepository } from "../../src/batch/repository.ts";
import { zeroCounts } from "../../src/batch/types.ts";
import type { Db } from "../../src/db/client.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createSeenStore } from "../../src/items/seen-store.ts";
import { ConflictError } from "../../src/lib/errors.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

const JOB = "itemSynchronizationJob";
const STEP = "itemSynchronizationStep";
const LEASE = 60_000;

for (const dialect of DIALECTS) {
  describe(`fencing on ${dialect}`, () => {
    let t: TestDatabase;
    let repo: JobRepository;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      repo = createJobRepository(t.db, { leaseMs: LEASE });
    });
    afterAll(() => t.drop());

    async function started(at: Date) {
      const r = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api", fresh: true }, at);
      if (r.kind !== "started") throw new Error(`expected a start, got ${JSON.stringify(r)}`);
      expect(await repo.markStarted(r.execution.id, at)).toBe(true);
      return r.execution;
    }

    test("a heartbeat or checkpoint later than the lease renews nothing; the late heartbeat fails the execution", async () => {
      const t0 = new Date(Date.now() - 10 * LEASE);
      const e = await started(t0);
      const late = new Date(t0.getTime() + LEASE + 1);
      const counts = { ...zeroCounts(), read: 99 };
      // the process was paused past its lease: nobody swept it yet, but it owns nothing any more
      expect(await repo.saveCheckpoint(e.id, { checkpoint: { page: 9 } }, counts, late)).toBeNull();
      expect(await repo.finish(e.id, "COMPLETED", "", counts, late)).toBe(false);
      expect((await repo.get(e.id))?.status).toBe("STARTED");
      expect(await repo.heartbeat(e.id, counts, late)).toBeNull();
      const after = await repo.get(e.id);
      expect(after?.status).toBe("FAILED");
      expect(after?.exitMessage).toContain("no heartbeat since");
      expect(after?.counts.read).toBe(0); // none of the late writes landed
      expect((await repo.getStep(e.id))?.context).toEqual({});
    });

    test("within the lease the same writes go through", async () => {
      const t0 = new Date();
      const e = await started(t0);
      const soon = new Date(t0.getTime() + LEASE - 1);
      expect(await repo.heartbeat(e.id, zeroCounts(), soon)).toBe("STARTED");
      expect(await repo.saveCheckpoint(e.id, { checkpoint: { page: 1 } }, zeroCounts(), soon)).toBe(
        "STARTED",
      );
      expect(await repo.finish(e.id, "COMPLETED", "", zeroCounts(), soon)).toBe(true);
    });

    test("the seen set is written only by an execution that still owns its run", async () => {
      const seen = createSeenStore(t.db, imrtTables(t.db.dialect));
      const e = await started(new Date());
      const owner = { executionId: e.id, leaseMs: LEASE };
      await seen.record(e.jobInstanceId, [1, 2], owner);
      expect(await repo.finish(e.id, "FAILED", "marked FAILED by another replica", zeroCounts())).toBe(true);
      const err = await seen.record(e.jobInstanceId, [3], owner).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(LeaseLostError);
      expect(await seen.clear(e.jobInstanceId, owner).catch((x: unknown) => x)).toBeInstanceOf(
        LeaseLostError,
      );
      const rows = await t.db.all<{ project_id: number }>(
        "select project_id from sync_seen_project where job_instance_id = $1 order by project_id",
        [e.jobInstanceId],
      );
      expect(rows.map((r) => Number(r.project_id))).toEqual([1, 2]);
      await seen.clear(e.jobInstanceId);
    });
  });
}

describe("reset racing the end of an execution (pg)", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("pg");
  });
  afterAll(() => t.drop());

  test("an execution that COMPLETED between reset's read and its write stays COMPLETED: 409", async () => {
    const repo = createJobRepository(t.db, { leaseMs: LEASE });
    const r = await repo.launch({ jobName: JOB, stepName: STEP, trigger: "api", fresh: true });
    if (r.kind !== "started") throw new Error("expected a start");
    await repo.markStarted(r.execution.id);
    // the runner's finish commits right before reset writes (another connection, no lock held)
    let finished = false;
    const racing = createJobRepository(
      beforeStatement(t.db, /set status = 'ABANDONED'/, async () => {
        if (finished) return;
        finished = true;
        expect(await repo.finish(r.execution.id, "COMPLETED", "", zeroCounts())).toBe(true);
      }),
      { leaseMs: LEASE },
    );
    const err = await racing.reset(r.execution.id, { force: true, leaseMs: LEASE }).catch((e: unknown) => e);
    expect(finished).toBe(true);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe("JOB_ALREADY_TERMINAL");
    expect((await repo.get(r.execution.id))?.status).toBe("COMPLETED");
  });
});

/** A Db that runs `hook` before any statement matching `pattern`, inside transactions too. */
function beforeStatement(db: Db, pattern: RegExp, hook: () => Promise<void>): Db {
  const wrap = (inner: Db): Db => ({
    dialect: inner.dialect,
    all: async (query, params) => {
      if (pattern.test(query)) await hook();
      return inner.all(query, params);
    },
    run: async (query, params) => {
      if (pattern.test(query)) await hook();
      return inner.run(query, params);
    },
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    close: () => inner.close(),
  });
  return wrap(db);
}
