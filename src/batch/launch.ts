/**
 * Launching a job execution, in one transaction holding the job's lock row (Postgres) or the
 * write lock (SQLite BEGIN IMMEDIATE): fail dead executions, report a running one, skip a cron
 * slot that already ran, resume the newest FAILED/STOPPED instance, or start a new instance.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Db } from "../db/client.ts";
import { failStale, getExecution, RUNNING_SQL, shortContext } from "./sql.ts";
import {
  type JobStatus,
  type LaunchRequest,
  type LaunchResult,
  RESTARTABLE_STATUSES,
  type ScanMode,
} from "./types.ts";

export async function launchIn(
  tx: Db,
  req: LaunchRequest,
  now: Date,
  leaseMs: number,
): Promise<LaunchResult> {
  if (tx.dialect === "pg") {
    await tx.run("insert into batch_job_lock (job_name) values ($1) on conflict do nothing", [req.jobName]);
    await tx.all("select job_name from batch_job_lock where job_name = $1 for update", [req.jobName]);
  }
  await failStale(tx, leaseMs, now);
  const [running] = await tx.all<{ job_execution_id: number }>(
    `select job_execution_id from batch_job_execution where job_name = $1 and status in ${RUNNING_SQL}
     order by job_execution_id desc limit 1`,
    [req.jobName],
  );
  if (running) return { kind: "running", runningId: running.job_execution_id };

  const found = await findInstance(tx, req);
  if (found.kind === "duplicate") return found;
  const instance = found.kind === "resume" ? found : await newInstance(tx, req);
  const mode = await resolveMode(tx, req, instance.restartOf, instance.restartedMode, now);
  const executionId = await insertExecution(tx, req, instance, mode, now);
  const execution = await getExecution(tx, executionId);
  if (!execution) throw new Error(`execution ${executionId} vanished inside its own launch`);
  return { kind: "started", execution };
}

/** The instance a new execution belongs to, and what it carries over from the one it resumes. */
interface Instance {
  instanceId: number;
  identifying: Record<string, string>;
  restartOf: number | null;
  restartedMode: string | null;
  /** the step context (checkpoint) the new execution starts from, as stored JSON */
  stepContext: string;
}

/**
 * With identifying parameters (a cron slot): a slot that already has an instance is a
 * duplicate. Without: the newest execution, when FAILED or STOPPED, is resumed (unless `fresh`),
 * keeping its identifying parameters, mode and checkpoint. Otherwise a new instance is needed.
 */
async function findInstance(
  tx: Db,
  req: LaunchRequest,
): Promise<{ kind: "duplicate"; executionId: number } | ({ kind: "resume" } & Instance) | { kind: "new" }> {
  if (req.identifying) {
    const [existing] = await tx.all<{ job_instance_id: number }>(
      "select job_instance_id from batch_job_instance where job_name = $1 and job_key = $2",
      [req.jobName, jobKey(req.identifying)],
    );
    if (!existing) return { kind: "new" };
    const [last] = await tx.all<{ job_execution_id: number }>(
      "select max(job_execution_id) as job_execution_id from batch_job_execution where job_instance_id = $1",
      [existing.job_instance_id],
    );
    return { kind: "duplicate", executionId: last?.job_execution_id ?? 0 };
  }
  if (req.fresh) return { kind: "new" };
  const [newest] = await tx.all<{
    job_instance_id: number;
    job_execution_id: number;
    status: JobStatus;
    mode: string | null;
  }>(
    `select e.job_instance_id, e.job_execution_id, e.status, e.mode from batch_job_execution e
     where e.job_name = $1 order by e.job_execution_id desc limit 1`,
    [req.jobName],
  );
  if (!newest || !RESTARTABLE_STATUSES.includes(newest.status)) return { kind: "new" };
  const restartOf = newest.job_execution_id;
  const params = await tx.all<{ parameter_name: string; parameter_value: string }>(
    "select parameter_name, parameter_value from batch_job_execution_params where job_execution_id = $1 and identifying = $2",
    [restartOf, true],
  );
  const [ctx] = await tx.all<{ short_context: string; serialized_context: string | null }>(
    `select c.short_context, c.serialized_context from batch_step_execution_context c
     join batch_step_execution s on s.step_execution_id = c.step_execution_id
     where s.job_execution_id = $1 order by s.step_execution_id desc limit 1`,
    [restartOf],
  );
  return {
    kind: "resume",
    instanceId: newest.job_instance_id,
    identifying: Object.fromEntries(params.map((p) => [p.parameter_name, p.parameter_value])),
    restartOf,
    restartedMode: newest.mode ?? null,
    stepContext: ctx ? (ctx.serialized_context ?? ctx.short_context) : "{}",
  };
}

