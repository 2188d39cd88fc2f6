/**
 * Items as the API and the dashboard show them: each project item-sync knows (sync_project)
 * joined with what the IMRT tables hold for it (item_git → item) — the IMRT fields the contract
 * names, the commit the tables are at, a quarantine's reason, and its status block (why it is or
 * is not stale: item-status.ts) — and one item's commit history (`item_log`, with authors) and
 * item-sync's own events for it.
 */
import { type Db, toDate } from "../db/client.ts";
import type { ImrtTables } from "./imrt-names.ts";
import {
  BEHIND_SQL,
  createDeadLetterLog,
  type DeadLetterRecord,
  type ItemStatus,
  itemStatus,
  STALE_SQL,
  type StatusFacts,
} from "./item-status.ts";
import { events, type IngestState, type ItemEvent } from "./projects.ts";

export interface ItemView {
  projectId: number;
  projectPath: string;
  name: string;
  defaultBranch: string | null;
  currentCommitHash: string | null;
  currentCommitDate: Date | null;
  itemJson: unknown | null;
  createdAt: Date;
  updatedAt: Date;
  itemId: number | null;
  itemType: string | null;
  classification: string | null;
  workflowStatus: string | null;
  subject: string | null;
  grade: string | null;
  updatedBy: string | null;
  itemCreatedBy: string | null;
  itemCreatedAt: Date | null;
  workflowStatusSetAt: Date | null;
  associatedStimulusId: number | null;
  ingestState: IngestState | null;
  /** Why the head's item.json is quarantined; null when it is not. */
  problem: string | null;
  /** Why it is (or is not) stale: GitLab's last seen head, the tables' commit, pushes, hook, dead letters. */
  status: ItemStatus;
}

export interface CommitEntry {
  commitHash: string;
  commitDate: Date | null;
  author: string;
}

export interface ItemViews {
  /**
   * By project id; `after` is the last id of the previous page. `q` keeps projects whose path
   * contains it (any case), or, when it is a number, whose IMRT item id or project id it is.
   * `stale` keeps the items whose tables lag GitLab's last seen head, quarantined ones and those
   * with a dead letter (item-status.ts).
   */
  list(opts: { limit: number; after?: number; q?: string; stale?: boolean }): Promise<ItemView[]>;
  get(projectId: number): Promise<ItemView | null>;
  /** The item's item_log rows, newest commit first. */
  /** Every item_log row of the item (one per commit of its default branch), newest first. */
  commits(projectId: number): Promise<CommitEntry[]>;
  events(projectId: number, limit: number): Promise<ItemEvent[]>;
  /** Items the IMRT tables hold (what the search service sees), not projects merely scanned. */
  count(): Promise<number>;
}

