/**
 * Fencing: a process may publish and write for an execution only while it can prove it still
 * owns it, i.e. holds its lease. Owning = the execution is running in the database and its last
 * heartbeat is younger than the lease (JOB_LEASE_SECONDS); past that, any other replica's sweep
 * may mark it FAILED and a launch may resume the run elsewhere.
 *
 * Two checks, both needed:
 *   - in the database, every write of a running execution is conditional on owning it: the
 *     repository's heartbeat, checkpoint and end (`ownedSql`), and the step's own rows through
 *     `assertOwnedIn` inside the write's transaction (which also holds the execution row on
 *     Postgres, so a sweep cannot fail it between the check and the write);
 *   - in the process, `assertOwned()` runs synchronously right before each publish: it compares
 *     the clock with the start of the last heartbeat the database accepted. A process paused
 *     (SIGSTOP, a long GC or VM freeze) longer than the lease resumes with a clock past it and
 *     publishes nothing more, before any heartbeat could tell it so.
 * `persist()` retries a step's database call while the database is unavailable (a failover) and
 * the lease still holds: an outage shorter than the lease pauses the run instead of failing it.
 * What stays possible: bytes already handed to the socket before a pause still reach the broker
 * after it. The broker then has them before the execution was failed, so they are not publishes
 * "after FAILED"; they are duplicates the idempotent consumers absorb.
 */
import { type Db, isDatabaseUnavailable } from "../db/client.ts";
import { RUNNING_SQL } from "./sql.ts";

/** Thrown when a process finds it no longer owns the execution it was running. */
export class LeaseLostError extends Error {
  readonly code = "LEASE_LOST";
  constructor(executionId: number, why: string) {
    super(
      `execution ${executionId}: this process no longer holds its lease (${why}); it stops publishing and writing`,
    );
  }
}

/** What a guarded write needs to know: whose lease, and how long it lasts. */
export interface WriteOwner {
  executionId: number;
  leaseMs: number;
}

/** The part of a step's context that fences it. */
export interface StepFence {
  readonly owner: WriteOwner;
  /** Throws LeaseLostError unless the lease is provably held now. Synchronous: call it right
   *  before the act it guards, after any await. */
  assertOwned(): void;
  /** Runs a database write (or read) of the step, retried while the database is unavailable and
   *  the lease still held (see createLeaseFence). */
  persist<T>(write: () => Promise<T>): Promise<T>;
}

/**
 * The process's side: proven at each accepted heartbeat/checkpoint (with the time it was sent,
 * which is the `last_updated` the database stored), lost for good once the database says so.
 * A margin below the lease leaves room for clock skew between replicas and the sweep interval.
 */
export function createLeaseFence(
  owner: WriteOwner,
  provenAt: number,
  onLost: (why: string) => void,
  onUnavailable?: (err: unknown, attempt: number) => void,
) {
  const marginMs = Math.min(owner.leaseMs / 4, 5_000);
  let lastProof = provenAt;
  let lost: string | null = null;
  const lose = (why: string) => {
    if (lost !== null) return;
    lost = why;
    onLost(why);
  };
  const expired = (now: number) => now - lastProof >= owner.leaseMs - marginMs;
  const assertOwned = () => {
    const now = Date.now();
    if (lost === null && expired(now)) {
      lose(
        `no heartbeat accepted for ${Math.round((now - lastProof) / 1000)} s, lease ${owner.leaseMs / 1000} s`,
      );
    }
    if (lost !== null) throw new LeaseLostError(owner.executionId, lost);
  };
  return {
    owner,
    /** The database accepted a heartbeat or checkpoint sent at `at`. */
    prove(at: number) {
      if (lost === null && at > lastProof) lastProof = at;
    },
    lose,
    get lost() {
      return lost;
    },
    /**
     * Runs a write of the execution, retrying it while the database is unavailable (a failover,
     * a restart) for as long as the lease is provably held, and for one lease at most: an outage
     * shorter than the lease costs a pause, not the run. Throws LeaseLostError once the lease can
     * no longer be proven, and the database's error once the write kept failing for a whole
     * lease while heartbeats got through (connections starved by other work, as with a role's
     * connection limit below the pool): the execution then fails and a relaunch resumes it,
     * instead of staying STARTED without progress.
     */
    async persist<T>(write: () => Promise<T>): Promise<T> {
      let giveUpAt = Number.POSITIVE_INFINITY;
      for (let attempt = 1; ; attempt++) {
        assertOwned();
        try {
          return await write();
        } catch (err) {
          if (err instanceof LeaseLostError || !isDatabaseUnavailable(err)) throw err;
          if (attempt === 1) giveUpAt = Date.now() + owner.leaseMs;
          else if (Date.now() >= giveUpAt) throw err;
          onUnavailable?.(err, attempt);
          await Bun.sleep(Math.min(100 * 2 ** (attempt - 1), 2_000));
        }
      }
    },
    /** True once the last proof is older than the lease (minus the margin). */
    expired: () => expired(Date.now()),
    assertOwned,
  };
}

export type LeaseFence = ReturnType<typeof createLeaseFence>;

/** SQL condition (on `batch_job_execution`) for "still owned": running and heartbeat fresh. */
export function ownedSql(idParam: string, cutoffParam: string): string {
  return `job_execution_id = ${idParam} and status in ${RUNNING_SQL} and last_updated >= ${cutoffParam}`;
}

/**
 * Inside a write's transaction: throws LeaseLostError unless `owner` still owns the execution.
 * On Postgres the execution row stays share-locked until the transaction ends, so the sweep's
 * update (FAILED) waits for this write instead of slipping in between; SQLite transactions
 * already exclude each other (BEGIN IMMEDIATE).
 */
export async function assertOwnedIn(tx: Db, owner: WriteOwner, now = new Date()): Promise<void> {
  const cutoff = new Date(now.getTime() - owner.leaseMs);
  const rows = await tx.all(
    `select 1 as owned from batch_job_execution where ${ownedSql("$1", "$2")}${tx.dialect === "pg" ? " for share" : ""}`,
    [owner.executionId, cutoff],
  );
  if (rows.length === 0)
    throw new LeaseLostError(
      owner.executionId,
      "the database no longer shows it as running with a fresh heartbeat",
    );
}
