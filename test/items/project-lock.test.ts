/**
 * project_lock as IMRT-ITEMS.md §4.2 says, between separate connections (as between processes,
 * or item-sync and the replaced service during a switch-over): one holder at a time, takeover
 * only of a lock older than 60 s, release by the token it was taken with, a waiter that gets the
 * lock as soon as it is released.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Db, openDb, toDate } from "../../src/db/client.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { ensureImrtTables } from "../../src/items/imrt-schema.ts";
import { acquire, LOCK_TAKEOVER_MS, release, stillHeld, tryAcquire } from "../../src/items/project-lock.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

describe.each(DIALECTS)("project_lock on %s", (dialect) => {
  let t: TestDatabase;
  let other: Db; // a second connection: another process
  const tables = imrtTables(dialect === "pg" ? "pg" : "sqlite");

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    await ensureImrtTables(t.db, tables);
    other = openDb(t.url);
  });
  afterAll(async () => {
    await other.close();
    await t.drop();
  });

  test("one holder at a time; released by its token, then free for the other", async () => {
    const mine = await tryAcquire(t.db, tables, 1);
    expect(mine).not.toBeNull();
    expect(await tryAcquire(other, tables, 1)).toBeNull();
    expect(await tryAcquire(other, tables, 2)).not.toBeNull(); // another project is another lock
    if (!mine) throw new Error("unreachable");
    expect(await release(t.db, tables, mine)).toBe(true);
    const theirs = await tryAcquire(other, tables, 1);
    expect(theirs).not.toBeNull();
    if (theirs) await release(other, tables, theirs);
  });

  test("a lock older than 60 s is taken over; the old holder's release and check then fail", async () => {
    const old = new Date(Date.now() - LOCK_TAKEOVER_MS - 1_000);
    const stale = await tryAcquire(t.db, tables, 3, old);
    if (!stale) throw new Error("no lock");
    expect(await tryAcquire(other, tables, 3, new Date(old.getTime() + LOCK_TAKEOVER_MS - 1_000))).toBeNull();
    const taken = await tryAcquire(other, tables, 3);
    expect(taken).not.toBeNull();
    expect(await t.db.transaction((tx) => stillHeld(tx, tables, stale))).toBe(false);
    expect(await release(t.db, tables, stale)).toBe(false); // nothing of ours to delete
    if (taken) {
      expect(await other.transaction((tx) => stillHeld(tx, tables, taken))).toBe(true);
      expect(await release(other, tables, taken)).toBe(true);
    }
  });

  test("a row written the way the replaced service writes it holds us off until it is released", async () => {
    const lockedAt = new Date();
    await other.run(
      `insert into ${tables.project_lock} (project_id, locked_at, created_at, updated_at, updated_by)
       values (4, $1, $1, $1, 'internal')`,
      [lockedAt],
    );
    let waited = false;
    let got = false;
    const waiting = acquire(t.db, tables, 4, { pollMs: 20, onWait: () => (waited = true) });
    void waiting.then(() => (got = true));
    while (!waited) await Bun.sleep(5);
    // it found the lock held and is waiting: the row is still the other writer's
    const [row] = await other.all<{ locked_at: unknown }>(
      `select locked_at from ${tables.project_lock} where project_id = 4`,
    );
    expect(toDate(row?.locked_at)).toEqual(lockedAt);
    expect(got).toBe(false);
    await other.run(`delete from ${tables.project_lock} where project_id = 4 and locked_at = $1`, [lockedAt]);
    const lock = await waiting;
    expect(lock.projectId).toBe(4);
    expect(await release(t.db, tables, lock)).toBe(true);
  });
});
