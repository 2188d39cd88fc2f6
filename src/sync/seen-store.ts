/**
 * Which projects a job instance's scan has seen, kept in the database (sync_seen_project) so it
 * scales to 100,000 projects and survives a resume; and the items that were not seen, read in
 * pages, for the deletion pass.
 */
import type { Db } from "../db/client.ts";

export interface UnseenItem {
  projectId: number;
  projectPath: string;
}

export interface SeenStore {
  /** Forgets the seen sets of every other instance (only one execution runs at a time). */
  keepOnly(jobInstanceId: number): Promise<void>;
  record(jobInstanceId: number, projectIds: readonly number[]): Promise<void>;
  itemCount(): Promise<number>;
  countUnseen(jobInstanceId: number): Promise<number>;
  /** Unseen items with project id above `after`, by id, at most `limit`. */
  unseen(jobInstanceId: number, after: number, limit: number): Promise<UnseenItem[]>;
  clear(jobInstanceId: number): Promise<void>;
}

const UNSEEN = `from item i where not exists (
  select 1 from sync_seen_project s where s.job_instance_id = $1 and s.project_id = i.project_id)`;

export function createSeenStore(db: Db): SeenStore {
  return {
    async keepOnly(jobInstanceId) {
      await db.run("delete from sync_seen_project where job_instance_id <> $1", [jobInstanceId]);
    },
    async record(jobInstanceId, projectIds) {
      if (projectIds.length === 0) return;
      const values = projectIds.map((_, i) => `($1, $${i + 2})`).join(", ");
      await db.run(
        `insert into sync_seen_project (job_instance_id, project_id) values ${values} on conflict do nothing`,
        [jobInstanceId, ...projectIds],
      );
    },
    async itemCount() {
      const [row] = await db.all<{ n: number }>("select count(*) as n from item");
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
    async clear(jobInstanceId) {
      await db.run("delete from sync_seen_project where job_instance_id = $1", [jobInstanceId]);
    },
  };
}
