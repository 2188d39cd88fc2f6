/**
 * Which projects a job instance's scan has seen, kept in the database (sync_seen_project) so it
 * scales to 100,000 projects and survives a resume; and the items that were not seen, read in
 * pages, for the deletion pass. The items are the projects item-sync knows (sync_project) and
 * those the IMRT tables hold (item_git: also items the replaced service ingested).
 */
import { assertOwnedIn, type WriteOwner } from "../batch/fence.ts";
import type { Db } from "../db/client.ts";
import type { ImrtTables } from "./imrt-names.ts";

export interface UnseenItem {
  projectId: number;
  projectPath: string;
}

/**
 * The writes take the execution making them: given, each runs in a transaction that first checks
 * the execution is still owned (batch/fence.ts) and writes nothing, throwing LeaseLostError, if not.
 */
export interface SeenStore {
  /** Forgets the seen sets of every other instance (only one execution runs at a time). */
  keepOnly(jobInstanceId: number, owner?: WriteOwner): Promise<void>;
  record(jobInstanceId: number, projectIds: readonly number[], owner?: WriteOwner): Promise<void>;
  itemCount(): Promise<number>;
  countUnseen(jobInstanceId: number): Promise<number>;
  /** Unseen items with project id above `after`, by id, at most `limit`. */
  unseen(jobInstanceId: number, after: number, limit: number): Promise<UnseenItem[]>;
  clear(jobInstanceId: number, owner?: WriteOwner): Promise<void>;
}

export function createSeenStore(db: Db, tables: ImrtTables): SeenStore {
  // every item: a project item-sync knows, or one only the IMRT tables hold (its path: the group's)
  const ITEMS = `(select project_id, project_path from sync_project
    union select g.project_id, g.project_path from ${tables.item_git} g
      where not exists (select 1 from sync_project p where p.project_id = g.project_id))`;
  const UNSEEN = `from ${ITEMS} i where not exists (
    select 1 from sync_seen_project s where s.job_instance_id = $1 and s.project_id = i.project_id)`;
  /** One write, fenced when an owner is given. */
  const write = async (owner: WriteOwner | undefined, query: string, params: unknown[]) => {
    if (!owner) {
      await db.run(query, params);
      return;
    }
    await db.transaction(async (tx) => {
      await assertOwnedIn(tx, owner);
      await tx.run(query, params);
    });
  };
  return {
    async keepOnly(jobInstanceId, owner) {
      await write(owner, "delete from sync_seen_project where job_instance_id <> $1", [jobInstanceId]);
    },
    async record(jobInstanceId, projectIds, owner) {
      if (projectIds.length === 0) return;
      const values = projectIds.map((_, i) => `($1, $${i + 2})`).join(", ");
      await write(
        owner,
        `insert into sync_seen_project (job_instance_id, project_id) values ${values} on conflict do nothing`,
        [jobInstanceId, ...projectIds],
      );
    },
    async itemCount() {
      const [row] = await db.all<{ n: number }>(`select count(*) as n from ${ITEMS} i`);
      return Number(row?.n ?? 0);
    },
    async countUnseen(jobInstanceId) {
      const [row] = await db.all<{ n: number }>(`select count(*) as n ${UNSEEN}`, [jobInstanceId]);
      return Number(row?.n ?? 0);
    },
    async unseen(jobInstanceId, after, limit) {
      const rows = await db.all<{ project_id: number; project_path: string }>(
        `select i.project_id, i.project_path ${UNSEEN} and i.project_id > $2 order by i.project_id limit $3`,
        [jobInstanceId, after, limit],
      );
      return rows.map((r) => ({ projectId: Number(r.project_id), projectPath: String(r.project_path) }));
    },
    async clear(jobInstanceId, owner) {
      await write(owner, "delete from sync_seen_project where job_instance_id = $1", [jobInstanceId]);
    },
  };
}
