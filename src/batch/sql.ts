/**
 * The SQL of the batch_* tables shared by the repository's operations and the launch: reading
 * executions, writing counts and ends, failing dead executions. Every function takes the
 * connection (or transaction) to run on.
 */
import { APPLICATION_NAME, type Db, toDate } from "../db/client.ts";
import { redact } from "../lib/log.ts";
import {
  type Counts,
  isRunning,
  type JobExecution,
  type JobStatus,
  RUNNING_STATUSES,
  type Trigger,
  zeroCounts,
} from "./types.ts";

export const RUNNING_SQL = `(${RUNNING_STATUSES.map((s) => `'${s}'`).join(", ")})`;

export const EXECUTION_COLUMNS = `e.job_execution_id, e.job_instance_id, e.job_name, e.status, e.exit_code, e.exit_message,
  e.create_time, e.start_time, e.end_time, e.last_updated, e.trigger, e.restart_of, e.launched_by, e.runner, e.mode,
  s.step_execution_id, s.read_count, s.hooks_checked, s.monitor_published, s.update_published,
  s.delete_published, s.process_skip_count, s.unchanged_count, s.hooks_adopted`;
export const EXECUTION_FROM = `batch_job_execution e left join batch_step_execution s on s.job_execution_id = e.job_execution_id`;

export async function getExecution(conn: Db, id: number): Promise<JobExecution | null> {
  const [row] = await conn.all(
    `select ${EXECUTION_COLUMNS} from ${EXECUTION_FROM} where e.job_execution_id = $1`,
    [id],
  );
  if (!row) return null;
  const params = await conn.all<{ parameter_name: string; parameter_value: string | null }>(
    "select parameter_name, parameter_value from batch_job_execution_params where job_execution_id = $1",
    [id],
  );
  return toExecution(row, Object.fromEntries(params.map((p) => [p.parameter_name, p.parameter_value ?? ""])));
}

export interface EndedSession {
  pid: number;
  transactionSeconds: number;
  query: string;
}

/**
 * Ends (pg_terminate_backend) item-sync's Postgres sessions whose transaction is older than
 * `olderThanMs` and that wait for their client: their process was frozen or lost track of
 * them, and their row locks would block every later write of those rows (the sweep's too).
 * The server's idle_in_transaction_session_timeout ends such a session only once it is idle
 * between statements; a process frozen in the middle of sending one (seen with SIGSTOP) leaves
 * it "active", waiting for the rest, for ever. Postgres only; a role may end its own sessions.
 */
export async function endAbandonedTransactions(conn: Db, olderThanMs: number): Promise<EndedSession[]> {
  if (conn.dialect !== "pg") return [];
  const rows = await conn.all<{ pid: number; seconds: number; query: string; ended: boolean }>(
    `select pid, extract(epoch from now() - xact_start)::float8 as seconds, left(query, 200) as query,
            pg_terminate_backend(pid) as ended
       from pg_stat_activity
      where datname = current_database() and usename = current_user and application_name = $1
        and pid <> pg_backend_pid() and wait_event_type = 'Client' and wait_event = 'ClientRead'
        and xact_start < now() - make_interval(secs => $2)`,
    [APPLICATION_NAME, olderThanMs / 1000],
  );
  return rows
    .filter((r) => r.ended)
    .map((r) => ({ pid: Number(r.pid), transactionSeconds: Math.round(Number(r.seconds)), query: r.query }));
}

/** Marks running executions whose heartbeat is older than the lease FAILED (only `onlyId`, when
 *  given); returns their ids. */
export async function failStale(conn: Db, leaseMs: number, now: Date, onlyId?: number): Promise<number[]> {
  const cutoff = new Date(now.getTime() - leaseMs);
  const stale = await conn.all<{ job_execution_id: number; last_updated: unknown }>(
    `select job_execution_id, last_updated from batch_job_execution where status in ${RUNNING_SQL} and last_updated < $1${onlyId === undefined ? "" : " and job_execution_id = $2"}`,
    onlyId === undefined ? [cutoff] : [cutoff, onlyId],
  );
  const failed: number[] = [];
  for (const row of stale) {
    const since = toDate(row.last_updated)?.toISOString() ?? "unknown";
    const message = `no heartbeat since ${since} (lease ${leaseMs / 1000} s): the process running it stopped without finishing it; marked FAILED at ${now.toISOString()} and restartable`;
    const n = await conn.run(
      `update batch_job_execution set status = 'FAILED', exit_code = 'FAILED', exit_message = $1, end_time = $2,
         last_updated = $2, version = version + 1
       where job_execution_id = $3 and status in ${RUNNING_SQL} and last_updated < $4`,
      [message, now, row.job_execution_id, cutoff],
    );
    if (n === 0) continue;
    await endSteps(conn, row.job_execution_id, "FAILED", message, now);
    failed.push(row.job_execution_id);
  }
  return failed;
}

