/**
 * itemSynchronizationStep: stream the group's projects page by page → check each project's
 * hooks (paced by the GitLab client) → monitor-item when our hook is missing → update-item for
 * every project, all with publisher confirms. A few pages are worked on at once so the GitLab
 * concurrency stays full across page boundaries; the checkpoint advances, in page order, past
 * every page whose messages are all confirmed, so a resumed execution repeats at most the pages
 * that were in flight.
 *
 * The projects seen are recorded (in the database) before their page is checkpointed. Only after
 * a scan that completed every page, the items whose project was not seen get a delete-item each
 * — unless they are more than `deleteMaxFraction` of all items and the launch did not allow a
 * mass deletion: then nothing is deleted and the execution fails, saying how to allow it.
 */
import type { JobDefinition, StepContext, StepOutcome } from "../batch/runner.ts";
import { coerceError } from "../lib/errors.ts";
import { createLimiter } from "../lib/limiter.ts";
import type { SeenStore } from "./seen-store.ts";

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
  /** Projects in the whole listing, when GitLab says (not past 10,000). */
  total?: number | null;
}

/** The narrow view of GitLab the step needs (the real client implements it). */
export interface SyncGitlab {
  checkAccess(): Promise<void>;
  projectSource(perPage?: number): {
    pages(opts?: { from?: SyncCheckpoint; signal?: AbortSignal }): AsyncIterable<SyncPage>;
  };
  isMonitored(projectId: number): Promise<boolean>;
}

export type SyncMessageType = "monitor-item" | "update-item" | "delete-item";

/**
 * Publishes one message and resolves when the broker confirmed it. `gate` runs synchronously right
 * before each send attempt (after any wait for the broker); a throw cancels the publish with it.
 */
export type SyncPublish = (
  type: SyncMessageType,
  executionId: number,
  project: SyncProject,
  gate?: () => void,
) => Promise<void>;

export interface SkippedProject {
  projectId: number;
  path: string;
  reason: string;
}

export interface SyncStepOptions {
  gitlab: SyncGitlab;
  publish: SyncPublish;
  seen: SeenStore;
  skipLimit: number;
  /** Largest share of the items one execution may delete without allowMassDelete. */
  deleteMaxFraction: number;
  perPage?: number;
  /** Pages worked on at once (bounded memory: pagesInFlight × perPage projects). */
  pagesInFlight?: number;
  /**
   * Projects being worked on at once (hook check + publishes). A few times the GitLab
   * concurrency keeps GitLab busy, while a stop finds most of the in-flight pages' projects not
   * yet started and stops without waiting for them.
   */
  projectConcurrency?: number;
}

/** Skipped projects kept in the step context; beyond that only the count grows. */
const MAX_SKIPPED_KEPT = 1000;

export function createSyncJob(opts: SyncStepOptions): JobDefinition {
  return { name: SYNC_JOB_NAME, stepName: SYNC_STEP_NAME, run: (ctx) => runSyncStep(ctx, opts) };
}

/**
 * The ports as this execution may use them: every publish gated on the lease, every write of
 * the seen set made conditional on still owning the execution (batch/fence.ts), and the seen
 * set's database calls retried through a failover while the lease holds.
 */
function fencedPorts(ctx: StepContext, opts: SyncStepOptions): SyncStepOptions {
  const { fence } = ctx;
  const gate = () => fence.assertOwned();
  const { seen: store } = opts;
  // writes carry the owner (checked in their transaction); reads and writes both wait out a
  // database failover while the lease holds
  const seen: SeenStore = {
    keepOnly: (instanceId) => fence.persist(() => store.keepOnly(instanceId, fence.owner)),
    record: (instanceId, projectIds) =>
      fence.persist(() => store.record(instanceId, projectIds, fence.owner)),
    clear: (instanceId) => fence.persist(() => store.clear(instanceId, fence.owner)),
    itemCount: () => fence.persist(() => store.itemCount()),
    countUnseen: (instanceId) => fence.persist(() => store.countUnseen(instanceId)),
    unseen: (instanceId, after, limit) => fence.persist(() => store.unseen(instanceId, after, limit)),
  };
  return {
    ...opts,
    publish: (type, executionId, project) => {
      gate();
      return opts.publish(type, executionId, project, gate);
    },
    seen,
  };
}

