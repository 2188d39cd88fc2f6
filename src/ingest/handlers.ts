/**
 * The ingest handlers, one per message type. They are idempotent: a redelivered message finds
 * the hook already there, or the item already at its commit, and changes nothing. The item work
 * itself (the IMRT tables, their lock and history) is the items part's (src/items/ingest.ts).
 */
import type { Db } from "../db/client.ts";
import type { HookResult } from "../gitlab/client.ts";
import { type ItemGitlab, type ItemIngest, QuarantinedItemError } from "../items/ingest.ts";
import {
  addHookEvent,
  HOOK_EVENTS,
  markHooksVerified,
  recordHookStates,
  recordListed,
} from "../items/projects.ts";
import { createKeyedLock } from "../lib/keyed-lock.ts";
import type { HandlerContext } from "../queue/consumer.ts";
import type { ItemMessage } from "../queue/messages.ts";

/** The narrow view of GitLab the handlers need (the real client implements it). */
export interface IngestGitlab extends ItemGitlab {
  createHook(projectId: number): Promise<HookResult>;
  membership(projectId: number): Promise<"member" | "outside" | "gone">;
}

/** Where monitor-item reports an adopted hook: the execution that published the message. */
export interface AdoptionSink {
  hookAdopted(executionId: number): Promise<void>;
}

/** What this process's handlers did; the metrics copy it at scrape time. */
export interface IngestCounters {
  hooksCreated: number;
  hooksAdopted: number;
  /** Our hooks monitor-item found disabled by GitLab (after failed deliveries), by alert_status. */
  hooksFoundDisabled: number;
  hooksFoundTemporarilyDisabled: number;
  /** Of those, re-enabled by monitor-item (a test request, after an edit if need be)… */
  hooksReenabled: number;
  /** …and left disabled by GitLab (our receiver did not answer the test request with 2xx). */
  hooksStillDisabled: number;
  itemsCreated: number;
  itemsUpdated: number;
  itemsUnchanged: number;
  /** update-item for a project without item.json on its default branch: nothing written. */
  noItemJson: number;
  /** update-item for a project whose default branch has no commit. */
  emptyRepositories: number;
  /** update-item whose item.json could not be written: dead-lettered at once, no row changed. */
  quarantined: number;
  projectsGone: number;
  itemsDeleted: number;
  deletesRefused: number;
  /** update-item for a project outside the group (a forged or stale message): acked, no row. */
  foreignRefused: number;
}

const HOOK_LOG = {
  created: "webhook created",
  adopted: "legacy webhook adopted",
  exists: "webhook already present",
  reenabled: "webhook disabled by GitLab re-enabled",
  still_disabled: "webhook disabled by GitLab could not be re-enabled; the next sync tries again",
} as const;