export async function endSteps(conn: Db, executionId: number, status: JobStatus, message: string, now: Date) {
  await conn.run(
    `update batch_step_execution set status = $1, exit_code = $1, exit_message = $2, end_time = $3, last_updated = $3,
       version = version + 1
     where job_execution_id = $4 and status in ${RUNNING_SQL}`,
    [status, message, now, executionId],
  );
}

export async function currentStatus(conn: Db, executionId: number): Promise<JobStatus | null> {
  const [row] = await conn.all<{ status: JobStatus }>(
    "select status from batch_job_execution where job_execution_id = $1",
    [executionId],
  );
  return row && isRunning(row.status) ? row.status : null;
}

/**
 * Written by the step (from its live counts) while it runs; hooks_adopted is not among them: the
 * ingest workers add to it (addHooksAdopted), during the scan and after the execution ended.
 */
export async function writeCounts(conn: Db, executionId: number, counts: Counts, now: Date, commit: boolean) {
  await conn.run(
    `update batch_step_execution set read_count = $1, hooks_checked = $2, monitor_published = $3,
       update_published = $4, delete_published = $5, process_skip_count = $6, write_count = $7,
       commit_count = commit_count + $8, last_updated = $9, unchanged_count = $11,
       version = version + 1
     where job_execution_id = $10 and status in ${RUNNING_SQL}`,
    [
      counts.read,
      counts.hooksChecked,
      counts.monitorPublished,
      counts.updatePublished,
      counts.deletePublished,
      counts.skipped,
      counts.monitorPublished + counts.updatePublished + counts.deletePublished,
      commit ? 1 : 0,
      now,
      executionId,
      counts.unchanged,
    ],
  );
}

/**
 * monitor-item adopted a legacy hook for this execution. An increment, not a write of a total:
 * several workers add to it at once, possibly after the execution ended.
 */
export async function addHooksAdopted(conn: Db, executionId: number, n: number) {
  await conn.run(
    "update batch_step_execution set hooks_adopted = hooks_adopted + $1 where job_execution_id = $2",
    [n, executionId],
  );
}

function nullableString(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function toExecution(row: Record<string, unknown>, params: Record<string, string>): JobExecution {
  const counts = zeroCounts();
  if (row.step_execution_id !== null && row.step_execution_id !== undefined) {
    counts.read = Number(row.read_count);
    counts.hooksChecked = Number(row.hooks_checked);
    counts.monitorPublished = Number(row.monitor_published);
    counts.updatePublished = Number(row.update_published);
    counts.deletePublished = Number(row.delete_published);
    counts.skipped = Number(row.process_skip_count);
    counts.unchanged = Number(row.unchanged_count ?? 0);
    counts.hooksAdopted = Number(row.hooks_adopted ?? 0);
  }
  return {
    id: Number(row.job_execution_id),
    jobInstanceId: Number(row.job_instance_id),
    jobName: String(row.job_name),
    status: row.status as JobStatus,
    exitCode: String(row.exit_code),
    exitMessage: String(row.exit_message ?? ""),
    createTime: toDate(row.create_time) ?? new Date(0),
    startTime: toDate(row.start_time),
    endTime: toDate(row.end_time),
    lastUpdated: toDate(row.last_updated) ?? new Date(0),
    trigger: row.trigger as Trigger,
    restartOf: row.restart_of === null || row.restart_of === undefined ? null : Number(row.restart_of),
    launchedBy: nullableString(row.launched_by),
    runner: nullableString(row.runner),
    mode: nullableString(row.mode),
    counts,
    params,
    stepExecutionId: row.step_execution_id == null ? null : Number(row.step_execution_id),
  };
}

export function shortContext(serialized: string): string {
  return serialized.length <= 2500 ? serialized : `${serialized.slice(0, 2480)}…(truncated)`;
}

export function parseContext(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function truncate(message: string): string {
  // Exit messages quote errors, which may quote a secret: stored redacted, like a log line.
  const safe = redact(message);
  return safe.length <= 2500 ? safe : `${safe.slice(0, 2490)}…`;
}

/** Start of the newest COMPLETED execution of the job (any mode), or null. */
export async function lastCompletedStart(conn: Db, jobName: string): Promise<Date | null> {
  const [row] = await conn.all<{ start_time: unknown }>(
    `select start_time from batch_job_execution where job_name = $1 and status = 'COMPLETED' and start_time is not null
     order by start_time desc limit 1`,
    [jobName],
  );
  return row ? toDate(row.start_time) : null;
}
