/**
 * The job repository: every read and write of the batch_* tables, as named operations over the
 * dialect-neutral `Db`. Nothing outside batch/ writes SQL against those tables; the shared
 * statements live in sql.ts and the launch transaction in launch.ts.
 */
import { type Db, toDate } from "../db/client.ts";
import { ConflictError, NotFoundError } from "../lib/errors.ts";
import { ownedSql } from "./fence.ts";
import { type HeartbeatInfo, heartbeatInfo } from "./heartbeat.ts";
import { isUniqueViolation, launchIn } from "./launch.ts";
import {
  currentStatus,
  type EndedSession,
  EXECUTION_COLUMNS,
  EXECUTION_FROM,
  endAbandonedTransactions,
  endSteps,
  failStale,
  getExecution,
  parseContext,
  RUNNING_SQL,
  shortContext,
  toExecution,
  truncate,
  writeCounts,
} from "./sql.ts";
import {
  type Counts,
  isRunning,
  type JobExecution,
  type JobStatus,
  type LaunchRequest,
  type LaunchResult,
  type StepExecution,
} from "./types.ts";

/**
 * A reset refused because the execution is alive. The message speaks HTTP (the API's answer);
 * the CLI words its own from the fields.
 */
export class HeartbeatFreshError extends ConflictError {
  readonly executionId: number;
  readonly heartbeat: HeartbeatInfo;

  constructor(id: number, lastUpdated: Date, leaseMs: number, now: Date) {
    const heartbeat = heartbeatInfo(lastUpdated, leaseMs, now);
    super(
      "JOB_HEARTBEAT_FRESH",
      `job execution ${id} sent a heartbeat ${heartbeat.ageSeconds} s ago (lease ${leaseMs / 1000} s): it is alive, and presumed dead only at ${heartbeat.presumedDeadAt} (in ${heartbeat.presumedDeadInSeconds} s) if no heartbeat comes. Stop it with POST /jobs/${id}/stop, or reset with ?force=true to abandon it anyway`,
    );
    this.executionId = id;
    this.heartbeat = heartbeat;
  }
}

export interface ListQuery {
  status?: JobStatus;
  limit: number;
  before?: number;
}

export interface JobRepository {
  launch(request: LaunchRequest, now?: Date): Promise<LaunchResult>;
  get(id: number): Promise<JobExecution | null>;
  list(query: ListQuery): Promise<JobExecution[]>;
  running(jobName: string): Promise<JobExecution | null>;
  getStep(executionId: number): Promise<StepExecution | null>;
  /** Marks STARTING → STARTED; false when the execution was reset or failed meanwhile. */
  markStarted(executionId: number, now?: Date): Promise<boolean>;
  /** Heartbeat + live counts, only while owned (running, last heartbeat within the lease). Returns
   *  the execution's status now, or null when no longer owned (a late heartbeat fails it). */
  heartbeat(executionId: number, counts: Counts, now?: Date): Promise<JobStatus | null>;
  /** Saves the step context (checkpoint) and counts in one transaction; returns status as heartbeat. */
  saveCheckpoint(
    executionId: number,
    context: Record<string, unknown>,
    counts: Counts,
    now?: Date,
  ): Promise<JobStatus | null>;
  /** Ends a running execution; false when it was no longer running (reset/failed by someone else). */
  finish(
    executionId: number,
    status: "COMPLETED" | "STOPPED" | "FAILED",
    exitMessage: string,
    counts: Counts,
    now?: Date,
  ): Promise<boolean>;
  requestStop(id: number, now?: Date): Promise<JobExecution>;
  reset(id: number, opts: { force: boolean; leaseMs: number }, now?: Date): Promise<JobExecution>;
  /**
   * Marks running executions whose heartbeat is older than the lease FAILED; returns their ids.
   * With `lockWaitMs` (Postgres) it waits at most that long for a row another session holds,
   * and then answers "blocked" having marked nothing (the next sweep tries again), so blocked
   * sweeps never pile up.
   */
  failStale(leaseMs: number, now?: Date, lockWaitMs?: number): Promise<number[] | "blocked">;
  /** Ends our sessions stuck inside a transaction older than `olderThanMs` (sql.ts). */
  endAbandoned(olderThanMs: number): Promise<EndedSession[]>;
}

/** Postgres lock_not_available: a `lock_timeout` ran out. */
function isLockTimeout(err: unknown): boolean {
  return (err as { code?: string })?.code === "55P03";
}

