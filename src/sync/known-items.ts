/**
 * The item table as an incremental scan sees it (see incremental.ts): the stored listing fields
 * and hook verification time of a page's projects, the hook verifications the scan makes, and the
 * start of the previous COMPLETED sync.
 */
import { lastCompletedStart } from "../batch/sql.ts";
import { type Db, toDate } from "../db/client.ts";
import type { KnownProject, SyncKnown } from "./incremental.ts";

export function createKnownItems(db: Db, jobName: string): SyncKnown {
  return {
    async lookup(projectIds) {
      const known = new Map<number, KnownProject>();
      if (projectIds.length === 0) return known;
      const list = projectIds.map((_, i) => `$${i + 1}`).join(", ");
      const rows = await db.all<Record<string, unknown>>(
        `select project_id, project_path, name, default_branch, hook_verified_at from item where project_id in (${list})`,
        [...projectIds],
      );
      for (const r of rows) {
        known.set(Number(r.project_id), {
          path: String(r.project_path),
          name: String(r.name),
          defaultBranch: (r.default_branch as string | null) ?? null,
          hookVerifiedAt: toDate(r.hook_verified_at),
        });
      }
      return known;
    },
    async markHooksVerified(projectIds, at) {
      if (projectIds.length === 0) return;
      const list = projectIds.map((_, i) => `$${i + 2}`).join(", ");
      await db.run(`update item set hook_verified_at = $1 where project_id in (${list})`, [
        at,
        ...projectIds,
      ]);
    },
    lastCompletedStart: () => lastCompletedStart(db, jobName),
  };
}
