/**
 * The project facts as a scan sees them (sync/incremental.ts decides with them): the stored listing fields, hook
 * verification time and whether an update-item has handled each project of a page; what the scan
 * records before and after each page; and the start of the previous COMPLETED sync.
 */
import { lastCompletedStart } from "../batch/sql.ts";
import type { Db } from "../db/client.ts";
import { getProjects, type ProjectFacts, recordListed, recordScanned } from "./projects.ts";

const factsOf = (projects: readonly ListedProject[]): ProjectFacts[] =>
  projects.map((p) => ({
    projectId: p.id,
    projectPath: p.path,
    name: p.name ?? p.path.split("/").at(-1) ?? p.path,
    defaultBranch: p.defaultBranch ?? null,
  }));

/** What the database knows of a project (its sync_project row). */
export interface KnownProject {
  path: string;
  name: string;
  defaultBranch: string | null;
  /** Whether an update-item has handled the project (ingested it, or found nothing to ingest). */
  ingested: boolean;
  /** When our hook was last seen, created, or delivered a push carrying our token. */
  hookVerifiedAt: Date | null;
}

/** The narrow view of the project facts a scan needs (sync/incremental.ts decides with it). */
export interface SyncKnown {
  lookup(projectIds: readonly number[]): Promise<Map<number, KnownProject>>;
  /**
   * Before a page's messages are published: projects not known yet are recorded with their
   * listing fields, so what monitor-item records of their hook has a row to land on.
   */
  recordListed(projects: readonly ListedProject[], at: Date): Promise<void>;
  /**
   * After a page: the same rows (should recordListed have been skipped), our hook as verified at
   * `at` on `hookVerified`, and as missing or disabled on `hookProblems` — whether or not an
   * update-item has handled them yet. `at`: when the page's hook checks began.
   */
  recordPage(
    projects: readonly ListedProject[],
    hookVerified: readonly number[],
    at: Date,
    hookProblems?: readonly HookProblem[],
  ): Promise<void>;
  /** Start of the newest COMPLETED sync, or null when none completed. */
  lastCompletedStart(): Promise<Date | null>;
}

/** A project whose hook check found our hook missing, or disabled by GitLab. */
export interface HookProblem {
  projectId: number;
  state: "missing" | "disabled";
}

export interface ListedProject {
  id: number;
  path: string;
  name?: string;
  defaultBranch?: string | null;
  lastActivityAt?: string | null;
}

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
