/**
 * The item tables: `item` (one row per project, at its latest synced commit) and `item_log`
 * (what changed, when, because of which message). Plain SQL over the dialect-neutral Db.
 */
import { type Db, toDate } from "../db/client.ts";

export interface Item {
  projectId: number;
  projectPath: string;
  name: string;
  defaultBranch: string | null;
  currentCommitHash: string | null;
  currentCommitDate: Date | null;
  itemJson: unknown | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ItemRevision {
  projectId: number;
  projectPath: string;
  name: string;
  defaultBranch: string | null;
  commitHash: string | null;
  commitDate: Date | null;
  itemJson: unknown | null;
}

export interface ItemLogEntry {
  id: number;
  action: string;
  commitHash: string | null;
  commitDate: Date | null;
  jobExecutionId: number | null;
  messageId: string | null;
  createdAt: Date;
}

export interface ItemStore {
  get(projectId: number): Promise<Item | null>;
  /**
   * Projects ordered by id; `after` is the last id of the previous page; `pathContains` keeps
   * only projects whose path contains it, ignoring case.
   */
  list(opts: { limit: number; after?: number; pathContains?: string }): Promise<Item[]>;
  /**
   * Brings the item to `revision` in one transaction (upsert + log). Returns "unchanged" when the
   * item is already at that commit with the same path, so a redelivered message changes nothing.
   */
  apply(
    revision: ItemRevision,
    source: { jobExecutionId: number | null; messageId: string | null },
    now?: Date,
  ): Promise<"created" | "updated" | "unchanged">;
  /**
   * Removes the item's row and records the deletion in item_log, in one transaction. Returns
   * false when there was no row (a repeated delete-item changes nothing).
   */
  remove(
    projectId: number,
    source: { jobExecutionId: number | null; messageId: string | null },
    now?: Date,
  ): Promise<boolean>;
  history(projectId: number, limit: number): Promise<ItemLogEntry[]>;
  /**
   * Records that our hook exists on the project (created, found, or it delivered a push with our
   * token), so incremental scans may skip its hook check for a while. No item row: nothing.
   */
  markHookVerified(projectId: number, at?: Date): Promise<void>;
  count(): Promise<number>;
}

const COLUMNS = `project_id, project_path, name, default_branch, current_commit_hash, current_commit_date, item_json,
  created_at, updated_at`;

export function createItemStore(db: Db): ItemStore {
  return {
    async get(projectId) {
      const [row] = await db.all(`select ${COLUMNS} from item where project_id = $1`, [projectId]);
      return row ? toItem(row) : null;
    },
    async list({ limit, after, pathContains }) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (after !== undefined) {
        params.push(after);
        where.push(`project_id > $${params.length}`);
      }
      if (pathContains !== undefined && pathContains !== "") {
        params.push(`%${escapeLike(pathContains.toLowerCase())}%`);
        // The same text on SQLite and Postgres: lower() on both sides, backslash as the escape.
        where.push(`lower(project_path) like $${params.length} escape '\\'`);
      }
      params.push(limit);
      const filter = where.length > 0 ? `where ${where.join(" and ")}` : "";
      const rows = await db.all(
        `select ${COLUMNS} from item ${filter} order by project_id limit $${params.length}`,
        params,
      );
      return rows.map(toItem);
    },
    async apply(rev, source, now = new Date()) {
      const json = rev.itemJson === null || rev.itemJson === undefined ? null : JSON.stringify(rev.itemJson);
      return db.transaction(async (tx) => {
        const [current] = await tx.all<{
          current_commit_hash: string | null;
          project_path: string;
          name: string;
          default_branch: string | null;
        }>("select current_commit_hash, project_path, name, default_branch from item where project_id = $1", [
          rev.projectId,
        ]);
        // The default branch counts too: an incremental scan compares it with the listing, and a
        // branch switch to the same commit would otherwise be re-published on every run.
        if (
          current &&
          current.current_commit_hash === rev.commitHash &&
          current.project_path === rev.projectPath &&
          current.name === rev.name &&
          (current.default_branch ?? null) === rev.defaultBranch
        ) {
          return "unchanged";
        }
        if (current) {
          await tx.run(
            `update item set project_path = $1, name = $2, default_branch = $3, current_commit_hash = $4,
               current_commit_date = $5, item_json = $6, updated_at = $7
             where project_id = $8`,
            [
              rev.projectPath,
              rev.name,
              rev.defaultBranch,
              rev.commitHash,
              rev.commitDate,
              json,
              now,
              rev.projectId,
            ],
          );
        } else {
          await tx.run(`insert into item (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, [
            rev.projectId,
            rev.projectPath,
            rev.name,
            rev.defaultBranch,
            rev.commitHash,
            rev.commitDate,
            json,
            now,
          ]);
        }
        const action = current ? "updated" : "created";
        await tx.run(
          `insert into item_log (project_id, action, commit_hash, commit_date, job_execution_id, message_id, created_at)
           values ($1, $2, $3, $4, $5, $6, $7)`,
          [
            rev.projectId,
            action,
            rev.commitHash,
            rev.commitDate,
            source.jobExecutionId,
            source.messageId,
            now,
          ],
        );
        return action;
      });
    },
    async remove(projectId, source, now = new Date()) {
      return db.transaction(async (tx) => {
        const [current] = await tx.all<{ current_commit_hash: string | null; current_commit_date: unknown }>(
          "select current_commit_hash, current_commit_date from item where project_id = $1",
          [projectId],
        );
        if (!current) return false;
        await tx.run("delete from item where project_id = $1", [projectId]);
        await tx.run(
          `insert into item_log (project_id, action, commit_hash, commit_date, job_execution_id, message_id, created_at)
           values ($1, 'deleted', $2, $3, $4, $5, $6)`,
          [
            projectId,
            current.current_commit_hash,
            toDate(current.current_commit_date),
            source.jobExecutionId,
            source.messageId,
            now,
          ],
        );
        return true;
      });
    },
    async history(projectId, limit) {
      const rows = await db.all<Record<string, unknown>>(
        `select id, action, commit_hash, commit_date, job_execution_id, message_id, created_at from item_log
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
    },
    async markHookVerified(projectId, at = new Date()) {
      await db.run("update item set hook_verified_at = $1 where project_id = $2", [at, projectId]);
    },
    async count() {
      const [row] = await db.all<{ n: number }>("select count(*) as n from item");
      return Number(row?.n ?? 0);
    },
  };
}

/** A LIKE pattern's wildcards (and the escape character itself) taken literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toItem(row: Record<string, unknown>): Item {
  let itemJson: unknown = null;
  if (typeof row.item_json === "string") {
    try {
      itemJson = JSON.parse(row.item_json);
    } catch {
      itemJson = null;
    }
  }
  return {
    projectId: Number(row.project_id),
    projectPath: String(row.project_path),
    name: String(row.name),
    defaultBranch: (row.default_branch as string | null) ?? null,
    currentCommitHash: (row.current_commit_hash as string | null) ?? null,
    currentCommitDate: toDate(row.current_commit_date),
    itemJson,
    createdAt: toDate(row.created_at) ?? new Date(0),
    updatedAt: toDate(row.updated_at) ?? new Date(0),
  };
}
