/**
 * The per-project mutex of the IMRT tables (`project_lock`, IMRT-ITEMS.md §4.2), taken exactly as
 * the replaced ingest service takes it, so that several workers — and that service itself during a
 * switch-over — never write one item at once:
 * - acquire at time t: insert (project_id, locked_at = t, created_at = t, updated_at = t,
 *   updated_by = 'internal'); an existing row is taken over (locked_at, updated_at = t) only when
 *   its locked_at is more than 60 s older than t. The lock is ours iff one row changed;
 * - release: delete the row with this project_id AND locked_at = t.
 * A lock another holder keeps is waited for (never a failure of the message): at most the 60 s
 * after which it may be taken over, plus a poll interval.
 */
import type { Db } from "../db/client.ts";
import { SECOND, sleep } from "../lib/time.ts";
import type { ImrtTables } from "./imrt-names.ts";

/** Hard-coded in the replaced service (its iis.maxProjectLockSeconds is never read). */
export const LOCK_TAKEOVER_MS = 60 * SECOND;

export interface HeldLock {
  projectId: number;
  /** locked_at: the lock's token */
  lockedAt: Date;
}

/** One attempt: the lock, or null when another holder has it (for less than LOCK_TAKEOVER_MS). */
export async function tryAcquire(
  db: Db,
  tables: ImrtTables,
  projectId: number,
  now = new Date(),
): Promise<HeldLock | null> {
  const stale = new Date(now.getTime() - LOCK_TAKEOVER_MS);
  const changed = await db.run(
    `insert into ${tables.project_lock} (project_id, locked_at, created_at, updated_at, updated_by)
     values ($1, $2, $2, $2, 'internal')
     on conflict (project_id) do update set locked_at = $2, updated_at = $2
     where ${tables.project_lock}.locked_at < $3`,
    [projectId, now, stale],
  );
  return changed === 1 ? { projectId, lockedAt: now } : null;
}

/**
 * Waits for the lock: polls until it is free or old enough to take over. `onWait` is told once,
 * when the first attempt finds the lock held (for the log).
 */
export async function acquire(
  db: Db,
  tables: ImrtTables,
  projectId: number,
  opts: { signal?: AbortSignal; pollMs?: number; onWait?: () => void } = {},
): Promise<HeldLock> {
  const pollMs = opts.pollMs ?? 250;
  for (let attempt = 0; ; attempt++) {
    const lock = await tryAcquire(db, tables, projectId);
    if (lock) return lock;
    if (attempt === 0) opts.onWait?.();
    if (opts.signal?.aborted) throw new Error(`stopped while waiting for the lock of project ${projectId}`);
    await sleep(Math.min(pollMs * 2 ** Math.min(attempt, 3), 2 * SECOND), opts.signal);
  }
}

/** Inside the write transaction: whether the lock is still ours (not taken over meanwhile). */
export async function stillHeld(tx: Db, tables: ImrtTables, lock: HeldLock): Promise<boolean> {
  const lockClause = tx.dialect === "pg" ? " for update" : "";
  const rows = await tx.all(
    `select 1 as held from ${tables.project_lock} where project_id = $1 and locked_at = $2${lockClause}`,
    [lock.projectId, lock.lockedAt],
  );
  return rows.length === 1;
}

/** Releases the lock; false when it was taken over meanwhile (nothing of ours to delete). */
export async function release(db: Db, tables: ImrtTables, lock: HeldLock): Promise<boolean> {
  const deleted = await db.run(
    `delete from ${tables.project_lock} where project_id = $1 and locked_at = $2`,
    [lock.projectId, lock.lockedAt],
  );
  return deleted === 1;
}
