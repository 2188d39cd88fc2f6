/**
 * The job repository: every read and write of the batch_* tables, as named operations over the
 * dialect-neutral `Db`. Nothing outside this file writes SQL against those tables.
 */
import { createHash, randomUUID } from "node:crypto";
import { type Db, toDate } from "../db/client.ts";
import { ConflictError, NotFoundError } from "../lib/errors.ts";
import {
  type Counts,
  isRunning,
  type JobExecution,
  type JobStatus,
  type LaunchRequest,
  type LaunchResult,
  RESTARTABLE_STATUSES,
  RUNNING_STATUSES,
  type StepExecution,
  type Trigger,
  zeroCounts,
} from "./types.ts";

const RUNNING_SQL = `(${RUNNING_STATUSES.map((s) => `'${s}'`).join(", ")})`;

const EXECUTION_COLUMNS = `e.job_execution_id, e.job_instance_id, e.job_name, e.status, e.exit_code, e.exit_message,
  e.create_time, e.start_time, e.end_time, e.last_updated, e.trigger, e.restart_of,
  s.step_execution_id, s.read_count, s.hooks_checked, s.monitor_published, s.update_published,
  s.delete_published, s.process_skip_count`;
const EXECUTION_FROM = `batch_job_execution e left join batch_step_execution s on s.job_execution_id = e.job_execution_id`;

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
  /** Heartbeat + live counts. Returns the execution's status now, or null when no longer running. */
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
  /** Marks running executions whose heartbeat is older than the lease FAILED; returns their ids. */
  failStale(leaseMs: number, now?: Date): Promise<number[]>;
}

