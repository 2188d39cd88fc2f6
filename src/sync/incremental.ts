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

import type { HookProblem, KnownProject, ListedProject, SyncKnown } from "../items/known-items.ts";

export type { HookProblem, KnownProject, ListedProject, SyncKnown };

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
