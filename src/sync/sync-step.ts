/**
 * itemSynchronizationStep: stream the group's projects page by page → check each project's
 * hooks (paced by the GitLab client) → monitor-item when our hook is missing → update-item for
 * every project, all with publisher confirms. A few pages are worked on at once so the GitLab
 * concurrency stays full across page boundaries; the checkpoint advances, in page order, past
 * every page whose messages are all confirmed, so a resumed execution repeats at most the pages
 * that were in flight.
 */
import type { JobDefinition, StepContext, StepOutcome } from "../batch/runner.ts";
import { coerceError } from "../lib/errors.ts";

export const SYNC_JOB_NAME = "itemSynchronizationJob";
export const SYNC_STEP_NAME = "itemSynchronizationStep";

export interface SyncProject {
  id: number;
  path: string;
}

export interface SyncCheckpoint {
  page: number;
  lastProjectId: number;
}

export interface SyncPage {
  page: number;
  projects: SyncProject[];
  checkpoint: SyncCheckpoint;
  last: boolean;
}

/** The narrow view of GitLab the step needs (the real client implements it). */
export interface SyncGitlab {
  checkAccess(): Promise<void>;
  projectSource(perPage?: number): {
    pages(opts?: { from?: SyncCheckpoint; signal?: AbortSignal }): AsyncIterable<SyncPage>;
  };
  isMonitored(projectId: number): Promise<boolean>;
}

export type SyncMessageType = "monitor-item" | "update-item";

/** Publishes one message and resolves when the broker confirmed it. */
export type SyncPublish = (type: SyncMessageType, executionId: number, project: SyncProject) => Promise<void>;

export interface SkippedProject {
  projectId: number;
  path: string;
  reason: string;
}

export interface SyncStepOptions {
  gitlab: SyncGitlab;
  publish: SyncPublish;
  skipLimit: number;
  perPage?: number;
  /** Pages worked on at once (bounded memory: pagesInFlight × perPage projects). */
  pagesInFlight?: number;
}

/** Skipped projects kept in the step context; beyond that only the count grows. */
const MAX_SKIPPED_KEPT = 1000;

export function createSyncJob(opts: SyncStepOptions): JobDefinition {
  return { name: SYNC_JOB_NAME, stepName: SYNC_STEP_NAME, run: (ctx) => runSyncStep(ctx, opts) };
}

export async function runSyncStep(ctx: StepContext, opts: SyncStepOptions): Promise<StepOutcome> {
  const { counts, signal, logger } = ctx;
  const from = ctx.restored.checkpoint as SyncCheckpoint | undefined;
  const skipped: SkippedProject[] = Array.isArray(ctx.restored.skipped)
    ? (ctx.restored.skipped as SkippedProject[])
    : [];
  let skippedTotal = skipped.length;
  const executionId = ctx.execution.id;
  const maxInFlight = Math.max(1, opts.pagesInFlight ?? 3);

  await opts.gitlab.checkAccess();
  if (from) logger.info("resuming after checkpoint", { checkpoint: from });

  const skip = (project: SyncProject, reason: string) => {
    skippedTotal++;
    counts.skipped++;
    if (skipped.length < MAX_SKIPPED_KEPT)
      skipped.push({ projectId: project.id, path: project.path, reason });
    logger.warn("project skipped", { projectId: project.id, path: project.path, reason });
    if (counts.skipped > opts.skipLimit) {
      throw new Error(
        `more than SYNC_SKIP_LIMIT=${opts.skipLimit} projects failed in this execution (latest: project ${project.id} ${project.path}: ${reason})`,
      );
    }
  };

  const syncProject = async (project: SyncProject) => {
    let monitored = true;
    try {
      monitored = await opts.gitlab.isMonitored(project.id);
      counts.hooksChecked++;
    } catch (err) {
      // The update does not depend on the hook: publish it anyway, and report the project.
      skip(project, `hook check failed: ${coerceError(err).message}`);
    }
    if (!monitored) {
      await opts.publish("monitor-item", executionId, project);
      counts.monitorPublished++;
    }
    await opts.publish("update-item", executionId, project);
    counts.updatePublished++;
  };

  let checkpoint = from;
  const inFlight: { page: SyncPage; done: Promise<void> }[] = [];
  let failure: Error | undefined;

  const settleOldest = async () => {
    const oldest = inFlight.shift();
    if (!oldest) return;
    await oldest.done;
    checkpoint = oldest.page.checkpoint;
    await ctx.saveCheckpoint({ checkpoint, skipped, skippedTotal, lastPage: oldest.page.last });
  };

  let scanComplete = false;
  try {
    try {
      for await (const page of opts.gitlab.projectSource(opts.perPage).pages({ from, signal })) {
        counts.read += page.projects.length;
        const done = Promise.all(page.projects.map(syncProject)).then(() => undefined);
        // Remember the first failure but keep every started publish awaited before leaving.
        done.catch((err) => {
          failure ??= coerceError(err);
        });
        inFlight.push({ page, done });
        if (page.last) scanComplete = true;
        while (inFlight.length >= maxInFlight) await settleOldest();
        if (failure) throw failure;
        if (signal.aborted) break;
      }
    } catch (err) {
      // A stop aborts the listing request in flight; that is the stop, not a failure.
      if (!signal.aborted || failure) throw err;
    }
    // Pages already being worked on finish and are checkpointed, stop or not.
    while (inFlight.length > 0) await settleOldest();
  } catch (err) {
    await Promise.allSettled(inFlight.map((p) => p.done));
    throw err;
  }

  if (signal.aborted && !scanComplete) {
    logger.info("stopped at checkpoint", { checkpoint, reason: signal.reason });
    return { status: "STOPPED" };
  }
  return { status: "COMPLETED" };
}