export function createItemViews(db: Db, tables: ImrtTables): ItemViews {
  const deadLetters = createDeadLetterLog(db);
  const select = `select p.project_id, p.project_path, p.name, p.default_branch, p.created_at as p_created_at,
      p.updated_at as p_updated_at, p.ingest_state, p.ingest_problem, p.head_item_json,
      p.head_commit_hash, p.head_commit_date, p.seen_head_hash, p.seen_head_date, p.seen_head_at,
      p.last_push_at, p.last_push_sha, p.ingested_at, p.ingest_message_id, p.hook_state, p.hook_state_since,
      case when ${BEHIND_SQL} then 1 else 0 end as behind,
      g.current_commit_hash, g.current_commit_date, i.id, i.item_type, i.classification, i.workflow_status,
      i.subject, i.grade, i.updated_by, i.item_created_by, i.item_created_at, i.workflow_status_set_at,
      i.associated_stimulus_id, i.item_json, i.created_at, i.updated_at
    from sync_project p
    left join ${tables.item_git} g on g.project_id = p.project_id
    left join ${tables.item} i on i.key = g.item_key`;
  /** The rows as views, with each one's dead letters (one query for the page). */
  const views = async (rows: Record<string, unknown>[]): Promise<ItemView[]> => {
    const dead = await deadLetters.forProjects(rows.map((r) => Number(r.project_id)));
    return rows.map((r) => toView(r, dead.get(Number(r.project_id)) ?? []));
  };
  return {
    async list({ limit, after, q, stale }) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (after !== undefined) {
        params.push(after);
        where.push(`p.project_id > $${params.length}`);
      }
      if (q !== undefined && q !== "") {
        params.push(`%${escapeLike(q.toLowerCase())}%`);
        // The same text on SQLite and Postgres: lower() on both sides, backslash as the escape.
        const byPath = `lower(p.project_path) like $${params.length} escape '\\'`;
        if (/^\d{1,15}$/.test(q)) {
          params.push(Number(q));
          where.push(`(${byPath} or i.id = $${params.length} or p.project_id = $${params.length})`);
        } else {
          where.push(byPath);
        }
      }
      if (stale) where.push(STALE_SQL);
      params.push(limit);
      const filter = where.length > 0 ? `where ${where.join(" and ")}` : "";
      const rows = await db.all(`${select} ${filter} order by p.project_id limit $${params.length}`, params);
      return views(rows);
    },
    async get(projectId) {
      const rows = await db.all(`${select} where p.project_id = $1`, [projectId]);
      return (await views(rows))[0] ?? null;
    },
    async commits(projectId) {
      const rows = await db.all<Record<string, unknown>>(
        `select l.commit_hash, l.commit_date, l.updated_by from ${tables.item_log} l
         join ${tables.item_git} g on g.item_key = l.item_key
         where g.project_id = $1 order by l.commit_date desc, l.commit_hash`,
        [projectId],
      );
      return rows.map((r) => ({
        commitHash: String(r.commit_hash),
        commitDate: toDate(r.commit_date),
        author: String(r.updated_by ?? ""),
      }));
    },
    events: (projectId, limit) => events(db, projectId, limit),
    async count() {
      const [row] = await db.all<{ n: number }>(`select count(*) as n from ${tables.item_git}`);
      return Number(row?.n ?? 0);
    },
  };
}

/** A LIKE pattern's wildcards (and the escape character itself) taken literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Postgres hands `json` columns over parsed; SQLite keeps text. */
function parsed(value: unknown): unknown | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

function toView(row: Record<string, unknown>, deadLetters: DeadLetterRecord[]): ItemView {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const int = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const facts: StatusFacts = {
    behind: Number(row.behind) === 1,
    seenHeadHash: text(row.seen_head_hash),
    seenHeadDate: toDate(row.seen_head_date),
    seenHeadAt: toDate(row.seen_head_at),
    headCommitHash: text(row.head_commit_hash),
    headCommitDate: toDate(row.head_commit_date),
    currentCommitHash: text(row.current_commit_hash),
    currentCommitDate: toDate(row.current_commit_date),
    lastPushAt: toDate(row.last_push_at),
    lastPushSha: text(row.last_push_sha),
    ingestedAt: toDate(row.ingested_at),
    ingestMessageId: text(row.ingest_message_id),
    ingestState: text(row.ingest_state),
    ingestProblem: text(row.ingest_problem),
    hookState: text(row.hook_state),
    hookStateSince: toDate(row.hook_state_since),
  };
  return {
    projectId: Number(row.project_id),
    projectPath: String(row.project_path),
    name: String(row.name),
    defaultBranch: text(row.default_branch),
    currentCommitHash: text(row.current_commit_hash),
    currentCommitDate: toDate(row.current_commit_date),
    itemJson: parsed(row.item_json) ?? parsed(row.head_item_json),
    createdAt: toDate(row.created_at) ?? toDate(row.p_created_at) ?? new Date(0),
    updatedAt: toDate(row.updated_at) ?? toDate(row.p_updated_at) ?? new Date(0),
    itemId: int(row.id),
    itemType: text(row.item_type),
    classification: text(row.classification),
    workflowStatus: text(row.workflow_status),
    subject: text(row.subject),
    grade: text(row.grade),
    updatedBy: text(row.updated_by),
    itemCreatedBy: text(row.item_created_by),
    itemCreatedAt: toDate(row.item_created_at),
    workflowStatusSetAt: toDate(row.workflow_status_set_at),
    associatedStimulusId: int(row.associated_stimulus_id),
    ingestState: text(row.ingest_state) as IngestState | null,
    problem: text(row.ingest_problem),
    status: itemStatus(facts, deadLetters),
  };
}
