/**
 * The deletion pass of a sync, after a scan that saw every page: the items whose project the
 * scan did not see (deleted, moved out of the group, ignored) get one delete-item each, in rounds
 * of DELETE_BATCH, resumable from `deleteAfter`; the mass-deletion guard refuses it when more
 * than SYNC_DELETE_MAX_FRACTION of the items were not seen (unless allowMassDelete). With
 * SYNC_DELETE_ENABLED=false the pass is skipped and the step context says so.
 */
import type { StepContext, StepOutcome } from "../batch/runner.ts";
import type { SeenStore } from "../items/seen-store.ts";

/** What the pass needs of the sync step's ports. */
export interface DeletionPorts {
  seen: SeenStore;
  deleteMaxFraction: number;
  publish(type: "delete-item", executionId: number, project: { id: number; path: string }): Promise<void>;
}

export const DELETE_PASS_SKIPPED = "deletion pass skipped: SYNC_DELETE_ENABLED=false";

/** SYNC_DELETE_ENABLED=false: record in the step context that no deletion pass ran, and why. */
export async function skipDeletions(
  ctx: StepContext,
  opts: DeletionPorts,
  state: Record<string, unknown>,
): Promise<StepOutcome> {
  const instanceId = ctx.execution.jobInstanceId;
  const unseen = await opts.seen.countUnseen(instanceId);
  ctx.logger.info("scan complete; deletion pass skipped", { unseen, reason: "SYNC_DELETE_ENABLED=false" });
  await ctx.saveCheckpoint({
    ...state,
    deletePass: "skipped",
    deletePassReason: DELETE_PASS_SKIPPED,
    unseen,
  });
  await opts.seen.clear(instanceId);
  return {
    status: "COMPLETED",
    exitMessage: `${DELETE_PASS_SKIPPED} (${unseen} items not seen in GitLab were kept)`,
  };
}

/** The deletion pass, after a complete scan; resumable from `deleteAfter`. */
export async function deleteUnseen(
  ctx: StepContext,
  opts: DeletionPorts,
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
