/**
 * The heartbeat timer of a running execution (heartbeat.ts says how alive one looks): every heartbeatIntervalMs it writes the live counts and
 * refreshes `last_updated`, proving the lease to the step's fence. It aborts the step when the
 * database stops answering for longer than the lease ("database-unavailable"), and declares the
 * lease lost when a paused process (SIGSTOP, a frozen VM) wakes with its clock past the lease.
 */
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { LeaseFence } from "./fence.ts";
import { heartbeatIntervalMs } from "./lease.ts";
import type { JobRepository } from "./repository.ts";
import type { Counts, JobStatus } from "./types.ts";

export interface Heartbeat {
  /** The last heartbeat's failure while the database has not answered since; undefined once it did. */
  readonly error: Error | undefined;
  stop(): void;
}

export function startHeartbeat(deps: {
  repository: Pick<JobRepository, "heartbeat">;
  executionId: number;
  counts: Counts;
  leaseMs: number;
  fence: LeaseFence;
  log: Logger;
  /** The execution's status as each accepted write saw it (null: no longer ours). */
  proven(status: JobStatus | null, at: Date): void;
  /** The database left heartbeats unanswered or refused them for longer than the lease. */
  onDatabaseUnavailable(): void;
}): Heartbeat {
  const { repository, executionId, counts, leaseMs, fence, log } = deps;
  let beating = false;
  let lastBeat = Date.now();
  let error: Error | undefined;
  const pastLease = () => Date.now() - lastBeat > leaseMs;

  const timer = setInterval(async () => {
    // A paused process wakes here with its clock past the lease. (While heartbeats fail or hang,
    // the database-unavailable path below ends the execution instead.)
    if (fence.lost === null && !beating && !error && fence.expired()) {
      fence.lose(`no heartbeat accepted for longer than the lease (${leaseMs / 1000} s)`);
    }
    if (beating) {
      // A heartbeat that never answers (a lost database connection) counts as a refused one.
      if (pastLease()) {
        error = new Error(
          `a heartbeat has had no answer for ${Math.round((Date.now() - lastBeat) / 1000)} s`,
        );
        log.error("heartbeat failed", { err: error });
        deps.onDatabaseUnavailable();
      }
      return;
    }
    beating = true;
    try {
      const at = new Date();
      deps.proven(await repository.heartbeat(executionId, counts, at), at);
      lastBeat = Date.now();
      error = undefined;
    } catch (err) {
      error = coerceError(err);
      log.error("heartbeat failed", { err: error });
      // Past the lease, other replicas consider this execution dead: stop working on it.
      if (pastLease()) deps.onDatabaseUnavailable();
    } finally {
      beating = false;
    }
  }, heartbeatIntervalMs(leaseMs));

  return {
    get error() {
      return error;
    },
    stop: () => clearInterval(timer),
  };
}