export function createJobRepository(db: Db, opts: { leaseMs: number }): JobRepository {
  async function get(id: number, conn: Db = db): Promise<JobExecution | null> {
    const [row] = await conn.all(
      `select ${EXECUTION_COLUMNS} from ${EXECUTION_FROM} where e.job_execution_id = $1`,
      [id],
    );
    if (!row) return null;
    const params = await conn.all<{ parameter_name: string; parameter_value: string | null }>(
      "select parameter_name, parameter_value from batch_job_execution_params where job_execution_id = $1",
      [id],
    );
    return toExecution(
      row,
      Object.fromEntries(params.map((p) => [p.parameter_name, p.parameter_value ?? ""])),
    );
  }

  async function failStale(conn: Db, leaseMs: number, now: Date): Promise<number[]> {
    const cutoff = new Date(now.getTime() - leaseMs);
    const stale = await conn.all<{ job_execution_id: number; last_updated: unknown }>(
      `select job_execution_id, last_updated from batch_job_execution where status in ${RUNNING_SQL} and last_updated < $1`,
      [cutoff],
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

  async function endSteps(conn: Db, executionId: number, status: JobStatus, message: string, now: Date) {
    await conn.run(
      `update batch_step_execution set status = $1, exit_code = $1, exit_message = $2, end_time = $3, last_updated = $3,
         version = version + 1
       where job_execution_id = $4 and status in ${RUNNING_SQL}`,
      [status, message, now, executionId],
    );
  }

  async function currentStatus(conn: Db, executionId: number): Promise<JobStatus | null> {
    const [row] = await conn.all<{ status: JobStatus }>(
      "select status from batch_job_execution where job_execution_id = $1",
      [executionId],
    );
    return row && isRunning(row.status) ? row.status : null;
  }

  async function writeCounts(conn: Db, executionId: number, counts: Counts, now: Date, commit: boolean) {
    await conn.run(
      `update batch_step_execution set read_count = $1, hooks_checked = $2, monitor_published = $3,
         update_published = $4, delete_published = $5, process_skip_count = $6, write_count = $7,
         commit_count = commit_count + $8, last_updated = $9, version = version + 1
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
      ],
    );
  }

  async function launchIn(tx: Db, req: LaunchRequest, now: Date): Promise<LaunchResult> {
    if (tx.dialect === "pg") {
      await tx.run("insert into batch_job_lock (job_name) values ($1) on conflict do nothing", [req.jobName]);
      await tx.all("select job_name from batch_job_lock where job_name = $1 for update", [req.jobName]);
    }
    await failStale(tx, opts.leaseMs, now);
    const [running] = await tx.all<{ job_execution_id: number }>(
      `select job_execution_id from batch_job_execution where job_name = $1 and status in ${RUNNING_SQL}
       order by job_execution_id desc limit 1`,
      [req.jobName],
    );
    if (running) return { kind: "running", runningId: running.job_execution_id };

    let instanceId: number | undefined;
    let restartOf: number | null = null;
    let identifying: Record<string, string> = {};
    let stepContext = "{}";

    if (req.identifying) {
      identifying = req.identifying;
      const [existing] = await tx.all<{ job_instance_id: number }>(
        "select job_instance_id from batch_job_instance where job_name = $1 and job_key = $2",
        [req.jobName, jobKey(identifying)],
      );
      if (existing) {
        const [last] = await tx.all<{ job_execution_id: number }>(
          "select max(job_execution_id) as job_execution_id from batch_job_execution where job_instance_id = $1",
          [existing.job_instance_id],
        );
        return { kind: "duplicate", executionId: last?.job_execution_id ?? 0 };
      }
    } else if (!req.fresh) {
      const [newest] = await tx.all<{ job_instance_id: number; job_execution_id: number; status: JobStatus }>(
        `select e.job_instance_id, e.job_execution_id, e.status from batch_job_execution e
         where e.job_name = $1 order by e.job_execution_id desc limit 1`,
        [req.jobName],
      );
      if (newest && RESTARTABLE_STATUSES.includes(newest.status)) {
        instanceId = newest.job_instance_id;
        restartOf = newest.job_execution_id;
        const params = await tx.all<{ parameter_name: string; parameter_value: string }>(
          "select parameter_name, parameter_value from batch_job_execution_params where job_execution_id = $1 and identifying = $2",
          [restartOf, true],
        );
        identifying = Object.fromEntries(params.map((p) => [p.parameter_name, p.parameter_value]));
        const [ctx] = await tx.all<{ short_context: string; serialized_context: string | null }>(
          `select c.short_context, c.serialized_context from batch_step_execution_context c
           join batch_step_execution s on s.step_execution_id = c.step_execution_id
           where s.job_execution_id = $1 order by s.step_execution_id desc limit 1`,
          [restartOf],
        );
        if (ctx) stepContext = ctx.serialized_context ?? ctx.short_context;
      }
    }

    if (instanceId === undefined) {
      if (!req.identifying) identifying = { "run.id": randomUUID() };
      const [inst] = await tx.all<{ job_instance_id: number }>(
        "insert into batch_job_instance (version, job_name, job_key) values (0, $1, $2) returning job_instance_id",
        [req.jobName, jobKey(identifying)],
      );
      instanceId = inst?.job_instance_id ?? 0;
    }

    const [exec] = await tx.all<{ job_execution_id: number }>(
      `insert into batch_job_execution (version, job_instance_id, job_name, create_time, status, exit_code, exit_message,
         last_updated, trigger, restart_of)
       values (0, $1, $2, $3, 'STARTING', 'UNKNOWN', '', $3, $4, $5) returning job_execution_id`,
      [instanceId, req.jobName, now, req.trigger, restartOf],
    );
    const executionId = exec?.job_execution_id ?? 0;
    const allParams: [string, string, boolean][] = [
      ...Object.entries(identifying).map(([k, v]): [string, string, boolean] => [k, v, true]),
      ...Object.entries(req.params ?? {}).map(([k, v]): [string, string, boolean] => [k, v, false]),
    ];
    for (const [name, value, ident] of allParams) {
      await tx.run(
        `insert into batch_job_execution_params (job_execution_id, parameter_name, parameter_type, parameter_value, identifying)
         values ($1, $2, 'STRING', $3, $4)`,
        [executionId, name, value, ident],
      );
    }
    await tx.run(
      "insert into batch_job_execution_context (job_execution_id, short_context, serialized_context) values ($1, '{}', null)",
      [executionId],
    );
    const [step] = await tx.all<{ step_execution_id: number }>(
      `insert into batch_step_execution (version, step_name, job_execution_id, create_time, status, exit_code, last_updated)
       values (0, $1, $2, $3, 'STARTING', 'UNKNOWN', $3) returning step_execution_id`,
      [req.stepName, executionId, now],
    );
    await tx.run(
      "insert into batch_step_execution_context (step_execution_id, short_context, serialized_context) values ($1, $2, $3)",
      [step?.step_execution_id, shortContext(stepContext), stepContext],
    );
    const execution = await get(executionId, tx);
    if (!execution) throw new Error(`execution ${executionId} vanished inside its own launch`);
    return { kind: "started", execution };
  }

  return {
    async launch(req, now = new Date()) {
      try {
        return await db.transaction((tx) => launchIn(tx, req, now));
      } catch (err) {
        // Second guard: the partial unique index on running executions. Only reachable if the
        // lock above were bypassed; report the running execution like any other conflict.
        if (!isUniqueViolation(err)) throw err;
        const running = await this.running(req.jobName);
        if (running) return { kind: "running", runningId: running.id };
        throw err;
      }
    },

    get: (id) => get(id),

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
      return row ? get(row.job_execution_id) : null;
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
        await tx.run(
          `update batch_job_execution set last_updated = $1 where job_execution_id = $2 and status in ${RUNNING_SQL}`,
          [now, executionId],
        );
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
          `update batch_job_execution set last_updated = $1 where job_execution_id = $2 and status in ${RUNNING_SQL}
           returning status`,
          [now, executionId],
        );
        if (!row) return null; // reset or failed by someone else: write nothing
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
        // job row first, then the step rows (see saveCheckpoint)
        const n = await tx.run(
          `update batch_job_execution set status = $1, exit_code = $1, exit_message = $2, end_time = $3, last_updated = $3,
             version = version + 1
           where job_execution_id = $4 and status in ${RUNNING_SQL}`,
          [status, truncate(exitMessage), now, executionId],
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
        const execution = await get(id, tx);
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
        return (await get(id, tx)) ?? execution;
      });
    },

    async reset(id, { force, leaseMs }, now = new Date()) {
      return db.transaction(async (tx) => {
        const execution = await get(id, tx);
        if (!execution) throw new NotFoundError(`job execution ${id} does not exist`);
        if (!isRunning(execution.status)) {
          throw new ConflictError(
            "JOB_ALREADY_TERMINAL",
            `job execution ${id} is already ${execution.status}; reset applies only to an execution that is not finished`,
          );
        }
        const age = now.getTime() - execution.lastUpdated.getTime();
        if (age < leaseMs && !force) {
          throw new ConflictError(
            "JOB_HEARTBEAT_FRESH",
            `job execution ${id} sent a heartbeat ${Math.round(age / 1000)} s ago (lease ${leaseMs / 1000} s): it is alive. Stop it with POST /jobs/${id}/stop, or reset with ?force=true to abandon it anyway`,
          );
        }
        const message =
          age < leaseMs
            ? `reset by an operator (forced while its heartbeat was fresh) at ${now.toISOString()}`
            : `reset by an operator at ${now.toISOString()}; last heartbeat ${execution.lastUpdated.toISOString()}`;
        await tx.run(
          `update batch_job_execution set status = 'ABANDONED', exit_code = 'ABANDONED', exit_message = $1, end_time = $2,
             last_updated = $2, version = version + 1
           where job_execution_id = $3`,
          [message, now, id],
        );
        await endSteps(tx, id, "ABANDONED", message, now);
        return (await get(id, tx)) ?? execution;
      });
    },

    failStale: (leaseMs, now = new Date()) => db.transaction((tx) => failStale(tx, leaseMs, now)),
  };
}

function toExecution(row: Record<string, unknown>, params: Record<string, string>): JobExecution {
  const counts = zeroCounts();
  if (row.step_execution_id !== null && row.step_execution_id !== undefined) {
    counts.read = Number(row.read_count);
    counts.hooksChecked = Number(row.hooks_checked);
    counts.monitorPublished = Number(row.monitor_published);
    counts.updatePublished = Number(row.update_published);
    counts.deletePublished = Number(row.delete_published);
    counts.skipped = Number(row.process_skip_count);
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
    counts,
    params,
    stepExecutionId: row.step_execution_id == null ? null : Number(row.step_execution_id),
  };
}

function jobKey(identifying: Record<string, string>): string {
  const canonical = Object.keys(identifying)
    .sort()
    .map((k) => `${k}=${identifying[k]}`)
    .join(";");
  return createHash("md5").update(canonical).digest("hex");
}

function shortContext(serialized: string): string {
  return serialized.length <= 2500 ? serialized : `${serialized.slice(0, 2480)}…(truncated)`;
}

function parseContext(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function truncate(message: string): string {
  return message.length <= 2500 ? message : `${message.slice(0, 2490)}…`;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "23505" || /UNIQUE constraint failed/i.test(e?.message ?? "");
}
