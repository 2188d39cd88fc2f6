/**
 * Items as the API and the dashboard show them: each project item-sync knows (sync_project)
 * joined with what the IMRT tables hold for it (item_git → item) — the IMRT fields the contract
 * names, the commit the tables are at, a quarantine's reason — and one item's commit history
 * (`item_log`, with authors) and item-sync's own events for it.
 */
import { type Db, toDate } from "../db/client.ts";
import type { ImrtTables } from "./imrt-names.ts";
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
   */
  list(opts: { limit: number; after?: number; q?: string }): Promise<ItemView[]>;
  get(projectId: number): Promise<ItemView | null>;
  /** The item's item_log rows, newest commit first. */
  /** Every item_log row of the item (one per commit of its default branch), newest first. */
  commits(projectId: number): Promise<CommitEntry[]>;
  events(projectId: number, limit: number): Promise<ItemEvent[]>;
  /** Items the IMRT tables hold (what the search service sees), not projects merely scanned. */
  count(): Promise<number>;
}

export function createItemViews(db: Db, tables: ImrtTables): ItemViews {
  const select = `select p.project_id, p.project_path, p.name, p.default_branch, p.created_at as p_created_at,
      p.updated_at as p_updated_at, p.ingest_state, p.ingest_problem, p.head_item_json,
      g.current_commit_hash, g.current_commit_date, i.id, i.item_type, i.classification, i.workflow_status,
      i.subject, i.grade, i.updated_by, i.item_created_by, i.item_created_at, i.workflow_status_set_at,
      i.associated_stimulus_id, i.item_json, i.created_at, i.updated_at
    from sync_project p
    left join ${tables.item_git} g on g.project_id = p.project_id
    left join ${tables.item} i on i.key = g.item_key`;
  return {
    async list({ limit, after, q }) {
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
      params.push(limit);
      const filter = where.length > 0 ? `where ${where.join(" and ")}` : "";
      const rows = await db.all(`${select} ${filter} order by p.project_id limit $${params.length}`, params);
      return rows.map(toView);
    },
    async get(projectId) {
      const [row] = await db.all(`${select} where p.project_id = $1`, [projectId]);
      return row ? toView(row) : null;
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

function toView(row: Record<string, unknown>): ItemView {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const int = (v: unknown) => (v === null || v === undefined ? null : Number(v));
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
  };
}
