/**
 * Found by the crash scenario: on Postgres a resumed sync FAILED with "deadlock detected". The
 * heartbeat locked the job execution row then the step execution row; saveCheckpoint and finish
 * locked the step row (writeCounts) then the job row. Run concurrently — as the runner does, the
 * heartbeat on its timer while pages checkpoint — they deadlock and the execution fails.
 * Fixed in 006f001 (every write locks the job execution row first); this is its regression test.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createJobRepository, type JobRepository } from "../../src/batch/repository.ts";
import { zeroCounts } from "../../src/batch/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
let repo: JobRepository;
beforeAll(async () => {
  t = await createTestDatabase("pg");
  repo = createJobRepository(t.db, { leaseMs: 60_000 });
});
afterAll(async () => {
  await t.drop();
});

async function heartbeatVersusCheckpoint(r: JobRepository, rounds: number): Promise<string[]> {
  const launched = await r.launch({ jobName: "deadlockJob", stepName: "deadlockStep", trigger: "api" });
  if (launched.kind !== "started") throw new Error("expected a new execution");
  const id = launched.execution.id;
  await r.markStarted(id);
  const errors: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const counts = { ...zeroCounts(), read: i, updatePublished: i };
    const results = await Promise.allSettled([
      r.heartbeat(id, counts),
      r.saveCheckpoint(id, { checkpoint: { page: i, lastProjectId: i } }, counts),
      r.heartbeat(id, counts),
      r.saveCheckpoint(id, { checkpoint: { page: i, lastProjectId: i } }, counts),
    ]);
    for (const x of results) if (x.status === "rejected") errors.push(String(x.reason?.message ?? x.reason));
    if (errors.length > 0) break; // one is proof enough; each costs Postgres' deadlock_timeout
  }
  await r.finish(id, "COMPLETED", "", zeroCounts());
  return errors;
}

test("Postgres: heartbeat and checkpoint writes running together never deadlock", async () => {
  const errors = await heartbeatVersusCheckpoint(repo, 200);
  expect(errors).toEqual([]);
}, 60_000);