export async function runSyncStep(ctx: StepContext, ports: SyncStepOptions): Promise<StepOutcome> {
  const opts = fencedPorts(ctx, ports);
  const { counts, signal, logger } = ctx;
  const from = ctx.restored.checkpoint as SyncCheckpoint | undefined;
  const skipped: SkippedProject[] = Array.isArray(ctx.restored.skipped)
    ? (ctx.restored.skipped as SkippedProject[])
    : [];
  let skippedTotal = skipped.length;
  const executionId = ctx.execution.id;
  const maxInFlight = Math.max(1, opts.pagesInFlight ?? 3);

  const instanceId = ctx.execution.jobInstanceId;
  const restoredScanComplete = ctx.restored.scanComplete === true;
  await opts.gitlab.checkAccess();
  await opts.seen.keepOnly(instanceId);
  if (from)
    logger.info("resuming after checkpoint", { checkpoint: from, scanComplete: restoredScanComplete });

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

  const limit = createLimiter(opts.projectConcurrency ?? 64);
  const syncProject = (project: SyncProject) => limit(() => syncOne(project));
  const syncOne = async (project: SyncProject) => {
    // Once a stop is asked, projects not yet started are left to the resumed execution: their
    // page is not checkpointed, so it is read again.
    if (signal.aborted) throw new NotStarted();
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

  let leftUnfinished = false;
  const settleOldest = async () => {
    const oldest = inFlight.shift();
    if (!oldest) return;
    try {
      await oldest.done;
    } catch (err) {
      if (!(err instanceof NotStarted)) throw err;
      leftUnfinished = true; // no checkpoint past this page
      return;
    }
    if (leftUnfinished) return;
    checkpoint = oldest.page.checkpoint;
    await ctx.saveCheckpoint({
      checkpoint,
      skipped,
      skippedTotal,
      scanComplete: oldest.page.last,
      total: total ?? null,
    });
  };

  let scanComplete = restoredScanComplete;
  let total: number | null | undefined;
  try {
    try {
      const pages = restoredScanComplete
        ? []
        : opts.gitlab.projectSource(opts.perPage).pages({ from, signal });
      for await (const page of pages) {
        if (total === undefined) {
          // A resumed execution reads only what follows its checkpoint: no total to compare with.
          total = from ? null : (page.total ?? null);
          ctx.setTotal?.(total);
        }
        counts.read += page.projects.length;
        await opts.seen.record(
          instanceId,
          page.projects.map((p) => p.id),
        );
        const done = settlePage(page.projects.map(syncProject));
        // Remember the first failure but keep every started publish awaited before leaving.
        done.catch((err) => {
          if (!(err instanceof NotStarted)) failure ??= coerceError(err);
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

  if (signal.aborted && (!scanComplete || leftUnfinished)) {
    logger.info("stopped at checkpoint", { checkpoint, reason: signal.reason });
    return { status: "STOPPED" };
  }
  const state = { checkpoint, skipped, skippedTotal, scanComplete: true };
  return deleteUnseen(ctx, opts, state);
}

/** Thrown for a project a stop kept from starting. */
class NotStarted extends Error {}

/**
 * A page is done when every project's work has settled (so nothing is left in flight): it fails
 * with the first real failure, else with NotStarted if a stop kept some project from starting.
 */
async function settlePage(work: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const rejected = results
    .filter((r): r is PromiseRejectedResult => r.status === "rejected")
    .map((r) => r.reason);
  const failure = rejected.find((reason) => !(reason instanceof NotStarted));
  if (failure !== undefined) throw failure;
  if (rejected.length > 0) throw new NotStarted();
}

/** The deletion pass, after a complete scan; resumable from `deleteAfter`. */
async function deleteUnseen(
  ctx: StepContext,
  opts: SyncStepOptions,
  state: Record<string, unknown>,
): Promise<StepOutcome> {
  const { counts, signal, logger } = ctx;
  const instanceId = ctx.execution.jobInstanceId;
  let after = typeof ctx.restored.deleteAfter === "number" ? ctx.restored.deleteAfter : 0;
  if (after === 0) {
    const total = await opts.seen.itemCount();
    const unseen = await opts.seen.countUnseen(instanceId);
    const allowed = ctx.execution.params.allowMassDelete === "true";
    logger.info("scan complete", { items: total, unseen, allowMassDelete: allowed });
    if (unseen > 0 && unseen > opts.deleteMaxFraction * total && !allowed) {
      const share = ((100 * unseen) / total).toFixed(1);
      throw new Error(
        `mass deletion refused: ${unseen} of ${total} items (${share}%) were not seen in GitLab, more than SYNC_DELETE_MAX_FRACTION=${opts.deleteMaxFraction}; nothing was deleted. If those projects really are gone, allow it once: POST /sync?allowMassDelete=true or item-sync sync --allow-mass-delete`,
      );
    }
  }
  const executionId = ctx.execution.id;
  for (;;) {
    if (signal.aborted) {
      logger.info("stopped during the deletion pass", { deleteAfter: after, reason: signal.reason });
      return { status: "STOPPED" };
    }
    const batch = await opts.seen.unseen(instanceId, after, DELETE_BATCH);
    if (batch.length === 0) break;
    await Promise.all(
      batch.map(async (item) => {
        await opts.publish("delete-item", executionId, { id: item.projectId, path: item.projectPath });
        counts.deletePublished++;
      }),
    );
    after = batch[batch.length - 1]?.projectId ?? after;
    await ctx.saveCheckpoint({ ...state, deleteAfter: after });
  }
  await opts.seen.clear(instanceId);
  return { status: "COMPLETED" };
}

/** Unseen items read and published per round of the deletion pass. */
const DELETE_BATCH = 500;
