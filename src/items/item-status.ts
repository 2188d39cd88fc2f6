/**
 * Why an item is stale: the facts behind `GET /items/{projectId}`'s `status` block and
 * `GET /items?stale=true`, and the two records only this part writes —
 *   - GitLab's head as update-item last read it (`sync_project.seen_head_*`), written as soon as it
 *     is read, so a write that then fails (and its message dead-lettered) leaves "GitLab is at X,
 *     the tables at Y" behind;
 *   - a project's messages that failed for good (`sync_dead_letter`): dead-lettered by the consumer
 *     after their last attempt, or, on a quorum queue, left to the broker's delivery limit on their
 *     last delivery (otherwise invisible per project). A later success of the same message type
 *     for the project removes it.
 * An item is stale when its tables lag GitLab's last seen head (a scan's update-item, or a push
 * received since), when its head is quarantined, or when it has a dead letter. A project whose
 * last seen head has no item.json is not stale: it has nothing to ingest.
 */
import { type Db, toDate } from "../db/client.ts";
import type { SyncProject } from "./projects.ts";

/** update-item read GitLab's head: remember it unless it is already what we remember. */
export async function recordSeenHead(
  db: Db,
  known: SyncProject | null,
  projectId: number,
  head: { hash: string; date: Date },
  at: Date,
): Promise<void> {
  // also when a push arrived since our last sighting: the push's sha must not outrank this read
  const pushSince = known?.lastPushAt && (!known.seenHeadAt || known.lastPushAt >= known.seenHeadAt);
  if (known && known.seenHeadHash === head.hash && !pushSince) return;
  await db.run(
    "update sync_project set seen_head_hash = $1, seen_head_date = $2, seen_head_at = $3 where project_id = $4",
    [head.hash, head.date, at, projectId],
  );
}

export type DeadLetteredBy = "item-sync" | "broker";

export interface DeadLetterRecord {
  projectId: number;
  messageType: string;
  queue: string;
  messageId: string | null;
  reason: string;
  attempts: number;
  /** `item-sync`: republished to `{queue}.dead` by the consumer; `broker`: past x-delivery-limit */
  deadLetteredBy: DeadLetteredBy;
  deadLetteredAt: Date;
}

/** The per-project record of dead letters (sync_dead_letter). */
export interface DeadLetterLog {
  record(entry: DeadLetterRecord): Promise<void>;
  /** A message of this type for the project succeeded; `null`: every type (the item is gone). */
  clear(projectId: number, messageType: string | null): Promise<void>;
  /** By project id, newest first within each. */
  forProjects(projectIds: readonly number[]): Promise<Map<number, DeadLetterRecord[]>>;
}

export function createDeadLetterLog(db: Db): DeadLetterLog {
  return {
    async record(e) {
      await db.run(
        `insert into sync_dead_letter (project_id, message_type, queue, message_id, reason, attempts,
           dead_lettered_by, dead_lettered_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (project_id, message_type) do update set queue = excluded.queue,
           message_id = excluded.message_id, reason = excluded.reason, attempts = excluded.attempts,
           dead_lettered_by = excluded.dead_lettered_by, dead_lettered_at = excluded.dead_lettered_at`,
        [
          e.projectId,
          e.messageType,
          e.queue,
          e.messageId,
          e.reason.slice(0, 2000),
          e.attempts,
          e.deadLetteredBy,
          e.deadLetteredAt,
        ],
      );
    },
    async clear(projectId, messageType) {
      if (messageType === null) {
        await db.run("delete from sync_dead_letter where project_id = $1", [projectId]);
      } else {
        await db.run("delete from sync_dead_letter where project_id = $1 and message_type = $2", [
          projectId,
          messageType,
        ]);
      }
    },
    async forProjects(projectIds) {
      const out = new Map<number, DeadLetterRecord[]>();
      if (projectIds.length === 0) return out;
      const list = projectIds.map((_, i) => `$${i + 1}`).join(", ");
      const rows = await db.all<Record<string, unknown>>(
        `select project_id, message_type, queue, message_id, reason, attempts, dead_lettered_by, dead_lettered_at
         from sync_dead_letter where project_id in (${list}) order by dead_lettered_at desc`,
        [...projectIds],
      );
      for (const r of rows) {
        const entry: DeadLetterRecord = {
          projectId: Number(r.project_id),
          messageType: String(r.message_type),
          queue: String(r.queue),
          messageId: r.message_id == null ? null : String(r.message_id),
          reason: String(r.reason),
          attempts: Number(r.attempts),
          deadLetteredBy: r.dead_lettered_by === "broker" ? "broker" : "item-sync",
          deadLetteredAt: toDate(r.dead_lettered_at) ?? new Date(0),
        };
        const list = out.get(entry.projectId) ?? [];
        list.push(entry);
        out.set(entry.projectId, list);
      }
      return out;
    },
  };
}