export function createJobRepository(db: Db, opts: { leaseMs: number }): JobRepository {
  const leaseCutoff = (now: Date) => new Date(now.getTime() - opts.leaseMs);
  return {
    async launch(req, now = new Date()) {
      try {
        return await db.transaction((tx) => launchIn(tx, req, now, opts.leaseMs));
      } catch (err) {
        // Second guard: the partial unique index on running executions. Only reachable if the
        // lock above were bypassed; report the running execution like any other conflict.
        if (!isUniqueViolation(err)) throw err;
        const running = await this.running(req.jobName);
        if (running) return { kind: "running", runningId: running.id };
        throw err;
      }
    },

    get: (id) => getExecution(db, id),

    async list(q) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.status) {
        params.push(q.status);
        where.push(`e.status = $${params.length}`);
      }
      if (q.before !== undefined) {
        params.push(q.before);
        where.push(`e.job_execution_id < $${params.length}`);
      }
      params.push(q.limit);
      const rows = await db.all(
        `select ${EXECUTION_COLUMNS} from ${EXECUTION_FROM} ${where.length ? `where ${where.join(" and ")}` : ""}
         order by e.job_execution_id desc limit $${params.length}`,
        params,
      );
      return rows.map((r) => toExecution(r, {}));
    },

    async running(jobName) {
      const [row] = await db.all<{ job_execution_id: number }>(
        `select job_execution_id from batch_job_execution where job_name = $1 and status in ${RUNNING_SQL}
         order by job_execution_id desc limit 1`,
        [jobName],
      );
      return row ? getExecution(db, row.job_execution_id) : null;
    },

    async getStep(executionId) {
      const [row] = await db.all<Record<string, unknown>>(
        `select s.step_execution_id, s.step_name, s.status, s.commit_count, s.start_time, s.end_time, s.last_updated,
           s.exit_code, s.exit_message, c.short_context, c.serialized_context
         from batch_step_execution s left join batch_step_execution_context c on c.step_execution_id = s.step_execution_id
         where s.job_execution_id = $1 order by s.step_execution_id desc limit 1`,
        [executionId],
      );
      if (!row) return null;
      return {
        id: Number(row.step_execution_id),
        name: String(row.step_name),
        status: row.status as JobStatus,
        commitCount: Number(row.commit_count),
        startTime: toDate(row.start_time),
        endTime: toDate(row.end_time),
        lastUpdated: toDate(row.last_updated) ?? new Date(0),
        exitCode: String(row.exit_code),
        exitMessage: String(row.exit_message),
        context: parseContext((row.serialized_context ?? row.short_context ?? "{}") as string),
      };
    },

    async markStarted(executionId, now = new Date()) {
      return db.transaction(async (tx) => {
        const n = await tx.run(
          `update batch_job_execution set status = 'STARTED', exit_code = 'EXECUTING', start_time = $1, last_updated = $1,
             version = version + 1
           where job_execution_id = $2 and status = 'STARTING'`,
          [now, executionId],
        );
        if (n === 0) return false;
        await tx.run(
          `update batch_step_execution set status = 'STARTED', exit_code = 'EXECUTING', start_time = $1, last_updated = $1
           where job_execution_id = $2 and status = 'STARTING'`,
          [now, executionId],
        );
        return true;
      });
    },

    async heartbeat(executionId, counts, now = new Date()) {
      return db.transaction(async (tx) => {
        // Fenced (fence.ts): only while still owned. A heartbeat that comes too late — the process
        // was paused past the lease — renews nothing: the execution is failed here, as any
        // replica's sweep would, and the caller learns it lost the lease.
        const n = await tx.run(
          `update batch_job_execution set last_updated = $1 where ${ownedSql("$2", "$3")}`,
          [now, executionId, leaseCutoff(now)],
        );
        if (n === 0) {
          await failStale(tx, opts.leaseMs, now, executionId);
          return null;
        }
        await writeCounts(tx, executionId, counts, now, false);
        return currentStatus(tx, executionId);
      });
    },

    async saveCheckpoint(executionId, context, counts, now = new Date()) {
      const serialized = JSON.stringify(context);
      return db.transaction(async (tx) => {
        // Lock order, in every write of a running execution: the job execution row first, then
        // its step rows — concurrent heartbeats and checkpoints would deadlock otherwise.
        const [row] = await tx.all<{ status: JobStatus }>(
          `update batch_job_execution set last_updated = $1 where ${ownedSql("$2", "$3")} returning status`,
          [now, executionId, leaseCutoff(now)],
        );
        if (!row) return null; // reset, failed by someone else, or lease expired: write nothing
        await writeCounts(tx, executionId, counts, now, true);
        await tx.run(
          `update batch_step_execution_context set short_context = $1, serialized_context = $2
           where step_execution_id = (select max(step_execution_id) from batch_step_execution where job_execution_id = $3)`,
          [shortContext(serialized), serialized, executionId],
        );
        return row.status;
      });
    },

    async finish(executionId, status, exitMessage, counts, now = new Date()) {
      return db.transaction(async (tx) => {
        // job row first, then the step rows (see saveCheckpoint). COMPLETED and STOPPED only while
        // owned (fence.ts); FAILED whenever still running: it is what a sweep would write anyway.
        const owned = status === "FAILED" ? "" : " and last_updated >= $5";
        const n = await tx.run(
          `update batch_job_execution set status = $1, exit_code = $1, exit_message = $2, end_time = $3, last_updated = $3,
             version = version + 1
           where job_execution_id = $4 and status in ${RUNNING_SQL}${owned}`,
          status === "FAILED"
            ? [status, truncate(exitMessage), now, executionId]
            : [status, truncate(exitMessage), now, executionId, leaseCutoff(now)],
        );
        if (n === 0) return false;
        await writeCounts(tx, executionId, counts, now, false);
        await endSteps(tx, executionId, status, truncate(exitMessage), now);
        return true;
      });
    },

    async requestStop(id, now = new Date()) {
      return db.transaction(async (tx) => {
        await failStale(tx, opts.leaseMs, now);
        const execution = await getExecution(tx, id);
        if (!execution) throw new NotFoundError(`job execution ${id} does not exist`);
        if (!isRunning(execution.status)) {
          throw new ConflictError(
            "JOB_NOT_RUNNING",
            `job execution ${id} is ${execution.status}; only a running execution can be stopped`,
          );
        }
        if (execution.status !== "STOPPING") {
          await tx.run(
            `update batch_job_execution set status = 'STOPPING', last_updated = last_updated, version = version + 1
             where job_execution_id = $1 and status in ${RUNNING_SQL}`,
            [id],
          );
          await tx.run(
            `update batch_step_execution set status = 'STOPPING' where job_execution_id = $1 and status in ${RUNNING_SQL}`,
            [id],
          );
        }
        return (await getExecution(tx, id)) ?? execution;
      });
    },

    async reset(id, { force, leaseMs }, now = new Date()) {
      return db.transaction(async (tx) => {
        const execution = await getExecution(tx, id);
        if (!execution) throw new NotFoundError(`job execution ${id} does not exist`);
        if (!isRunning(execution.status)) {
          throw new ConflictError(
            "JOB_ALREADY_TERMINAL",
            `job execution ${id} is already ${execution.status}; reset applies only to an execution that is not finished`,
          );
        }
        const age = now.getTime() - execution.lastUpdated.getTime();
        if (age < leaseMs && !force) throw new HeartbeatFreshError(id, execution.lastUpdated, leaseMs, now);
        const message =
          age < leaseMs
            ? `reset by an operator (forced while its heartbeat was fresh) at ${now.toISOString()}`
            : `reset by an operator at ${now.toISOString()}; last heartbeat ${execution.lastUpdated.toISOString()}`;
        // Conditional: the execution may have ended (COMPLETED, or FAILED by a sweep) since it was
        // read above — a COMPLETED run must never be turned into ABANDONED.
        const n = await tx.run(
          `update batch_job_execution set status = 'ABANDONED', exit_code = 'ABANDONED', exit_message = $1, end_time = $2,
             last_updated = $2, version = version + 1
           where job_execution_id = $3 and status in ${RUNNING_SQL}`,
          [message, now, id],
        );
        if (n === 0) {
          const ended = (await getExecution(tx, id)) ?? execution;
          throw new ConflictError(
            "JOB_ALREADY_TERMINAL",
            `job execution ${id} ended (${ended.status}) while it was being reset; nothing was changed`,
          );
        }
        await endSteps(tx, id, "ABANDONED", message, now);
        return (await getExecution(tx, id)) ?? execution;
      });
    },

    async failStale(leaseMs, now = new Date(), lockWaitMs) {
      try {
        return await db.transaction(async (tx) => {
          if (lockWaitMs !== undefined && tx.dialect === "pg")
            await tx.run(`set local lock_timeout = ${Math.max(1, Math.round(lockWaitMs))}`);
          return failStale(tx, leaseMs, now);
        });
      } catch (err) {
        if (isLockTimeout(err)) return "blocked";
        throw err;
      }
    },

    endAbandoned: (olderThanMs) => endAbandonedTransactions(db, olderThanMs),
  };
}
