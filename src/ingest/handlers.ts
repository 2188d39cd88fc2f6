/**
 * The ingest handlers, one per message type. They are idempotent: a redelivered message finds
 * the hook already there, or the item already at its commit, and changes nothing. The item work
 * itself (the IMRT tables, their lock and history) is the items part's (src/items/ingest.ts).
 */
import type { Db } from "../db/client.ts";
import type { HookOutcome } from "../gitlab/client.ts";
import { type ItemGitlab, type ItemIngest, QuarantinedItemError } from "../items/ingest.ts";
import { markHooksVerified } from "../items/projects.ts";
import { createKeyedLock } from "../lib/keyed-lock.ts";
import type { HandlerContext } from "../queue/consumer.ts";
import type { ItemMessage } from "../queue/messages.ts";

/** The narrow view of GitLab the handlers need (the real client implements it). */
export interface IngestGitlab extends ItemGitlab {
  createHook(projectId: number): Promise<HookOutcome>;
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
      if (result === "created") counters.hooksCreated++;
      await markHooksVerified(deps.db, [message.projectId], new Date());
      if (result === "adopted") {
        counters.hooksAdopted++;
        // A redelivery finds our hook in place ("exists"), so each adoption is counted once —
        // unless this write fails after the edit: the count is then one short, the hook is right.
        if (message.jobExecutionId !== null) await deps.adoptions?.hookAdopted(message.jobExecutionId);
      }
      ctx.logger.info(HOOK_LOG[result], { projectId: message.projectId });
    } catch (err) {
      if (!isGone(err)) throw err;
      counters.projectsGone++;
      ctx.logger.info("project no longer exists; no webhook to create", { projectId: message.projectId });
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
