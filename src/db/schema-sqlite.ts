/**
 * SQLite schema. Spring Batch-style job repository tables (same names and meanings as Spring
 * Batch's metadata schema, plus the columns item-sync needs) and the item tables. Kept column for
 * column in step with schema-pg.ts: the repository's SQL runs unchanged on both.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Times are epoch milliseconds in SQLite. */
const ts = (name: string) => integer(name, { mode: "timestamp_ms" });
const RUNNING = sql`status in ('STARTING', 'STARTED', 'STOPPING')`;

/** One row per job name; launches lock it (SELECT … FOR UPDATE) so they serialise. */
export const batchJobLock = sqliteTable("batch_job_lock", {
  jobName: text("job_name").primaryKey(),
});

export const batchJobInstance = sqliteTable(
  "batch_job_instance",
  {
    jobInstanceId: integer("job_instance_id").primaryKey({ autoIncrement: true }),
    version: integer("version").notNull().default(0),
    jobName: text("job_name").notNull(),
    jobKey: text("job_key").notNull(),
  },
  (t) => [uniqueIndex("batch_job_instance_key_uq").on(t.jobName, t.jobKey)],
);

export const batchJobExecution = sqliteTable(
  "batch_job_execution",
  {
    jobExecutionId: integer("job_execution_id").primaryKey({ autoIncrement: true }),
    version: integer("version").notNull().default(0),
    jobInstanceId: integer("job_instance_id")
      .notNull()
      .references(() => batchJobInstance.jobInstanceId),
    jobName: text("job_name").notNull(),
    createTime: ts("create_time").notNull(),
    startTime: ts("start_time"),
    endTime: ts("end_time"),
    status: text("status").notNull(),
    exitCode: text("exit_code").notNull(),
    exitMessage: text("exit_message").notNull().default(""),
    lastUpdated: ts("last_updated").notNull(),
    trigger: text("trigger").notNull(),
    restartOf: integer("restart_of"),
    /** Who launched it: `token#N`, an OAuth2 subject, `cron` or `cli`. */
    launchedBy: text("launched_by"),
    /** The host (pod) whose process runs it, so `kubectl logs` finds the run. */
    runner: text("runner"),
    /** Scan mode: `full` or `incremental`. */
    mode: text("mode"),
  },
  (t) => [
    uniqueIndex("batch_job_execution_one_running_uq").on(t.jobName).where(RUNNING),
    index("batch_job_execution_instance_idx").on(t.jobInstanceId),
    index("batch_job_execution_status_idx").on(t.status),
  ],
);

export const batchJobExecutionParams = sqliteTable(
  "batch_job_execution_params",
  {
    jobExecutionId: integer("job_execution_id")
      .notNull()
      .references(() => batchJobExecution.jobExecutionId),
    parameterName: text("parameter_name").notNull(),
    parameterType: text("parameter_type").notNull(),
    parameterValue: text("parameter_value"),
    identifying: integer("identifying", { mode: "boolean" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobExecutionId, t.parameterName] })],
);

export const batchStepExecution = sqliteTable(
  "batch_step_execution",
  {
    stepExecutionId: integer("step_execution_id").primaryKey({ autoIncrement: true }),
    version: integer("version").notNull().default(0),
    stepName: text("step_name").notNull(),
    jobExecutionId: integer("job_execution_id")
      .notNull()
      .references(() => batchJobExecution.jobExecutionId),
    createTime: ts("create_time").notNull(),
    startTime: ts("start_time"),
    endTime: ts("end_time"),
    status: text("status").notNull(),
    commitCount: integer("commit_count").notNull().default(0),
    readCount: integer("read_count").notNull().default(0),
    filterCount: integer("filter_count").notNull().default(0),
    writeCount: integer("write_count").notNull().default(0),
    readSkipCount: integer("read_skip_count").notNull().default(0),
    writeSkipCount: integer("write_skip_count").notNull().default(0),
    processSkipCount: integer("process_skip_count").notNull().default(0),
    rollbackCount: integer("rollback_count").notNull().default(0),
    hooksChecked: integer("hooks_checked").notNull().default(0),
    monitorPublished: integer("monitor_published").notNull().default(0),
    updatePublished: integer("update_published").notNull().default(0),
    deletePublished: integer("delete_published").notNull().default(0),
    unchangedCount: integer("unchanged_count").notNull().default(0),
    hooksAdopted: integer("hooks_adopted").notNull().default(0),
    exitCode: text("exit_code").notNull(),
    exitMessage: text("exit_message").notNull().default(""),
    lastUpdated: ts("last_updated").notNull(),
  },
  (t) => [index("batch_step_execution_job_idx").on(t.jobExecutionId)],
);

