/**
 * Scan modes at launch: an explicit mode is stored, `auto` becomes `full` until a full scan
 * COMPLETED within SYNC_FULL_EVERY_HOURS and `incremental` after, and a resumed execution keeps
 * the mode of the one it resumes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createJobRepository, type JobRepository } from "../../src/batch/repository.ts";
import { type LaunchRequest, zeroCounts } from "../../src/batch/types.ts";
import { HOUR } from "../../src/lib/time.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

const JOB = "itemSynchronizationJob";
const base: LaunchRequest = { jobName: JOB, stepName: "itemSynchronizationStep", trigger: "api" };
const DAY = 24 * HOUR;

for (const dialect of DIALECTS) {
  describe(`scan modes on ${dialect}`, () => {
    let t: TestDatabase;
    let repo: JobRepository;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      repo = createJobRepository(t.db, { leaseMs: 60_000 });
    });
    afterAll(() => t.drop());

    /** Launches, starts and ends one execution at `at`; returns it. */
    async function run(req: Partial<LaunchRequest>, at: Date, end: "COMPLETED" | "FAILED") {
      const result = await repo.launch({ ...base, ...req }, at);
      if (result.kind !== "started") throw new Error(`expected a start, got ${result.kind}`);
      await repo.markStarted(result.execution.id, at);
      await repo.finish(result.execution.id, end, "", zeroCounts(), new Date(at.getTime() + 60_000));
      return result.execution;
    }

    test("auto: full without a recent full scan, incremental after one, full again once it is old", async () => {
      const t0 = new Date(Date.UTC(2026, 0, 1));
      const auto = { mode: "auto", fullEveryMs: 7 * DAY } as const;
      expect((await run(auto, t0, "COMPLETED")).mode).toBe("full");
      expect((await run(auto, new Date(t0.getTime() + DAY), "COMPLETED")).mode).toBe("incremental");
      // an incremental COMPLETED does not count as a full one
      expect((await run(auto, new Date(t0.getTime() + 6 * DAY), "COMPLETED")).mode).toBe("incremental");
      expect((await run(auto, new Date(t0.getTime() + 7 * DAY + HOUR), "COMPLETED")).mode).toBe("full");
      // an explicit choice wins over auto's
      expect((await run({ mode: "full" }, new Date(t0.getTime() + 8 * DAY), "COMPLETED")).mode).toBe("full");
      expect((await run({ mode: "incremental" }, new Date(t0.getTime() + 9 * DAY), "COMPLETED")).mode).toBe(
        "incremental",
      );
    });

    test("a failed full scan does not make auto incremental", async () => {
      const t0 = new Date(Date.UTC(2026, 3, 1));
      const failed = await run({ mode: "full" }, t0, "FAILED");
      // resumed, whatever is asked
      const resumed = await run({ mode: "incremental" }, new Date(t0.getTime() + HOUR), "FAILED");
      expect(resumed.restartOf).toBe(failed.id);
      expect(resumed.mode).toBe("full");
      const fresh = await run(
        { mode: "auto", fresh: true, fullEveryMs: HOUR },
        new Date(t0.getTime() + 2 * HOUR),
        "COMPLETED",
      );
      expect(fresh.mode).toBe("full");
    });

    test("a resumed execution keeps its mode", async () => {
      const t0 = new Date(Date.UTC(2026, 6, 1));
      const first = await run({ mode: "incremental" }, t0, "FAILED");
      const resumed = await run({ mode: "full" }, new Date(t0.getTime() + HOUR), "COMPLETED");
      expect(resumed.restartOf).toBe(first.id);
      expect(resumed.mode).toBe("incremental");
    });

    test("a job launched without a mode has none", async () => {
      const e = await run({ fresh: true }, new Date(Date.UTC(2026, 9, 1)), "COMPLETED");
      expect(e.mode).toBeNull();
    });
  });
}
