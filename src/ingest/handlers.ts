/**
 * The ingest handlers, one per message type. They are idempotent: a redelivered message finds
 * the hook already there, or the item already at its commit, and changes nothing.
 */
import { createKeyedLock } from "../lib/keyed-lock.ts";
import type { HandlerContext } from "../queue/consumer.ts";
import type { ItemMessage } from "../queue/messages.ts";
import type { ItemStore } from "./item-store.ts";

/** The narrow view of GitLab the handlers need (the real client implements it). */
export interface IngestGitlab {
  createHook(projectId: number): Promise<"created" | "exists" | "adopted">;
  membership(projectId: number): Promise<"member" | "outside" | "gone">;
  latestRevision(projectId: number): Promise<{
    project: { id: number; path: string; name: string; defaultBranch: string | null };
    /** Whether the project belongs to what a sync scans (GitlabClient.membership's rule). */
    membership: "member" | "outside";
    commit: { id: string; committedDate: string } | null;
    itemJson: unknown | null;
  } | null>;
}

/** Where monitor-item reports an adopted hook: the execution that published the message. */
export interface AdoptionSink {
  hookAdopted(executionId: number): Promise<void>;
}

export interface IngestCounters {
  hooksCreated: number;
  hooksAdopted: number;
  itemsCreated: number;
  itemsUpdated: number;
  itemsUnchanged: number;
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

export function createHandlers(deps: { gitlab: IngestGitlab; items: ItemStore; adoptions?: AdoptionSink }) {
  const counters: IngestCounters = {
    hooksCreated: 0,
    hooksAdopted: 0,
    itemsCreated: 0,
    itemsUpdated: 0,
    itemsUnchanged: 0,
    projectsGone: 0,
    itemsDeleted: 0,
    deletesRefused: 0,
    foreignRefused: 0,
  };

  // Redelivered or duplicate messages for one project may be in hand at once (prefetch): the
  // hook check-then-create and the item upsert run one at a time per project in this process.
  const perProject = createKeyedLock<number>();

  /** A project deleted after the scan saw it is not an error: there is nothing left to do. */
  const isGone = (err: unknown) => (err as { upstreamStatus?: number })?.upstreamStatus === 404;

  async function monitorItem(message: ItemMessage, ctx: HandlerContext): Promise<void> {
    try {
      const result = await perProject(message.projectId, () => deps.gitlab.createHook(message.projectId));
      if (result === "created") counters.hooksCreated++;
      await deps.items.markHookVerified(message.projectId);
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
    await perProject(message.projectId, () => applyLatest(message, ctx));
  }

  async function applyLatest(message: ItemMessage, ctx: HandlerContext): Promise<void> {
    const revision = await deps.gitlab.latestRevision(message.projectId);
    if (!revision) {
      counters.projectsGone++;
      ctx.logger.info("project no longer exists; item left to the deletion pass", {
        projectId: message.projectId,
      });
      return;
    }
    if (revision.membership !== "member") {
      // Never write an item for a project GitLab does not place in the group, whatever the
      // message (or the webhook payload behind it) claimed.
      counters.foreignRefused++;
      ctx.logger.warn("update-item refused: the project is not in the group", {
        projectId: message.projectId,
        projectPath: revision.project.path,
      });
      return;
    }
    const result = await deps.items.apply(
      {
        projectId: revision.project.id,
        projectPath: revision.project.path,
        name: revision.project.name,
        defaultBranch: revision.project.defaultBranch,
        commitHash: revision.commit?.id ?? null,
        commitDate: revision.commit ? new Date(revision.commit.committedDate) : null,
        itemJson: revision.itemJson,
      },
      { jobExecutionId: message.jobExecutionId, messageId: ctx.messageId ?? null },
    );
    if (result === "created") counters.itemsCreated++;
    else if (result === "updated") counters.itemsUpdated++;
    else counters.itemsUnchanged++;
    ctx.logger.debug("item synced", { projectId: message.projectId, result, commit: revision.commit?.id });
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
      const removed = await deps.items.remove(message.projectId, {
        jobExecutionId: message.jobExecutionId,
        messageId: ctx.messageId ?? null,
      });
      if (removed) counters.itemsDeleted++;
      ctx.logger.info(removed ? "item deleted" : "item already deleted", {
        projectId: message.projectId,
        membership,
      });
    });
  }

  return { monitorItem, updateItem, deleteItem, counters };
}
