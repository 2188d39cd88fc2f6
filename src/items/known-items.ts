/**
 * The project facts as a scan sees them (see incremental.ts): the stored listing fields, hook
 * verification time and whether an update-item has handled each project of a page; what the scan
 * records before and after each page; and the start of the previous COMPLETED sync.
 */
import { lastCompletedStart } from "../batch/sql.ts";
import type { Db } from "../db/client.ts";
import type { KnownProject, ListedProject, SyncKnown } from "../sync/incremental.ts";
import { getProjects, type ProjectFacts, recordListed, recordScanned } from "./projects.ts";

const factsOf = (projects: readonly ListedProject[]): ProjectFacts[] =>
  projects.map((p) => ({
    projectId: p.id,
    projectPath: p.path,
    name: p.name ?? p.path.split("/").at(-1) ?? p.path,
    defaultBranch: p.defaultBranch ?? null,
  }));

export function createKnownItems(db: Db, jobName: string): SyncKnown {
  return {
    async lookup(projectIds) {
      const known = new Map<number, KnownProject>();
      for (const p of await getProjects(db, projectIds)) {
        known.set(p.projectId, {
          path: p.projectPath,
          name: p.name,
          defaultBranch: p.defaultBranch,
          hookVerifiedAt: p.hookVerifiedAt,
          ingested: p.ingestState !== null,
        });
      }
      return known;
    },
    recordListed: (projects, at) => recordListed(db, factsOf(projects), at),
    recordPage: (projects, hookVerified, at, hookProblems) =>
      recordScanned(db, factsOf(projects), hookVerified, at, hookProblems),
    lastCompletedStart: () => lastCompletedStart(db, jobName),
  };
}
