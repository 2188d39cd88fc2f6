/**
 * Postgres schema. Spring Batch-style job repository tables (same names and meanings as Spring
 * Batch's metadata schema, plus the columns item-sync needs) and the item tables. Kept column for
 * column in step with schema-sqlite.ts: the repository's SQL runs unchanged on both.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });
const RUNNING = sql`status in ('STARTING', 'STARTED', 'STOPPING')`;

/** One row per job name; launches lock it (SELECT … FOR UPDATE) so they serialise. */
export const batchJobLock = pgTable("batch_job_lock", {
  jobName: varchar("job_name", { length: 100 }).primaryKey(),
});

export const batchJobInstance = pgTable(
  "batch_job_instance",
  {
    jobInstanceId: bigserial("job_instance_id", { mode: "number" }).primaryKey(),
    version: bigint("version", { mode: "number" }).notNull().default(0),
    jobName: varchar("job_name", { length: 100 }).notNull(),
    jobKey: varchar("job_key", { length: 64 }).notNull(),
  },
  (t) => [uniqueIndex("batch_job_instance_key_uq").on(t.jobName, t.jobKey)],
);

export const batchJobExecution = pgTable(
  "batch_job_execution",
  {
    jobExecutionId: bigserial("job_execution_id", { mode: "number" }).primaryKey(),
    version: bigint("version", { mode: "number" }).notNull().default(0),
    jobInstanceId: bigint("job_instance_id", { mode: "number" })
      .notNull()
      .references(() => batchJobInstance.jobInstanceId),
    jobName: varchar("job_name", { length: 100 }).notNull(),
    createTime: ts("create_time").notNull(),
    startTime: ts("start_time"),
    endTime: ts("end_time"),
    status: varchar("status", { length: 10 }).notNull(),
    exitCode: varchar("exit_code", { length: 2500 }).notNull(),
    exitMessage: varchar("exit_message", { length: 2500 }).notNull().default(""),
    lastUpdated: ts("last_updated").notNull(),
    trigger: varchar("trigger", { length: 10 }).notNull(),
    restartOf: bigint("restart_of", { mode: "number" }),
    /** Who launched it: `token#N`, an OAuth2 subject, `cron` or `cli`. */
    launchedBy: varchar("launched_by", { length: 255 }),
    /** The host (pod) whose process runs it, so `kubectl logs` finds the run. */
    runner: varchar("runner", { length: 255 }),
    /** Scan mode: `full` or `incremental`. */
    mode: varchar("mode", { length: 20 }),
  },
  (t) => [
    uniqueIndex("batch_job_execution_one_running_uq").on(t.jobName).where(RUNNING),
    index("batch_job_execution_instance_idx").on(t.jobInstanceId),
    index("batch_job_execution_status_idx").on(t.status),
  ],
);

export const batchJobExecutionParams = pgTable(
  "batch_job_execution_params",
  {
    jobExecutionId: bigint("job_execution_id", { mode: "number" })
      .notNull()
      .references(() => batchJobExecution.jobExecutionId),
    parameterName: varchar("parameter_name", { length: 100 }).notNull(),
    parameterType: varchar("parameter_type", { length: 100 }).notNull(),
    parameterValue: varchar("parameter_value", { length: 2500 }),
    identifying: boolean("identifying").notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobExecutionId, t.parameterName] })],
);

export const batchStepExecution = pgTable(
  "batch_step_execution",
  {
    stepExecutionId: bigserial("step_execution_id", { mode: "number" }).primaryKey(),
    version: bigint("version", { mode: "number" }).notNull().default(0),
    stepName: varchar("step_name", { length: 100 }).notNull(),
    jobExecutionId: bigint("job_execution_id", { mode: "number" })
      .notNull()
      .references(() => batchJobExecution.jobExecutionId),
    createTime: ts("create_time").notNull(),
    startTime: ts("start_time"),
    endTime: ts("end_time"),
    status: varchar("status", { length: 10 }).notNull(),
    commitCount: bigint("commit_count", { mode: "number" }).notNull().default(0),
    readCount: bigint("read_count", { mode: "number" }).notNull().default(0),
    filterCount: bigint("filter_count", { mode: "number" }).notNull().default(0),
    writeCount: bigint("write_count", { mode: "number" }).notNull().default(0),
    readSkipCount: bigint("read_skip_count", { mode: "number" }).notNull().default(0),
    writeSkipCount: bigint("write_skip_count", { mode: "number" }).notNull().default(0),
    processSkipCount: bigint("process_skip_count", { mode: "number" }).notNull().default(0),
    rollbackCount: bigint("rollback_count", { mode: "number" }).notNull().default(0),
    hooksChecked: bigint("hooks_checked", { mode: "number" }).notNull().default(0),
    monitorPublished: bigint("monitor_published", { mode: "number" }).notNull().default(0),
    updatePublished: bigint("update_published", { mode: "number" }).notNull().default(0),
    deletePublished: bigint("delete_published", { mode: "number" }).notNull().default(0),
    unchangedCount: bigint("unchanged_count", { mode: "number" }).notNull().default(0),
    hooksAdopted: bigint("hooks_adopted", { mode: "number" }).notNull().default(0),
    exitCode: varchar("exit_code", { length: 2500 }).notNull(),
    exitMessage: varchar("exit_message", { length: 2500 }).notNull().default(""),
    lastUpdated: ts("last_updated").notNull(),
  },
  (t) => [index("batch_step_execution_job_idx").on(t.jobExecutionId)],
);

export const batchJobExecutionContext = pgTable("batch_job_execution_context", {
  jobExecutionId: bigint("job_execution_id", { mode: "number" })
    .primaryKey()
    .references(() => batchJobExecution.jobExecutionId),
  shortContext: varchar("short_context", { length: 2500 }).notNull(),
  serializedContext: text("serialized_context"),
});

