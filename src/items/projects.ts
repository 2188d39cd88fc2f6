/**
 * item-sync's own facts about each project of the group, in DATABASE_SCHEMA: `sync_project` (the
 * listing fields an incremental scan compares, our hook's state, GitLab's head as last seen, what
 * the last update-item made of it) and `sync_item_event` (what update-item and delete-item did,
 * with the message and execution behind it). The IMRT tables hold what IMRT holds (imrt-*.ts).
 * One family of SQL, `db` first, as batch/sql.ts.
 */
import { type Db, toBool, toDate } from "../db/client.ts";

/** A project as GitLab lists it: the fields a scan and update-item both know. */
export interface ProjectFacts {
  projectId: number;
  projectPath: string;
  name: string;
  defaultBranch: string | null;
}

/** What update-item made of the project's head. */
export const INGEST_STATES = {
  ingested: "ingested",
  noItemJson: "no_item_json",
  empty: "empty",
  quarantined: "quarantined",
} as const;
export type IngestState = (typeof INGEST_STATES)[keyof typeof INGEST_STATES];

export interface SyncProject extends ProjectFacts {
  headCommitHash: string | null;
  headCommitDate: Date | null;
  headItemJson: string | null;
  hookVerifiedAt: Date | null;
  hookState: string | null;
  hookStateSince: Date | null;
  ingestState: IngestState | null;
  ingestProblem: string | null;
  ingestedAt: Date | null;
  ingestMessageId: string | null;
  lastPushAt: Date | null;
  lastPushSha: string | null;
  validationPending: boolean;
  /** GitLab's head as update-item last read it (item-status.ts writes it), before any write. */
  seenHeadHash: string | null;
  seenHeadDate: Date | null;
  seenHeadAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ItemEvent {
  id: number;
  action: string;
  commitHash: string | null;
  commitDate: Date | null;
  jobExecutionId: number | null;
  messageId: string | null;
  createdAt: Date;
}

/** The message (and execution) an event is written for. */
export interface EventSource {
  jobExecutionId: number | null;
  messageId: string | null;
}

export const PROJECT_COLUMNS = `project_id, project_path, name, default_branch, head_commit_hash, head_commit_date,
  head_item_json, hook_verified_at, hook_state, hook_state_since, ingest_state, ingest_problem, ingested_at,
  ingest_message_id, last_push_at, last_push_sha, validation_pending, seen_head_hash, seen_head_date, seen_head_at,
  created_at, updated_at`;

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(", ");

export async function getProject(db: Db, projectId: number): Promise<SyncProject | null> {
  const [row] = await db.all(`select ${PROJECT_COLUMNS} from sync_project where project_id = $1`, [
    projectId,
  ]);
  return row ? toSyncProject(row) : null;
}

export async function getProjects(db: Db, projectIds: readonly number[]): Promise<SyncProject[]> {
  if (projectIds.length === 0) return [];
  const rows = await db.all(
    `select ${PROJECT_COLUMNS} from sync_project where project_id in (${placeholders(projectIds.length)})`,
    [...projectIds],
  );
  return rows.map(toSyncProject);
}

/**
 * A scan's page, before its messages are published: projects not known yet get a row with their
 * listing fields (never ingested, so the next incremental scan still updates them), so whatever
 * monitor-item records of their hook has a row to land on. The listing fields of known projects
 * are left to update-item, so a lost update-item is published again by the next incremental scan.
 */
export async function recordListed(db: Db, projects: readonly ProjectFacts[], at: Date): Promise<void> {
  if (projects.length === 0) return;
  const values = projects.map((_, i) => `(${placeholders(4, 4 * i + 2)}, $1, $1)`).join(", ");
  await db.run(
    `insert into sync_project (project_id, project_path, name, default_branch, created_at, updated_at)
     values ${values} on conflict (project_id) do nothing`,
    [at, ...projects.flatMap((p) => [p.projectId, p.projectPath, p.name, p.defaultBranch])],
  );
}

/**
 * A scan's page, once its messages are published: the rows (recordListed, for a page recorded
 * before a crash), then what the hook checks found — `hookVerified` get `hook_verified_at`, the
 * others their state — all of it whether or not an update-item has handled the project yet.
 * `at`: when the page's checks began.
 */
export async function recordScanned(
  db: Db,
  projects: readonly ProjectFacts[],
  hookVerified: readonly number[],
  at: Date,
  hookProblems: readonly { projectId: number; state: "missing" | "disabled" }[] = [],
): Promise<void> {
  await recordListed(db, projects, at);
  await markHooksVerified(db, hookVerified, at);
  await recordHookStates(db, hookProblems, at, at);
}

/**
 * Our hook's state on a project (`sync_project.hook_state`): `ok` (present and executable),
 * `missing`, or `disabled` — GitLab switched it off after failed deliveries, either kind; the
 * `hook_disabled` / `hook_temp_disabled` event says which, and until when.
 */
export type HookState = "ok" | "missing" | "disabled";

/**
 * Events of our hook in `sync_item_event` (no commit): GitLab had disabled it — for good
 * (`hook_disabled`) or for a while (`hook_temp_disabled`, `commit_date` holding GitLab's
 * `disabled_until`); monitor-item re-enabled it (`hook_reenabled`) or GitLab kept it disabled
 * (`hook_still_disabled`: the next sync tries again).
 */
export const HOOK_EVENTS = {
  disabled: "hook_disabled",
  temporarilyDisabled: "hook_temp_disabled",
  reenabled: "hook_reenabled",
  stillDisabled: "hook_still_disabled",
} as const;

export async function addHookEvent(
  db: Db,
  projectId: number,
  action: (typeof HOOK_EVENTS)[keyof typeof HOOK_EVENTS],
  disabledUntil: Date | null,
  source: EventSource,
  at: Date,
): Promise<void> {
  await db.run(
    `insert into sync_item_event (project_id, action, commit_hash, commit_date, job_execution_id, message_id, created_at)
     values ($1, $2, null, $3, $4, $5, $6)`,
    [projectId, action, disabledUntil, source.jobExecutionId, source.messageId, at],
  );
}

/**
 * Our hook found missing or disabled (known projects only); `hook_state_since` moves only when
 * the state changes. `unlessVerifiedSince`: a scan's finding, left alone on a project whose hook
 * was verified after the scan looked (monitor-item got there first).
 */
export async function recordHookStates(
  db: Db,
  states: readonly { projectId: number; state: Exclude<HookState, "ok"> }[],
  at: Date,
  unlessVerifiedSince?: Date,
): Promise<void> {
  for (const state of ["missing", "disabled"] as const) {
    const ids = states.filter((s) => s.state === state).map((s) => s.projectId);
    if (ids.length === 0) continue;
    const guard = unlessVerifiedSince
      ? ` and (hook_verified_at is null or hook_verified_at < $${ids.length + 4})`
      : "";
    // the state twice: Postgres deduces one type per parameter, and SET and = would differ
    await db.run(
      `update sync_project set hook_state = $1,
         hook_state_since = case when hook_state = $3 then hook_state_since else $2 end
       where project_id in (${placeholders(ids.length, 4)})${guard}`,
      [state, at, state, ...ids, ...(unlessVerifiedSince ? [unlessVerifiedSince] : [])],
    );
  }
}

/** Our hook was seen, created, adopted or re-enabled on these projects at `at` (unknown projects: nothing). */
export async function markHooksVerified(db: Db, projectIds: readonly number[], at: Date): Promise<void> {
  if (projectIds.length === 0) return;
  await db.run(
    `update sync_project set hook_verified_at = $1, hook_state = 'ok',
       hook_state_since = case when hook_state = 'ok' then hook_state_since else $1 end
     where project_id in (${placeholders(projectIds.length, 2)})`,
    [at, ...projectIds],
  );
}

/** A push for the project reached the webhook receiver (known projects only). */
export async function recordPush(db: Db, projectId: number, sha: string, at: Date): Promise<void> {
  await db.run("update sync_project set last_push_at = $1, last_push_sha = $2 where project_id = $3", [
    at,
    sha,
    projectId,
  ]);
}

/**
 * The project as update-item just read it from GitLab, and what it made of the head; inserted when
 * unknown. Runs inside the write transaction of the IMRT rows, so both change together.
 */
export async function recordIngest(
  tx: Db,
  facts: ProjectFacts,
  outcome: {
    state: IngestState;
    head: { hash: string; date: Date } | null;
    /** the document when the IMRT tables do not hold it (quarantined), else null */
    headItemJson: string | null;
    problem: string | null;
    validationPending?: boolean;
  },
  source: EventSource,
  at: Date,
): Promise<void> {
  const params = [
    facts.projectId,
    facts.projectPath,
    facts.name,
    facts.defaultBranch,
    outcome.head?.hash ?? null,
    outcome.head?.date ?? null,
    outcome.headItemJson,
    outcome.state,
    outcome.problem,
    at,
    source.messageId,
    outcome.validationPending ?? false,
  ];
  await tx.run(
    `insert into sync_project (project_id, project_path, name, default_branch, head_commit_hash, head_commit_date,
       head_item_json, ingest_state, ingest_problem, ingested_at, ingest_message_id, validation_pending,
       created_at, updated_at)
     values (${placeholders(12)}, $10, $10)
     on conflict (project_id) do update set project_path = excluded.project_path, name = excluded.name,
       default_branch = excluded.default_branch, head_commit_hash = excluded.head_commit_hash,
       head_commit_date = excluded.head_commit_date, head_item_json = excluded.head_item_json,
       ingest_state = excluded.ingest_state, ingest_problem = excluded.ingest_problem,
       ingested_at = excluded.ingested_at, ingest_message_id = excluded.ingest_message_id,
       validation_pending = excluded.validation_pending or sync_project.validation_pending,
       updated_at = excluded.updated_at`,
    params,
  );
}

export async function clearValidationPending(db: Db, projectId: number): Promise<void> {
  await db.run("update sync_project set validation_pending = $1 where project_id = $2", [false, projectId]);
}

export async function addEvent(
  tx: Db,
  projectId: number,
  action: string,
  commit: { hash: string; date: Date } | null,
  source: EventSource,
  at: Date,
): Promise<void> {
  await tx.run(
    `insert into sync_item_event (project_id, action, commit_hash, commit_date, job_execution_id, message_id, created_at)
     values ($1, $2, $3, $4, $5, $6, $7)`,
    [
      projectId,
      action,
      commit?.hash ?? null,
      commit?.date ?? null,
      source.jobExecutionId,
      source.messageId,
      at,
    ],
  );
}

/** Newest first. */
export async function events(db: Db, projectId: number, limit: number): Promise<ItemEvent[]> {
  const rows = await db.all<Record<string, unknown>>(
    `select id, action, commit_hash, commit_date, job_execution_id, message_id, created_at from sync_item_event
     where project_id = $1 order by id desc limit $2`,
    [projectId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    action: String(r.action),
    commitHash: (r.commit_hash as string | null) ?? null,
    commitDate: toDate(r.commit_date),
    jobExecutionId: r.job_execution_id == null ? null : Number(r.job_execution_id),
    messageId: (r.message_id as string | null) ?? null,
    createdAt: toDate(r.created_at) ?? new Date(0),
  }));
}

