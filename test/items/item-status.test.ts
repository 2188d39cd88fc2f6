/**
 * The status block and `GET /items?stale=true` on SQLite and Postgres, through the real item store
 * and routes: which items count as stale (tables behind GitLab's last seen head, by update-item's
 * reading or a later push; quarantined; dead-lettered), which do not (at the head; a head without
 * item.json), and what the status says about each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { mapError } from "../../src/http/errors.ts";
import { itemRoutes } from "../../src/http/routes-items.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createDeadLetterLog, recordSeenHead } from "../../src/items/item-status.ts";
import { createItemViews } from "../../src/items/item-views.ts";
import { getProject, recordIngest, recordPush } from "../../src/items/projects.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { seedItem } from "../helpers/items.ts";

// after the seeded items' ingest (now)
const T0 = Date.now() + 60_000;
const later = (minutes: number) => new Date(T0 + minutes * 60_000);

interface StatusBody {
  stale: boolean;
  reasons: string[];
  gitlabHead: { commitHash: string; seenBy: string } | null;
  tables: { commitHash: string } | null;
  lastPush: { sha: string } | null;
  quarantine: { problem: string } | null;
  deadLetters: { messageType: string; reason: string; deadLetteredBy: string }[];
}

for (const dialect of DIALECTS) {
  describe(`item status on ${dialect}`, () => {
    let t: TestDatabase;
    let app: { handle(request: Request): Promise<Response> };

    const get = async (path: string) => {
      const res = await app.handle(new Request(`http://localhost${path}`));
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const status = async (projectId: number) => (await get(`/items/${projectId}`)).body.status as StatusBody;
    const staleIds = async () =>
      ((await get("/items?stale=true")).body.items as { projectId: number }[]).map((i) => i.projectId);

    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      const items = createItemViews(t.db, imrtTables(t.db.dialect));
      app = new Elysia()
        .onError(({ code, error, request }) =>
          mapError(code, error, silentLogger, new URL(request.url).pathname),
        )
        .use(itemRoutes({ items, syncProject: async () => null }));
      for (const id of [1, 2, 3, 4, 5]) await seedItem(t.db, { projectId: id });
      // 2: update-item read a newer head and has not written it (yet)
      await recordSeenHead(t.db, await getProject(t.db, 2), 2, { hash: "n2", date: later(0) }, later(1));
      // 3: a push received after update-item's last reading
      await recordPush(t.db, 3, "p3", later(5));
      // 4: quarantined at a newer head
      await recordIngest(
        t.db,
        { projectId: 4, projectPath: "imrt/items/item-4", name: "item-4", defaultBranch: "main" },
        {
          state: "quarantined",
          head: { hash: "q4", date: later(0) },
          headItemJson: "{}",
          problem: "id is not an integer",
        },
        { jobExecutionId: null, messageId: "m4" },
        later(2),
      );
      // 5: a dead letter
      await createDeadLetterLog(t.db).record({
        projectId: 5,
        messageType: "update-item",
        queue: "items-update",
        messageId: "7:update-item:5",
        reason: "failed after 5 attempt(s): GITLAB_UPSTREAM: 502",
        attempts: 5,
        deadLetteredBy: "item-sync",
        deadLetteredAt: later(3),
      });
      // 6: no item.json at the head update-item read: nothing to ingest, not stale
      await recordIngest(
        t.db,
        { projectId: 6, projectPath: "imrt/items/item-6", name: "item-6", defaultBranch: "main" },
        { state: "no_item_json", head: { hash: "e6", date: later(0) }, headItemJson: null, problem: null },
        { jobExecutionId: null, messageId: "m6" },
        later(2),
      );
      await recordSeenHead(t.db, await getProject(t.db, 6), 6, { hash: "e6", date: later(0) }, later(2));
    });
    afterAll(async () => {
      await t.drop();
    });

    test("only the items behind GitLab's last seen head, quarantined or dead-lettered are stale", async () => {
      expect(await staleIds()).toEqual([2, 3, 4, 5]);
      expect((await get("/items?stale=false")).body.items).toHaveLength(6);
    });

    test("an item at its head: not stale, head and tables agree", async () => {
      const s = await status(1);
      expect(s).toMatchObject({
        stale: false,
        reasons: [],
        quarantine: null,
        deadLetters: [],
        lastPush: null,
      });
      expect(s.gitlabHead?.commitHash).toBe("c1");
      expect(s.tables?.commitHash).toBe("c1");
    });

    test("a head read by update-item and not written: behind, with both commits", async () => {
      const s = await status(2);
      expect(s).toMatchObject({ stale: true, reasons: ["behind"] });
      expect(s.gitlabHead).toMatchObject({ commitHash: "n2", seenBy: "update-item" });
      expect(s.tables?.commitHash).toBe("c2");
    });

    test("a push received since the last reading: behind, the push's sha as GitLab's head", async () => {
      const s = await status(3);
      expect(s).toMatchObject({ stale: true, reasons: ["behind"], lastPush: { sha: "p3" } });
      expect(s.gitlabHead).toMatchObject({ commitHash: "p3", seenBy: "push" });
    });

    test("a quarantined head: stale with its problem", async () => {
      const s = await status(4);
      expect(s.reasons).toEqual(["behind", "quarantined"]);
      expect(s.quarantine?.problem).toBe("id is not an integer");
    });

    test("a dead letter: stale with its reason until a later success clears it", async () => {
      const s = await status(5);
      expect(s.reasons).toEqual(["dead_letter"]);
      expect(s.deadLetters).toEqual([
        expect.objectContaining({ messageType: "update-item", deadLetteredBy: "item-sync" }),
      ]);
      expect(s.deadLetters[0]?.reason).toContain("502");
      await createDeadLetterLog(t.db).clear(5, "monitor-item");
      expect((await status(5)).stale).toBe(true);
      await createDeadLetterLog(t.db).clear(5, "update-item");
      expect(await status(5)).toMatchObject({ stale: false, deadLetters: [] });
    });

    test("a head without item.json is not stale", async () => {
      const s = await status(6);
      expect(s).toMatchObject({ stale: false, tables: null, gitlabHead: { commitHash: "e6" } });
    });

    test("stale=yes is refused with 422", async () => {
      expect((await get("/items?stale=yes")).status).toBe(422);
    });
  });
}
