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
 * With SYNC_DELETE_ENABLED=false (the replaced system's deleteSyncDisabled) there is no deletion
 * pass at all: the step context says `deletePass: "skipped"` with the reason, and so does the
 * exit message.
 *
 * An execution whose mode is `incremental` lists every page the same way but leaves alone what
 * incremental.ts says did not change (counted `unchanged`), and lists several pages ahead since
 * the listing is then most of its work. Hooks seen by either mode are recorded as verified, and
 * our hooks GitLab disabled (after failed deliveries) as not monitored: monitor-item re-enables
 * them.
 *
 * With tracing on, each page's work (hook checks, publishes, the hooks recorded) is one span,
 * `sync page`, inside the execution's.
 */
import type { JobDefinition, StepContext, StepOutcome } from "../batch/runner.ts";
import type { SeenStore } from "../items/seen-store.ts";
import { coerceError } from "../lib/errors.ts";
import { createLimiter } from "../lib/limiter.ts";
import { ATTR_EXECUTION_ID } from "../lib/semconv.ts";
import { inSpan } from "../lib/tracing.ts";
import { deleteUnseen, skipDeletions } from "./deletion-pass.ts";
import {
  decide,
  type HookProblem,
  type KnownProject,
  type ScanPolicy,
  type SyncKnown,
} from "./incremental.ts";

export { DELETE_PASS_SKIPPED } from "./deletion-pass.ts";

export const SYNC_JOB_NAME = "itemSynchronizationJob";
export const SYNC_STEP_NAME = "itemSynchronizationStep";

export interface SyncProject {
  id: number;
  path: string;
  /** Listing fields an incremental scan compares with the stored item (see incremental.ts). */
  name?: string;
  defaultBranch?: string | null;
  lastActivityAt?: string | null;
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
  projectSource(
    perPage?: number,
    opts?: { prefetch?: number },
  ): {
    pages(opts?: { from?: SyncCheckpoint; signal?: AbortSignal }): AsyncIterable<SyncPage>;
  };
  /**
   * Our hook on the project, from its hooks listing (GitlabClient.checkHook): `ok`, `missing`, or
   * `disabled` by GitLab after failed deliveries (either kind); `legacy` when a hook of the
   * replaced service is still there.
   */
  checkHook(projectId: number): Promise<{ state: "ok" | "missing" | "disabled"; legacy: boolean }>;
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
  /** false (SYNC_DELETE_ENABLED=false): no deletion pass; the step context records the skip. */
  deleteEnabled?: boolean;
  perPage?: number;
  /** Pages worked on at once (bounded memory: pagesInFlight × perPage projects). */
  pagesInFlight?: number;
  /**
   * Projects being worked on at once (hook check + publishes). A few times the GitLab
   * concurrency keeps GitLab busy, while a stop finds most of the in-flight pages' projects not
   * yet started and stops without waiting for them.
   */
  projectConcurrency?: number;
  /**
   * The item table's view for incremental scans and hook verification times; without it every
   * execution scans in full.
   */
  known?: SyncKnown;
  /** SYNC_FULL_EVERY_HOURS: how long a verified hook is trusted by an incremental scan. */
  hookTrustMs?: number;
  /** SYNC_ACTIVITY_MARGIN_MINUTES. */
  activityMarginMs?: number;
}

/**
 * Listing pages requested ahead in an incremental scan: it does little per project, so the
 * listing's round trips are its duration. Costs up to 2 × 7 requests past the listing's end.
 */
const INCREMENTAL_PREFETCH = 8;

/** Skipped projects kept in the step context; beyond that only the count grows. */
const MAX_SKIPPED_KEPT = 1000;

export function createSyncJob(opts: SyncStepOptions): JobDefinition {
  return { name: SYNC_JOB_NAME, stepName: SYNC_STEP_NAME, run: (ctx) => runSyncStep(ctx, opts) };
}

/**
 * The ports as this execution may use them: every publish gated on the lease, every write of
 * the seen set made conditional on still owning the execution (batch/fence.ts), and every
 * database call (the seen set's and the item table's) retried through a failover while the
 * lease holds.
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
  // the item table's view: plain reads and a timestamp update, not the execution's own rows (no
  // owner check), but waiting out a failover all the same
  const { known: table } = opts;
  const known: SyncKnown | undefined = table && {
    lookup: (projectIds) => fence.persist(() => table.lookup(projectIds)),
    recordListed: (projects, at) => fence.persist(() => table.recordListed(projects, at)),
    recordPage: (projects, hookVerified, at, hookProblems) =>
      fence.persist(() => table.recordPage(projects, hookVerified, at, hookProblems)),
    lastCompletedStart: () => fence.persist(() => table.lastCompletedStart()),
  };
  return {
    ...opts,
    known,
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
  const skips = projectSkips(ctx, opts.skipLimit);
  const skip = skips.skip;
  const executionId = ctx.execution.id;
  const maxInFlight = Math.max(1, opts.pagesInFlight ?? 3);

  const instanceId = ctx.execution.jobInstanceId;
  const restoredScanComplete = ctx.restored.scanComplete === true;
  await opts.gitlab.checkAccess();
  await opts.seen.keepOnly(instanceId);
  if (from)
    logger.info("resuming after checkpoint", { checkpoint: from, scanComplete: restoredScanComplete });
  const known = opts.known;
  const mode = ctx.execution.mode === "incremental" && known ? "incremental" : "full";
  const activitySince = mode === "incremental" && known ? await activityCutoff(ctx, known, opts) : null;
  const policyNow = (): ScanPolicy => ({
    mode,
    activitySince,
    hookTrustMs: opts.hookTrustMs ?? 0,
    now: Date.now(),
  });

  const limit = createLimiter(opts.projectConcurrency ?? 64);
  /**
   * The first failure (a project's or a page's): the step fails with it once the work already
   * started has settled, and no other project starts.
   */
  let failure: Error | undefined;
  const failed = (err: unknown) => {
    if (!(err instanceof NotStarted)) failure ??= coerceError(err);
  };
  const work: ProjectWork = { opts, ctx, skip, stopped: () => signal.aborted || failure !== undefined };
  /**
   * A page's work: its new projects recorded (so monitor-item's findings have a row to land on),
   * every project's work, then the hooks seen recorded in a few statements.
   */
  const syncPage = async (projects: SyncProject[]) => {
    const stored =
      mode === "incremental" && known ? await known.lookup(projects.map((p) => p.id)) : new Map();
    const policy = policyNow();
    const at = new Date(policy.now);
    // a full scan looks nothing up: it records every project of the page (known ones are kept)
    const unknown = projects.filter((p) => !stored.has(p.id));
    if (known && unknown.length > 0) await known.recordListed(unknown, at);
    const verified: number[] = [];
    const problems: HookProblem[] = [];
    try {
      await settlePage(
        projects.map((p) =>
          limit(() => syncProject(work, p, stored.get(p.id), policy, { verified, problems })).catch(
            (err: unknown) => {
              failed(err);
              throw err;
            },
          ),
        ),
      );
    } finally {
      if (known) await known.recordPage(projects, verified, at, problems);
    }
  };

  let checkpoint = from;
  // The listing's size and the projects handled before this execution, across the executions
  // it resumes (pages up to the checkpoint): with them GET /jobs/{id} and the progress lines
  // show a resumed execution's progress through the whole listing, not from zero.
  const restoredTotal = typeof ctx.restored.total === "number" ? ctx.restored.total : null;
  const handledBefore =
    from && typeof ctx.restored.handledThrough === "number" ? ctx.restored.handledThrough : 0;
  let handledThrough = handledBefore;
  const inFlight: { page: SyncPage; done: Promise<void> }[] = [];

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
    handledThrough += oldest.page.projects.length;
    await saveContext(oldest.page.last);
  };
  /** The step context as saved: the checkpoint and what a resumed execution carries on with. */
  const contextOf = (scanComplete: boolean) => ({
    checkpoint,
    skipped: skips.skipped,
    skippedTotal: skips.total(),
    scanComplete,
    total: total ?? restoredTotal,
    handledBefore,
    handledThrough,
    activitySince,
  });
  const saveContext = (scanComplete: boolean) => ctx.saveCheckpoint(contextOf(scanComplete));

  let scanComplete = restoredScanComplete;
  let total: number | null | undefined;
  if (restoredTotal !== null) ctx.setTotal?.(restoredTotal, handledBefore);
  try {
    try {
      const pages = restoredScanComplete
        ? []
        : opts.gitlab
            .projectSource(opts.perPage, { prefetch: mode === "incremental" ? INCREMENTAL_PREFETCH : 1 })
            .pages({ from, signal });
      for await (const page of pages) {
        if (total === undefined) {
          // GitLab's x-total counts the whole listing, on a resumed execution's first page too;
          // past 10,000 rows it gives none: the predecessor's then stands.
          total = page.total ?? restoredTotal;
          ctx.setTotal?.(total, handledBefore);
          // Known at once to GET /jobs/{id} (and the dashboard), not only at the first checkpoint:
          // the context saved is the restored one (same checkpoint) with the total, and this
          // execution's handledBefore in place of the predecessor's.
          if (from || total !== restoredTotal) await saveContext(restoredScanComplete);
        }
        counts.read += page.projects.length;
        await opts.seen.record(
          instanceId,
          page.projects.map((p) => p.id),
        );
        const done = inSpan(
          "sync page",
          {
            attributes: {
              [ATTR_EXECUTION_ID]: executionId,
              "item_sync.page.number": page.page,
              "item_sync.page.projects": page.projects.length,
              "item_sync.page.last": page.last,
            },
          },
          () => syncPage(page.projects),
        );
        // Remember the first failure but keep every started publish awaited before leaving.
        done.catch(failed);
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
  const state = contextOf(true);
  if (opts.deleteEnabled === false) return skipDeletions(ctx, opts, state);
  return deleteUnseen(ctx, opts, state);
}

/** Thrown for a project a stop kept from starting. */
class NotStarted extends Error {}

/** What one project's work needs of its step. */
interface ProjectWork {
  opts: SyncStepOptions;
  ctx: StepContext;
  skip(project: SyncProject, reason: string): void;
  /** A stop was asked, or a project failed for good (the step fails). */
  stopped(): boolean;
}

/**
 * One listed project: its hook checked when `decide` says so (its finding noted in `found`),
 * monitor-item when our hook is missing or disabled, update-item unless an incremental scan may
 * leave it alone.
 */
async function syncProject(
  w: ProjectWork,
  project: SyncProject,
  stored: KnownProject | undefined,
  policy: ScanPolicy,
  found: { verified: number[]; problems: HookProblem[] },
): Promise<void> {
  const { opts, ctx } = w;
  const { counts } = ctx;
  // Once a stop is asked, or a project failed for good (the step fails), projects not yet
  // started are left to the resumed execution: their page is not checkpointed, so it is read
  // again. Without this a failed step would still work through every queued project of the
  // pages in flight, each publish waiting out AMQP_RECONNECT_TIMEOUT before failing in turn.
  if (w.stopped()) throw new NotStarted();
  const decision = decide(project, stored, policy);
  let monitored = true;
  if (decision.checkHook) {
    try {
      // a hook GitLab disabled after failed deliveries gets no pushes: not monitored, and
      // monitor-item re-enables it
      const hook = await opts.gitlab.checkHook(project.id);
      counts.hooksChecked++;
      monitored = hook.state === "ok" && !hook.legacy;
      if (hook.state === "ok") found.verified.push(project.id);
      else found.problems.push({ projectId: project.id, state: hook.state });
    } catch (err) {
      // The update does not depend on the hook: publish it anyway, and report the project.
      w.skip(project, `hook check failed: ${coerceError(err).message}`);
    }
  }
  if (!monitored) {
    await opts.publish("monitor-item", ctx.execution.id, project);
    counts.monitorPublished++;
  }
  if (!decision.update) {
    counts.unchanged++;
    return;
  }
  await opts.publish("update-item", ctx.execution.id, project);
  counts.updatePublished++;
}

/**
 * The activity cut-off of an incremental scan: the previous COMPLETED sync's start minus the
 * margin. It is fixed by the first execution of the instance: a resumed one must judge the
 * remaining pages as its predecessor judged the others.
 */
async function activityCutoff(
  ctx: StepContext,
  known: SyncKnown,
  opts: Pick<SyncStepOptions, "activityMarginMs">,
): Promise<number | null> {
  let since: number | null;
  if (typeof ctx.restored.activitySince === "number" || ctx.restored.activitySince === null) {
    since = ctx.restored.activitySince as number | null;
  } else {
    const last = await known.lastCompletedStart();
    since = last ? last.getTime() - (opts.activityMarginMs ?? 0) : null;
  }
  ctx.logger.info("incremental scan", {
    activitySince: since === null ? null : new Date(since).toISOString(),
  });
  return since;
}

/**
 * Projects whose hook check failed: kept (the first MAX_SKIPPED_KEPT) in the step context with
 * the restored ones, counted, logged; past SYNC_SKIP_LIMIT in this execution the step fails.
 */
function projectSkips(ctx: StepContext, skipLimit: number) {
  const skipped: SkippedProject[] = Array.isArray(ctx.restored.skipped)
    ? (ctx.restored.skipped as SkippedProject[])
    : [];
  let total = skipped.length;
  return {
    skipped,
    total: () => total,
    skip(project: SyncProject, reason: string) {
      total++;
      ctx.counts.skipped++;
      if (skipped.length < MAX_SKIPPED_KEPT)
        skipped.push({ projectId: project.id, path: project.path, reason });
      ctx.logger.warn("project skipped", { projectId: project.id, path: project.path, reason });
      if (ctx.counts.skipped > skipLimit) {
        throw new Error(
          `more than SYNC_SKIP_LIMIT=${skipLimit} projects failed in this execution (latest: project ${project.id} ${project.path}: ${reason})`,
        );
      }
    },
  };
}

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
