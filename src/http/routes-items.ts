/**
 * GET /items (cursor-paginated by project id, filtered by path or IMRT item id, or to stale items),
 * GET /items/:projectId (with its commit history and item-sync's events for it; every item carries
 * its `status` block: why it is or is not stale, item-status.ts), and POST
 * /sync/:projectId (a sync of one project, operate).
 */
import { Elysia, t } from "elysia";
import type { ItemStatus } from "../items/item-status.ts";
import type { ItemView, ItemViews } from "../items/item-views.ts";
import type { ProjectSyncResult } from "../items/project-sync.ts";
import { NotFoundError, ValidationError } from "../lib/errors.ts";
import { RESPONSES } from "./openapi-responses.ts";

const security = [{ bearer: [] }];

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Item JSON (contract): item-sync's facts about the project and what the IMRT tables hold. */
export function itemJson(item: ItemView) {
  return {
    projectId: item.projectId,
    projectPath: item.projectPath,
    name: item.name,
    defaultBranch: item.defaultBranch,
    currentCommitHash: item.currentCommitHash,
    currentCommitDate: iso(item.currentCommitDate),
    itemJson: item.itemJson,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
    itemId: item.itemId,
    itemType: item.itemType,
    classification: item.classification,
    workflowStatus: item.workflowStatus,
    subject: item.subject,
    grade: item.grade,
    updatedBy: item.updatedBy,
    itemCreatedBy: item.itemCreatedBy,
    itemCreatedAt: iso(item.itemCreatedAt),
    workflowStatusSetAt: iso(item.workflowStatusSetAt),
    associatedStimulusId: item.associatedStimulusId,
    ingestState: item.ingestState,
    problem: item.problem,
    status: statusJson(item.status),
  };
}

/** The status block: why the item is (or is not) stale. */
function statusJson(s: ItemStatus) {
  return {
    stale: s.stale,
    reasons: s.reasons,
    gitlabHead: s.gitlabHead && {
      commitHash: s.gitlabHead.commitHash,
      commitDate: iso(s.gitlabHead.commitDate),
      seenAt: iso(s.gitlabHead.seenAt),
      seenBy: s.gitlabHead.seenBy,
    },
    tables: s.tables && { commitHash: s.tables.commitHash, commitDate: iso(s.tables.commitDate) },
    lastPush: s.lastPush && { at: s.lastPush.at.toISOString(), sha: s.lastPush.sha },
    lastUpdate: s.lastUpdate && {
      at: s.lastUpdate.at.toISOString(),
      messageId: s.lastUpdate.messageId,
      outcome: s.lastUpdate.outcome,
    },
    hook: { state: s.hook.state, since: iso(s.hook.since) },
    quarantine: s.quarantine,
    deadLetters: s.deadLetters.map((d) => ({
      messageType: d.messageType,
      queue: d.queue,
      messageId: d.messageId,
      reason: d.reason,
      attempts: d.attempts,
      deadLetteredBy: d.deadLetteredBy,
      deadLetteredAt: d.deadLetteredAt.toISOString(),
    })),
  };
}

/** Cursors are opaque to clients: base64url of the last project id of the page. */
const encodeCursor = (projectId: number) => Buffer.from(`p:${projectId}`).toString("base64url");
function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^p:(\d{1,15})$/.exec(text);
  if (!match) throw new ValidationError("cursor: not a cursor this service returned");
  return Number(match[1]);
}

const ProjectId = t.Object({
  projectId: t.String({
    pattern: "^[1-9][0-9]{0,14}$",
    description: "a positive whole number (a GitLab project id)",
  }),
});

export function itemRoutes(deps: {
  items: ItemViews;
  /** POST /sync/:projectId: null when GitLab does not place the project in the group. */
  syncProject(projectId: number): Promise<ProjectSyncResult | null>;
}) {
  return new Elysia()
    .get(
      "/items",
      async ({ query }) => {
        const limit = query.limit === undefined ? 20 : Number(query.limit);
        const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        const stale = query.stale === "true";
        const items = await deps.items.list({ limit: limit + 1, after, q: query.q, stale });
        const page = items.slice(0, limit);
        const last = page[page.length - 1];
        return {
          items: page.map(itemJson),
          nextCursor: items.length > limit && last ? encodeCursor(last.projectId) : null,
        };
      },
      {
        query: t.Object(
          {
            limit: t.Optional(
              t.String({
                pattern: "^([1-9]|[1-9][0-9]|100)$",
                description: "a whole number from 1 to 100 (default 20)",
              }),
            ),
            cursor: t.Optional(
              t.String({
                maxLength: 64,
                pattern: "^[A-Za-z0-9_-]+$",
                description: "the nextCursor of a previous page",
              }),
            ),
            q: t.Optional(
              t.String({
                minLength: 1,
                maxLength: 200,
                description:
                  "keep items whose project path contains this text (case-insensitive), or — a number — whose IMRT item id or project id it is",
              }),
            ),
            stale: t.Optional(
              t.String({
                pattern: "^(true|false)$",
                description:
                  "true: only the items whose tables lag GitLab's last seen head, or that are quarantined or have a dead letter (their status says which)",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        detail: {
          summary:
            "Items ordered by project id, cursor-paginated; ?q= filters by path or item id, ?stale=true to stale ones",
          description:
            "Pass the same q and stale with each cursor: a cursor continues the list it came from.",
          tags: ["items"],
          security,
          responses: RESPONSES.items,
        },
      },
    )
    .get(
      "/items/:projectId",
      async ({ params }) => {
        const id = Number(params.projectId);
        const item = await deps.items.get(id);
        if (!item) throw new NotFoundError(`no item for project ${id}`);
        const [history, events] = await Promise.all([deps.items.commits(id), deps.items.events(id, 50)]);
        return {
          ...itemJson(item),
          history: history.map((h) => ({
            commitHash: h.commitHash,
            commitDate: iso(h.commitDate),
            author: h.author,
          })),
          events: events.map((e) => ({
            ...e,
            commitDate: iso(e.commitDate),
            createdAt: e.createdAt.toISOString(),
          })),
        };
      },
      {
        params: ProjectId,
        query: t.Object({}, { additionalProperties: false }),
        detail: {
          summary:
            "One item with its status (why it is stale), commit history (authors) and item-sync's events",
          tags: ["items"],
          security,
          responses: RESPONSES.item,
        },
      },
    )
    .post(
      "/sync/:projectId",
      async ({ params, set }) => {
        const id = Number(params.projectId);
        const result = await deps.syncProject(id);
        if (!result) throw new NotFoundError(`project ${id} is not in the item group (or does not exist)`);
        set.status = 202;
        return { projectId: result.projectId, published: result.published };
      },
      {
        params: ProjectId,
        query: t.Object({}, { additionalProperties: false }),
        detail: {
          summary: "Sync one project now: monitor-item when our hook is missing, and update-item",
          description: "No job execution is created; the messages are confirmed by the broker before 202.",
          tags: ["jobs"],
          security,
          responses: RESPONSES.projectSync,
        },
      },
    );
}
