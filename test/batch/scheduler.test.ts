/**
 * Cron ticks on several replicas at the same second start one execution per slot between them,
 * and a slot that already ran does not run again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createJobRepository } from "../../src/batch/repository.ts";
import { createJobRunner, type JobRunner } from "../../src/batch/runner.ts";
import { createJobService } from "../../src/batch/service.ts";
import { openDb } from "../../src/db/client.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { startScheduler } from "../../src/scheduler.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { countingJob } from "../helpers/steps.ts";

const JOB = "itemSynchronizationJob";

for (const dialect of DIALECTS) {
  describe(`scheduler on ${dialect}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
    });
    afterAll(() => t.drop());

    test("three replicas ticking every second: exactly one execution per slot", async () => {
      const replicas: { runner: JobRunner; stop: () => void; close: () => Promise<void> }[] = [];
      for (let i = 0; i < 3; i++) {
        // each replica has its own connection, as separate processes would
        const db = openDb(t.url);
        const repository = createJobRepository(db, { leaseMs: 60_000 });
        const runner = createJobRunner({
          repository,
          jobs: [countingJob({ total: 3, pageSize: 1 })],
          leaseMs: 60_000,
          logger: silentLogger,
        });
        const jobs = createJobService({ jobName: JOB, repository, runner, leaseMs: 60_000 });
        const scheduler = startScheduler({
          pattern: "* * * * * *",
          timezone: "UTC",
          jobs,
          logger: silentLogger,
        });
        replicas.push({ runner, stop: () => scheduler.stop(), close: () => db.close() });
      }
      await Bun.sleep(3500);
      for (const r of replicas) r.stop();
      for (const r of replicas) await r.runner.shutdown();
      for (const r of replicas) await r.close();

      const rows = await t.db.all<{ parameter_value: string; n: number }>(
        `select p.parameter_value, count(*) as n from batch_job_execution e
         join batch_job_execution_params p on p.job_execution_id = e.job_execution_id and p.parameter_name = 'schedule.slot'
         where e.trigger = 'cron' group by p.parameter_value`,
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) {
        expect(Number(row.n)).toBe(1);
        expect(new Date(row.parameter_value).getUTCMilliseconds()).toBe(0); // the slot, not the firing time
      }
      const launchers = await t.db.all<{ launched_by: string | null }>(
        "select distinct launched_by from batch_job_execution where trigger = 'cron'",
      );
      expect(launchers.map((l) => l.launched_by)).toEqual(["cron"]);
    }, 20_000);
  });
}
