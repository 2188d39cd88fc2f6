/**
 * The guards against queries postgres.js can leave hanging when the server refuses new
 * connections: a transaction its client lost track of must not hold its row locks for ever (with
 * idleInTransactionTimeoutMs Postgres ends the session and a blocked writer goes on), and no
 * caller waits for ever for an answer (answerTimeoutMs).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createJobRepository } from "../../src/batch/repository.ts";
import { DB_NO_ANSWER, isDatabaseUnavailable, openDb } from "../../src/db/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("pg");
  await t.db.run(
    "insert into sync_project (project_id, project_path, name, created_at, updated_at) values (1, 'g/item-1', 'item-1', $1, $1)",
    [new Date()],
  );
});
afterAll(() => t.drop());

test("Postgres ends a transaction left idle past the timeout and releases its locks", async () => {
  const guarded = openDb(t.url, { idleInTransactionTimeoutMs: 300 });
  try {
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    let idleWokeUp = false;
    const idle = guarded.transaction(async (tx) => {
      await tx.run("update sync_project set name = 'held' where project_id = 1");
      locked();
      await Bun.sleep(5_000); // the lost client: no statement, no commit
      idleWokeUp = true;
      await tx.run("select 1");
    });
    const outcome = idle.then(
      () => "committed",
      (err: unknown) => `failed: ${(err as Error).message}`,
    );
    await lockTaken;
    // another writer of the same row waits for the lock, and gets it once the session is ended
    await t.db.run("update sync_project set name = 'writer' where project_id = 1");
    expect(idleWokeUp).toBe(false); // the lock was released by the server, not by the client
    expect(await outcome).toStartWith("failed: ");
    const [row] = await t.db.all<{ name: string }>("select name from sync_project where project_id = 1");
    expect(row?.name).toBe("writer");
  } finally {
    await guarded.close();
  }
}, 20_000);

test("a query with no answer within answerTimeoutMs fails as DB_NO_ANSWER, counted as the database unavailable", async () => {
  // the answer is held back by a row lock another session keeps (no commit yet)
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked = () => {};
  const lockTaken = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holder = t.db.transaction(async (tx) => {
    await tx.run("update sync_project set name = 'holder' where project_id = 1");
    locked();
    await held;
  });
  await lockTaken;
  const impatient = openDb(t.url, { answerTimeoutMs: 300 });
  try {
    const err = await impatient.run("update sync_project set name = 'impatient' where project_id = 1").then(
      () => null,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe(DB_NO_ANSWER);
    expect(err?.message).toBe("the database gave no answer to a statement within 0.3 s");
    expect(isDatabaseUnavailable(err)).toBe(true);
    // transactions too
    const txErr = await impatient
      .transaction((tx) => tx.run("update sync_project set name = 'impatient' where project_id = 1"))
      .then(
        () => null,
        (e: unknown) => e as Error & { code?: string },
      );
    expect(txErr?.code).toBe(DB_NO_ANSWER);
    // and a database that answers is unaffected
    expect(await impatient.all("select 1 as one")).toEqual([{ one: 1 }]);
  } finally {
    release();
    await holder;
    await impatient.close();
  }
}, 20_000);

test("a process frozen inside a transaction: the sweep waits on its row lock only briefly, then ends its session and fails the execution", async () => {
  const LEASE = 200;
  const repo = createJobRepository(t.db, { leaseMs: LEASE });
  const launched = await repo.launch({
    jobName: "itemSynchronizationJob",
    stepName: "itemSynchronizationStep",
    trigger: "api",
    fresh: true,
  });
  if (launched.kind !== "started") throw new Error("expected a start");
  const id = launched.execution.id;
  await repo.markStarted(id);
  // the frozen replica: its session (no idle timeout of its own) holds the execution row
  const frozen = openDb(t.url);
  let locked = () => {};
  const lockTaken = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const held = frozen.transaction(async (tx) => {
    await tx.run("update batch_job_execution set version = version where job_execution_id = $1", [id]);
    locked();
    await Bun.sleep(30_000); // never commits while the test runs
  });
  const heldOutcome = held.then(
    () => "committed",
    (err: unknown) => `failed: ${(err as Error).message}`,
  );
  try {
    await lockTaken;
    await Bun.sleep(LEASE * 2); // the heartbeat is now older than the lease
    // while the lock is held the sweep gives up after its lock wait instead of blocking
    const started = performance.now();
    expect(await repo.failStale(LEASE, new Date(), 300)).toBe("blocked");
    expect(performance.now() - started).toBeLessThan(10_000); // a hang guard, not a timing claim
    // younger than the bound: left alone; older: ended, and its lock released
    expect(await repo.endAbandoned(60_000)).toEqual([]);
    const ended = await repo.endAbandoned(100);
    expect(ended.map((s) => s.query)).toEqual([expect.stringContaining("update batch_job_execution")]);
    expect(await heldOutcome).toStartWith("failed: ");
    expect(await repo.failStale(LEASE, new Date(), 300)).toEqual([id]);
    expect((await repo.get(id))?.status).toBe("FAILED");
  } finally {
    await frozen.close().catch(() => {});
  }
}, 40_000);