export const batchStepExecutionContext = pgTable("batch_step_execution_context", {
  stepExecutionId: bigint("step_execution_id", { mode: "number" })
    .primaryKey()
    .references(() => batchStepExecution.stepExecutionId),
  shortContext: varchar("short_context", { length: 2500 }).notNull(),
  serializedContext: text("serialized_context"),
});

/** Projects a job instance's scan has seen (for the deletion pass), keyed by instance so a resume keeps them. */
export const syncSeenProject = pgTable(
  "sync_seen_project",
  {
    jobInstanceId: bigint("job_instance_id", { mode: "number" }).notNull(),
    projectId: bigint("project_id", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobInstanceId, t.projectId] })],
);

/**
 * item-sync's own facts about each project of the group (the IMRT item tables, in IMRT_SCHEMA,
 * hold what IMRT holds; src/items/ owns both): the listing fields an incremental scan compares,
 * our hook's state, GitLab's head as last seen, and what the last update-item made of it.
 * Until 2026-12 this table was `item` (with the commit and document of item-sync's own ingest).
 */
export const syncProject = pgTable(
  "sync_project",
  {
    projectId: bigint("project_id", { mode: "number" }).primaryKey(),
    projectPath: varchar("project_path", { length: 1000 }).notNull(),
    name: varchar("name", { length: 1000 }).notNull(),
    defaultBranch: varchar("default_branch", { length: 255 }),
    /** GitLab's head commit of the default branch as last seen (by update-item or a push). */
    headCommitHash: varchar("head_commit_hash", { length: 64 }),
    headCommitDate: ts("head_commit_date"),
    /** item.json at that head, kept only while the IMRT tables do not hold it (quarantined, or not ingested since the upgrade). */
    headItemJson: text("head_item_json"),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
    /** When our hook was last seen, created, or a delivery carrying our token arrived. */
    hookVerifiedAt: ts("hook_verified_at"),
    /** `ok`, `missing` or `disabled` (by GitLab, either kind: a hook event says which), as last seen; `hook_state_since`: when it last changed. */
    hookState: varchar("hook_state", { length: 30 }),
    hookStateSince: ts("hook_state_since"),
    /** What the last update-item made of the head: `ingested`, `no_item_json`, `empty`, `quarantined`. */
    ingestState: varchar("ingest_state", { length: 20 }),
    /** Why the document was quarantined (ingest_state `quarantined`). */
    ingestProblem: varchar("ingest_problem", { length: 2000 }),
    ingestedAt: ts("ingested_at"),
    ingestMessageId: varchar("ingest_message_id", { length: 200 }),
    lastPushAt: ts("last_push_at"),
    lastPushSha: varchar("last_push_sha", { length: 64 }),
    /** A head change awaits its ITEM_VALIDATION_URL call (set with the write, cleared by the call). */
    validationPending: boolean("validation_pending").notNull().default(false),
    /**
     * GitLab's head of the default branch as update-item last read it, written as soon as it is
     * read (before the IMRT write, which may fail): what "GitLab is ahead of the tables" is judged by.
     */
    seenHeadHash: varchar("seen_head_hash", { length: 64 }),
    seenHeadDate: ts("seen_head_date"),
    seenHeadAt: ts("seen_head_at"),
  },
  (t) => [index("sync_project_path_idx").on(t.projectPath)],
);

/**
 * Messages for a project that failed for good (dead-lettered by item-sync after their last attempt,
 * or left to the broker's delivery limit on their last delivery), one per project and message
 * type; removed when a later message of that type for the project succeeds.
 */
export const syncDeadLetter = pgTable(
  "sync_dead_letter",
  {
    projectId: bigint("project_id", { mode: "number" }).notNull(),
    messageType: varchar("message_type", { length: 20 }).notNull(),
    queue: varchar("queue", { length: 255 }).notNull(),
    messageId: varchar("message_id", { length: 200 }),
    reason: varchar("reason", { length: 2000 }).notNull(),
    attempts: integer("attempts").notNull(),
    /** `item-sync` (republished to `.dead` by the consumer) or `broker` (past x-delivery-limit) */
    deadLetteredBy: varchar("dead_lettered_by", { length: 20 }).notNull(),
    deadLetteredAt: ts("dead_lettered_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.messageType] })],
);

/** What update-item and delete-item did to each project, and why (message, execution). Was `item_log`. */
export const syncItemEvent = pgTable(
  "sync_item_event",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    projectId: bigint("project_id", { mode: "number" }).notNull(),
    action: varchar("action", { length: 20 }).notNull(),
    commitHash: varchar("commit_hash", { length: 64 }),
    commitDate: ts("commit_date"),
    jobExecutionId: bigint("job_execution_id", { mode: "number" }),
    messageId: varchar("message_id", { length: 200 }),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [index("sync_item_event_project_idx").on(t.projectId, t.id)],
);

/**
 * Deliveries of ingest messages that came back unsettled (RabbitMQ's redelivered flag), counted
 * across processes: classic queues carry no delivery count, so a message that stops every worker
 * handling it would otherwise come back for ever. A row lives until its message is settled.
 */
export const ingestRedelivery = pgTable(
  "ingest_redelivery",
  {
    queue: varchar("queue", { length: 255 }).notNull(),
    messageId: varchar("message_id", { length: 200 }).notNull(),
    deliveries: integer("deliveries").notNull(),
    firstSeenAt: ts("first_seen_at").notNull(),
    lastSeenAt: ts("last_seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.queue, t.messageId] })],
);