export const batchJobExecutionContext = sqliteTable("batch_job_execution_context", {
  jobExecutionId: integer("job_execution_id")
    .primaryKey()
    .references(() => batchJobExecution.jobExecutionId),
  shortContext: text("short_context").notNull(),
  serializedContext: text("serialized_context"),
});

export const batchStepExecutionContext = sqliteTable("batch_step_execution_context", {
  stepExecutionId: integer("step_execution_id")
    .primaryKey()
    .references(() => batchStepExecution.stepExecutionId),
  shortContext: text("short_context").notNull(),
  serializedContext: text("serialized_context"),
});

/** Projects a job instance's scan has seen (for the deletion pass), keyed by instance so a resume keeps them. */
export const syncSeenProject = sqliteTable(
  "sync_seen_project",
  {
    jobInstanceId: integer("job_instance_id").notNull(),
    projectId: integer("project_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobInstanceId, t.projectId] })],
);

/** item-sync's own facts about each project (see schema-pg.ts). Until 2026-12 this table was `item`. */
export const syncProject = sqliteTable(
  "sync_project",
  {
    projectId: integer("project_id").primaryKey(),
    projectPath: text("project_path").notNull(),
    name: text("name").notNull(),
    defaultBranch: text("default_branch"),
    headCommitHash: text("head_commit_hash"),
    headCommitDate: ts("head_commit_date"),
    headItemJson: text("head_item_json"),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
    hookVerifiedAt: ts("hook_verified_at"),
    hookState: text("hook_state"),
    hookStateSince: ts("hook_state_since"),
    ingestState: text("ingest_state"),
    ingestProblem: text("ingest_problem"),
    ingestedAt: ts("ingested_at"),
    ingestMessageId: text("ingest_message_id"),
    lastPushAt: ts("last_push_at"),
    lastPushSha: text("last_push_sha"),
    validationPending: integer("validation_pending", { mode: "boolean" }).notNull().default(false),
    seenHeadHash: text("seen_head_hash"),
    seenHeadDate: ts("seen_head_date"),
    seenHeadAt: ts("seen_head_at"),
  },
  (t) => [index("sync_project_path_idx").on(t.projectPath)],
);

/** A project's messages that failed for good (see schema-pg.ts). */
export const syncDeadLetter = sqliteTable(
  "sync_dead_letter",
  {
    projectId: integer("project_id").notNull(),
    messageType: text("message_type").notNull(),
    queue: text("queue").notNull(),
    messageId: text("message_id"),
    reason: text("reason").notNull(),
    attempts: integer("attempts").notNull(),
    deadLetteredBy: text("dead_lettered_by").notNull(),
    deadLetteredAt: ts("dead_lettered_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.messageType] })],
);

/** What update-item and delete-item did to each project (see schema-pg.ts). Was `item_log`. */
export const syncItemEvent = sqliteTable(
  "sync_item_event",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: integer("project_id").notNull(),
    action: text("action").notNull(),
    commitHash: text("commit_hash"),
    commitDate: ts("commit_date"),
    jobExecutionId: integer("job_execution_id"),
    messageId: text("message_id"),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [index("sync_item_event_project_idx").on(t.projectId, t.id)],
);

/**
 * Deliveries of ingest messages that came back unsettled (RabbitMQ's redelivered flag), counted
 * across processes: classic queues carry no delivery count, so a message that stops every worker
 * handling it would otherwise come back for ever. A row lives until its message is settled.
 */
export const ingestRedelivery = sqliteTable(
  "ingest_redelivery",
  {
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    deliveries: integer("deliveries").notNull(),
    firstSeenAt: ts("first_seen_at").notNull(),
    lastSeenAt: ts("last_seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.queue, t.messageId] })],
);
