/**
 * Cron ticks on several replicas at the same second start one execution per slot between them,
 * and a slot that already ran does not run again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createJobRepository } from "../../src/batch/repository.ts";
import { createJobRunner, type JobRunner } from "../../src/batch/runner.ts";
import { createJobService } from "../../src/batch/service.ts";
import { openDb } from "../../src/db/client.ts";
import { createLogger, silentLogger } from "../../src/lib/log.ts";
import { startScheduler } from "../../src/scheduler.ts";
import { waitFor } from "../helpers/binary.ts";
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
      // What each replica's tick decided, by slot: started, or skipped (ran already / one running).
      const ticks = new Map<string, string[]>();
      const logger = createLogger("info", {}, (line) => {
        const { msg, slot } = JSON.parse(line) as { msg: string; slot?: string };
        if (slot && msg.startsWith("scheduled sync")) ticks.set(slot, [...(ticks.get(slot) ?? []), msg]);
      });
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
          logger,
        });
        replicas.push({ runner, stop: () => scheduler.stop(), close: () => db.close() });
      }
      // until every replica has ticked for two slots that started a run (a slot is skipped by
      // all three while the previous slot's run still runs)
      await waitFor(
        "two slots ticked by every replica",
        async () =>
          [...ticks.values()].filter((t) => t.length === 3 && t.includes("scheduled sync started")).length >=
          2,
        30_000,
      );
      for (const r of replicas) r.stop();
      for (const r of replicas) await r.runner.shutdown();
      for (const r of replicas) await r.close();

      const rows = await t.db.all<{ parameter_value: string; n: number }>(
        `select p.parameter_value, count(*) as n from batch_job_execution e
         join batch_job_execution_params p on p.job_execution_id = e.job_execution_id and p.parameter_name = 'schedule.slot'
         where e.trigger = 'cron' group by p.parameter_value`,
      );
      const full = [...ticks].filter(([, t]) => t.length === 3);
      expect(full.length).toBeGreaterThanOrEqual(2);
      for (const [slot, outcomes] of full) {
        // one replica started it, or it was skipped because the previous slot's run still ran
        const started = outcomes.filter((m) => m === "scheduled sync started").length;
        expect(started).toBeLessThanOrEqual(1);
        expect(rows.filter((r) => new Date(r.parameter_value).toISOString() === slot).length).toBe(started);
      }
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) {
        expect(Number(row.n)).toBe(1);
        expect(new Date(row.parameter_value).getUTCMilliseconds()).toBe(0); // the slot, not the firing time
      }
      const launchers = await t.db.all<{ launched_by: string | null }>(
        "select distinct launched_by from batch_job_execution where trigger = 'cron'",
      );
      expect(launchers.map((l) => l.launched_by)).toEqual(["cron"]);
    }, 60_000);
  });
}