/**
 * SQL over `sync_project p` left-joined with `item_git g` (the same text on Postgres and SQLite).
 * GitLab's last seen head: a push received after update-item's last reading, else that reading
 * (rows from before seen_head_* existed: the head update-item last recorded).
 */
const SEEN_AT = "coalesce(p.seen_head_at, p.ingested_at)";
export const GITLAB_HEAD_SQL = `case when p.last_push_at is not null and (${SEEN_AT} is null or p.last_push_at > ${SEEN_AT})
  then p.last_push_sha else coalesce(p.seen_head_hash, p.head_commit_hash) end`;
/** The tables lag GitLab's last seen head — unless update-item found that head without item.json. */
export const BEHIND_SQL = `(${GITLAB_HEAD_SQL} is not null
  and (g.current_commit_hash is null or ${GITLAB_HEAD_SQL} <> g.current_commit_hash)
  and not (${GITLAB_HEAD_SQL} = p.head_commit_hash and p.ingest_state in ('no_item_json', 'empty')))`;
/** Behind, quarantined, or with a dead letter. */
export const STALE_SQL = `(${BEHIND_SQL} or p.ingest_state = 'quarantined'
  or exists (select 1 from sync_dead_letter d where d.project_id = p.project_id))`;

/** Why an item is stale, as the status block names it. */
export type StaleReason = "behind" | "quarantined" | "dead_letter";

/** The facts of one project's row the status block is made of (item-views.ts selects them). */
export interface StatusFacts {
  behind: boolean;
  seenHeadHash: string | null;
  seenHeadDate: Date | null;
  seenHeadAt: Date | null;
  headCommitHash: string | null;
  headCommitDate: Date | null;
  currentCommitHash: string | null;
  currentCommitDate: Date | null;
  lastPushAt: Date | null;
  lastPushSha: string | null;
  ingestedAt: Date | null;
  ingestMessageId: string | null;
  ingestState: string | null;
  ingestProblem: string | null;
  hookState: string | null;
  hookStateSince: Date | null;
}

export interface ItemStatus {
  stale: boolean;
  reasons: StaleReason[];
  /** GitLab's head as last seen: by update-item's reading (`update-item`) or a push received since (`push`). */
  gitlabHead: {
    commitHash: string;
    commitDate: Date | null;
    seenAt: Date | null;
    seenBy: "update-item" | "push";
  } | null;
  /** The commit the IMRT tables hold (item_git). */
  tables: { commitHash: string; commitDate: Date | null } | null;
  lastPush: { at: Date; sha: string | null } | null;
  lastUpdate: { at: Date; messageId: string | null; outcome: string | null } | null;
  hook: { state: string | null; since: Date | null };
  quarantine: { problem: string } | null;
  deadLetters: DeadLetterRecord[];
}

export function itemStatus(f: StatusFacts, deadLetters: DeadLetterRecord[]): ItemStatus {
  const seenAt = f.seenHeadAt ?? f.ingestedAt;
  const pushNewer = f.lastPushAt !== null && (seenAt === null || f.lastPushAt > seenAt);
  const seenHash = f.seenHeadHash ?? f.headCommitHash;
  const gitlabHead =
    pushNewer && f.lastPushSha
      ? { commitHash: f.lastPushSha, commitDate: null, seenAt: f.lastPushAt, seenBy: "push" as const }
      : seenHash
        ? {
            commitHash: seenHash,
            commitDate: f.seenHeadHash ? f.seenHeadDate : f.headCommitDate,
            seenAt,
            seenBy: "update-item" as const,
          }
        : null;
  const quarantined = f.ingestState === "quarantined";
  const reasons: StaleReason[] = [];
  if (f.behind) reasons.push("behind");
  if (quarantined) reasons.push("quarantined");
  if (deadLetters.length > 0) reasons.push("dead_letter");
  return {
    stale: reasons.length > 0,
    reasons,
    gitlabHead,
    tables: f.currentCommitHash ? { commitHash: f.currentCommitHash, commitDate: f.currentCommitDate } : null,
    lastPush: f.lastPushAt ? { at: f.lastPushAt, sha: f.lastPushSha } : null,
    lastUpdate: f.ingestedAt
      ? { at: f.ingestedAt, messageId: f.ingestMessageId, outcome: f.ingestState }
      : null,
    hook: { state: f.hookState, since: f.hookStateSince },
    quarantine: quarantined ? { problem: f.ingestProblem ?? "" } : null,
    deadLetters,
  };
}