export function createHandlers(deps: {
  gitlab: IngestGitlab;
  db: Db;
  items: ItemIngest;
  adoptions?: AdoptionSink;
}) {
  const counters: IngestCounters = {
    hooksCreated: 0,
    hooksAdopted: 0,
    hooksFoundDisabled: 0,
    hooksFoundTemporarilyDisabled: 0,
    hooksReenabled: 0,
    hooksStillDisabled: 0,
    itemsCreated: 0,
    itemsUpdated: 0,
    itemsUnchanged: 0,
    noItemJson: 0,
    emptyRepositories: 0,
    quarantined: 0,
    projectsGone: 0,
    itemsDeleted: 0,
    deletesRefused: 0,
    foreignRefused: 0,
  };

  // Redelivered or duplicate messages for one project may be in hand at once (prefetch): they run
  // one at a time per project in this process (project_lock orders them across processes).
  const perProject = createKeyedLock<number>();

  /** A project deleted after the scan saw it is not an error: there is nothing left to do. */
  const isGone = (err: unknown) => (err as { upstreamStatus?: number })?.upstreamStatus === 404;

  const sourceOf = (message: ItemMessage, ctx: HandlerContext) => ({
    jobExecutionId: message.jobExecutionId,
    messageId: ctx.messageId ?? null,
  });

  async function monitorItem(message: ItemMessage, ctx: HandlerContext): Promise<void> {
    try {
      const result = await perProject(message.projectId, () => deps.gitlab.createHook(message.projectId));
      const { outcome } = result;
      if (outcome === "created") counters.hooksCreated++;
      // a project no scan has listed yet (a system hook's project_create) gets its row here, so
      // its hook state is not lost; update-item fills in the rest
      const at = new Date();
      const name = message.projectPath.split("/").at(-1) ?? message.projectPath;
      await recordListed(deps.db, [{ ...message, name, defaultBranch: null }], at);
      if (result.disabled) await recordDisabled(message, ctx, result);
      if (outcome !== "still_disabled") await markHooksVerified(deps.db, [message.projectId], at);
      if (outcome === "adopted") {
        counters.hooksAdopted++;
        // A redelivery finds our hook in place ("exists"), so each adoption is counted once —
        // unless this write fails after the edit: the count is then one short, the hook is right.
        if (message.jobExecutionId !== null) await deps.adoptions?.hookAdopted(message.jobExecutionId);
      }
      const log = outcome === "still_disabled" ? ctx.logger.warn : ctx.logger.info;
      log.call(ctx.logger, HOOK_LOG[outcome], {
        projectId: message.projectId,
        ...(result.disabled
          ? {
              alertStatus: result.disabled.alertStatus,
              disabledUntil: result.disabled.disabledUntil?.toISOString() ?? null,
            }
          : {}),
        ...(result.reenabledBy ? { reenabledBy: result.reenabledBy } : {}),
        ...(result.reason ? { reason: result.reason } : {}),
      });
    } catch (err) {
      if (!isGone(err)) throw err;
      counters.projectsGone++;
      ctx.logger.info("project no longer exists; no webhook to create", { projectId: message.projectId });
    }
  }

  /**
   * Our hook was found disabled by GitLab: counted, and recorded as events (which kind, until
   * when; then whether it was re-enabled); the project's hook state stays `disabled` while GitLab
   * keeps it so.
   */
  async function recordDisabled(message: ItemMessage, ctx: HandlerContext, result: HookResult) {
    const disabled = result.disabled;
    if (!disabled) return;
    const permanently = disabled.alertStatus === "disabled";
    if (permanently) counters.hooksFoundDisabled++;
    else counters.hooksFoundTemporarilyDisabled++;
    const source = sourceOf(message, ctx);
    const at = new Date();
    await addHookEvent(
      deps.db,
      message.projectId,
      permanently ? HOOK_EVENTS.disabled : HOOK_EVENTS.temporarilyDisabled,
      disabled.disabledUntil,
      source,
      at,
    );
    if (result.outcome === "reenabled") {
      counters.hooksReenabled++;
      await addHookEvent(deps.db, message.projectId, HOOK_EVENTS.reenabled, null, source, at);
    } else {
      counters.hooksStillDisabled++;
      await addHookEvent(deps.db, message.projectId, HOOK_EVENTS.stillDisabled, null, source, at);
      await recordHookStates(deps.db, [{ projectId: message.projectId, state: "disabled" }], at);
    }
  }

  async function updateItem(message: ItemMessage, ctx: HandlerContext): Promise<void> {
    const { projectId } = message;
    let result: Awaited<ReturnType<ItemIngest["update"]>>;
    try {
      result = await perProject(projectId, () => deps.items.update(projectId, sourceOf(message, ctx), ctx));
    } catch (err) {
      if (err instanceof QuarantinedItemError) counters.quarantined++;
      throw err;
    }
    switch (result.outcome) {
      case "created":
        counters.itemsCreated++;
        break;
      case "updated":
        counters.itemsUpdated++;
        break;
      case "unchanged":
      case "ingested":
        counters.itemsUnchanged++;
        break;
      case "no_item_json":
        counters.noItemJson++;
        break;
      case "empty":
        counters.emptyRepositories++;
        break;
      case "gone":
        counters.projectsGone++;
        ctx.logger.info("project no longer exists; item left to the deletion pass", { projectId });
        return;
      case "outside":
        // Never write an item for a project GitLab does not place in the group, whatever the
        // message (or the webhook payload behind it) claimed.
        counters.foreignRefused++;
        ctx.logger.warn("update-item refused: the project is not in the group", { projectId });
        return;
      case "quarantined":
        break; // thrown above, never returned
    }
    ctx.logger.debug("item synced", {
      projectId,
      result: result.outcome,
      gitlabRequests: result.gitlabRequests,
    });
  }

  /** delete-item: GitLab is asked again first; a project still in the group keeps its item. */
  async function deleteItem(message: ItemMessage, ctx: HandlerContext): Promise<void> {
    await perProject(message.projectId, async () => {
      const membership = await deps.gitlab.membership(message.projectId);
      if (membership === "member") {
        counters.deletesRefused++;
        ctx.logger.warn("delete-item refused: the project is still in the group", {
          projectId: message.projectId,
        });
        return;
      }
      const removed = await deps.items.remove(message.projectId, sourceOf(message, ctx), ctx);
      if (removed) counters.itemsDeleted++;
      ctx.logger.info(removed ? "item deleted" : "item already deleted", {
        projectId: message.projectId,
        membership,
      });
    });
  }

  return { monitorItem, updateItem, deleteItem, counters };
}
