/** GET /items (cursor-paginated by project id, optionally filtered by path) and GET /items/:projectId (with its history). */
import { Elysia, t } from "elysia";
import type { Item, ItemStore } from "../ingest/item-store.ts";
import { NotFoundError, ValidationError } from "../lib/errors.ts";
import { RESPONSES } from "./openapi-responses.ts";

const security = [{ bearer: [] }];

export function itemJson(item: Item) {
  return {
    projectId: item.projectId,
    projectPath: item.projectPath,
    name: item.name,
    defaultBranch: item.defaultBranch,
    currentCommitHash: item.currentCommitHash,
    currentCommitDate: item.currentCommitDate?.toISOString() ?? null,
    itemJson: item.itemJson,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
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

export function itemRoutes(deps: { items: ItemStore }) {
  return new Elysia()
    .get(
      "/items",
      async ({ query }) => {
        const limit = query.limit === undefined ? 20 : Number(query.limit);
        const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        const items = await deps.items.list({ limit: limit + 1, after, pathContains: query.q });
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
                description: "keep items whose project path contains this text (case-insensitive)",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        detail: {
          summary: "Items ordered by project id, cursor-paginated; ?q= filters by path",
          description: "Pass the same q with each cursor: a cursor continues the list it came from.",
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
        const history = await deps.items.history(id, 50);
        return {
          ...itemJson(item),
          history: history.map((h) => ({
            ...h,
            commitDate: h.commitDate?.toISOString() ?? null,
            createdAt: h.createdAt.toISOString(),
          })),
        };
      },
      {
        params: t.Object({
          projectId: t.String({
            pattern: "^[1-9][0-9]{0,14}$",
            description: "a positive whole number (a GitLab project id)",
          }),
        }),
        query: t.Object({}, { additionalProperties: false }),
        detail: {
          summary: "One item with its recent history",
          tags: ["items"],
          security,
          responses: RESPONSES.item,
        },
      },
    );
}