/** Forgets the project (its IMRT rows go in the same transaction: imrt-delete.ts). */
export async function removeProject(tx: Db, projectId: number): Promise<boolean> {
  return (await tx.run("delete from sync_project where project_id = $1", [projectId])) > 0;
}

export function toSyncProject(row: Record<string, unknown>): SyncProject {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    projectId: Number(row.project_id),
    projectPath: String(row.project_path),
    name: String(row.name),
    defaultBranch: text(row.default_branch),
    headCommitHash: text(row.head_commit_hash),
    headCommitDate: toDate(row.head_commit_date),
    headItemJson: text(row.head_item_json),
    hookVerifiedAt: toDate(row.hook_verified_at),
    hookState: text(row.hook_state),
    hookStateSince: toDate(row.hook_state_since),
    ingestState: text(row.ingest_state) as IngestState | null,
    ingestProblem: text(row.ingest_problem),
    ingestedAt: toDate(row.ingested_at),
    ingestMessageId: text(row.ingest_message_id),
    lastPushAt: toDate(row.last_push_at),
    lastPushSha: text(row.last_push_sha),
    validationPending: toBool(row.validation_pending),
    seenHeadHash: text(row.seen_head_hash),
    seenHeadDate: toDate(row.seen_head_date),
    seenHeadAt: toDate(row.seen_head_at),
    createdAt: toDate(row.created_at) ?? new Date(0),
    updatedAt: toDate(row.updated_at) ?? new Date(0),
  };
}

/** Whether item-sync itself wrote the project's IMRT rows at that commit (a created/updated event). */
export async function wroteRevision(db: Db, projectId: number, commitHash: string): Promise<boolean> {
  const rows = await db.all(
    `select 1 from sync_item_event where project_id = $1 and commit_hash = $2 and action in ('created', 'updated') limit 1`,
    [projectId, commitHash],
  );
  return rows.length > 0;
}
