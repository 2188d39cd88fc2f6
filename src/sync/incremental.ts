/**
 * What an incremental scan does with one listed project, decided from the listing and what the
 * database knows — the one place that says what may be skipped:
 * - a project the database does not know gets the full treatment (hook check + update-item);
 * - a project no update-item has handled yet (known from a scan or from before the IMRT tables)
 *   gets its update-item;
 * - update-item is skipped only when the listing's path, name and default branch equal the
 *   stored item's AND `last_activity_at` is older than `activitySince` (the previous COMPLETED
 *   sync's start minus SYNC_ACTIVITY_MARGIN_MINUTES). GitLab does not bump `last_activity_at`
 *   on a rename, hence the field comparison; it bumps it lazily on a push, hence the margin;
 * - the hook check is skipped only while our hook was verified within SYNC_FULL_EVERY_HOURS (a
 *   hook GitLab disables meanwhile is found by the next full run or expired trust; the content
 *   its lost pushes carried is caught by the update-item recent activity brings).
 * A full scan checks and updates everything.
 */
import type { ScanMode } from "../batch/types.ts";

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

/** The narrow view of the project facts a scan needs (known-items.ts implements it). */
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

export interface ScanPolicy {
  mode: ScanMode;
  /** Epoch ms: activity at or after this is recent; null = everything is recent. */
  activitySince: number | null;
  /** How long a verified hook is trusted (SYNC_FULL_EVERY_HOURS). */
  hookTrustMs: number;
  now: number;
}

export interface Decision {
  checkHook: boolean;
  update: boolean;
}

export function decide(
  project: ListedProject,
  known: KnownProject | undefined,
  policy: ScanPolicy,
): Decision {
  if (policy.mode === "full" || known === undefined) return { checkHook: true, update: true };
  const verifiedAt = known.hookVerifiedAt?.getTime();
  const checkHook = verifiedAt === undefined || policy.now - verifiedAt >= policy.hookTrustMs;
  return {
    checkHook,
    update: !known.ingested || listingChanged(project, known) || recentlyActive(project, policy),
  };
}

function listingChanged(project: ListedProject, known: KnownProject): boolean {
  // A listing without a field (never the case with GitLab) counts as a change: update.
  if (project.name === undefined || project.defaultBranch === undefined) return true;
  return (
    project.path !== known.path ||
    project.name !== known.name ||
    project.defaultBranch !== known.defaultBranch
  );
}

function recentlyActive(project: ListedProject, policy: ScanPolicy): boolean {
  if (policy.activitySince === null) return true;
  const at = project.lastActivityAt ? Date.parse(project.lastActivityAt) : Number.NaN;
  return Number.isNaN(at) || at >= policy.activitySince;
}