/** A new instance: the cron slot's identifying parameters, or a fresh `run.id`. */
async function newInstance(tx: Db, req: LaunchRequest): Promise<Instance> {
  const identifying = req.identifying ?? { "run.id": randomUUID() };
  const [inst] = await tx.all<{ job_instance_id: number }>(
    "insert into batch_job_instance (version, job_name, job_key) values (0, $1, $2) returning job_instance_id",
    [req.jobName, jobKey(identifying)],
  );
  return {
    instanceId: inst?.job_instance_id ?? 0,
    identifying,
    restartOf: null,
    restartedMode: null,
    stepContext: "{}",
  };
}

/** The execution's rows: execution, parameters, contexts and its one step, all STARTING. */
async function insertExecution(
  tx: Db,
  req: LaunchRequest,
  instance: Instance,
  mode: ScanMode | null,
  now: Date,
): Promise<number> {
  const [exec] = await tx.all<{ job_execution_id: number }>(
    `insert into batch_job_execution (version, job_instance_id, job_name, create_time, status, exit_code, exit_message,
       last_updated, trigger, restart_of, launched_by, runner, mode)
     values (0, $1, $2, $3, 'STARTING', 'UNKNOWN', '', $3, $4, $5, $6, $7, $8) returning job_execution_id`,
    [
      instance.instanceId,
      req.jobName,
      now,
      req.trigger,
      instance.restartOf,
      req.launchedBy ?? null,
      req.runner ?? null,
      mode,
    ],
  );
  const executionId = exec?.job_execution_id ?? 0;
  const allParams: [string, string, boolean][] = [
    ...Object.entries(instance.identifying).map(([k, v]): [string, string, boolean] => [k, v, true]),
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
    [step?.step_execution_id, shortContext(instance.stepContext), instance.stepContext],
  );
  return executionId;
}

/**
 * The mode the new execution runs in. A resumed one keeps its predecessor's (an execution from
 * before modes existed was a full scan), so its checkpoint means the same thing; `auto` is
 * `full` when no full scan COMPLETED within `fullEveryMs`, else `incremental`.
 */
async function resolveMode(
  tx: Db,
  req: LaunchRequest,
  restartOf: number | null,
  restartedMode: string | null,
  now: Date,
): Promise<ScanMode | null> {
  if (req.mode === undefined || req.mode === null) return null;
  if (restartOf !== null) return restartedMode === "incremental" ? "incremental" : "full";
  if (req.mode !== "auto") return req.mode;
  const since = new Date(now.getTime() - (req.fullEveryMs ?? 0));
  const [recentFull] = await tx.all<{ job_execution_id: number }>(
    `select job_execution_id from batch_job_execution
     where job_name = $1 and status = 'COMPLETED' and coalesce(mode, 'full') = 'full' and end_time >= $2
     order by job_execution_id desc limit 1`,
    [req.jobName, since],
  );
  return recentFull ? "incremental" : "full";
}

function jobKey(identifying: Record<string, string>): string {
  const canonical = Object.keys(identifying)
    .sort()
    .map((k) => `${k}=${identifying[k]}`)
    .join(";");
  return createHash("md5").update(canonical).digest("hex");
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "23505" || /UNIQUE constraint failed/i.test(e?.message ?? "");
}
