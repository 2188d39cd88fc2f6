/**
 * GET /items?q= — the dashboard's search by path: case-insensitive substring, LIKE wildcards
 * taken literally, cursor pagination within the filtered list, bounded length; on SQLite and
 * Postgres through the real item store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { mapError } from "../../src/http/errors.ts";
import { itemRoutes } from "../../src/http/routes-items.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createItemViews } from "../../src/items/item-views.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { seedItem } from "../helpers/items.ts";

const PATHS: Record<number, string> = {
  1: "imrt/items/Math-1",
  2: "imrt/items/math-2",
  3: "imrt/items/ela_3",
  4: "imrt/items/ela-4",
  5: "imrt/items/50%-off",
  6: "imrt/items/500-off",
  7: "imrt/items/MATH-7",
  8: "imrt/items/back\\slash",
};

for (const dialect of DIALECTS) {
  describe(`GET /items?q= on ${dialect}`, () => {
    let t: TestDatabase;
    let app: { handle(request: Request): Promise<Response> };

    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      const items = createItemViews(t.db, imrtTables(t.db.dialect));
      for (const [id, path] of Object.entries(PATHS)) {
        await seedItem(t.db, {
          projectId: Number(id),
          projectPath: path,
          name: path.split("/").pop() ?? path,
        });
      }
      app = new Elysia()
        .onError(({ code, error, request }) =>
          mapError(code, error, silentLogger, new URL(request.url).pathname),
        )
        .use(itemRoutes({ items, syncProject: async () => null }));
    });
    afterAll(async () => {
      await t.drop();
    });

    const ids = async (query: string) => {
      const res = await app.handle(new Request(`http://localhost/items?${query}`));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { projectId: number }[]; nextCursor: string | null };
      return { ids: body.items.map((i) => i.projectId), next: body.nextCursor };
    };

    test("matches a path substring ignoring case", async () => {
      expect((await ids("q=MaTh")).ids).toEqual([1, 2, 7]);
      expect((await ids("q=items%2Fela")).ids).toEqual([3, 4]);
      expect((await ids("q=nothing-like-this")).ids).toEqual([]);
    });

    test("% _ and \\ are literal, not wildcards", async () => {
      expect((await ids(`q=${encodeURIComponent("50%")}`)).ids).toEqual([5]);
      expect((await ids("q=ela_")).ids).toEqual([3]);
      expect((await ids(`q=${encodeURIComponent("k\\s")}`)).ids).toEqual([8]);
    });

    test("a cursor continues the filtered list", async () => {
      const seen: number[] = [];
      let query = "q=math&limit=1";
      for (let page = 0; page < 5; page++) {
        const { ids: got, next } = await ids(query);
        seen.push(...got);
        if (!next) break;
        query = `q=math&limit=1&cursor=${next}`;
      }
      expect(seen).toEqual([1, 2, 7]);
    });

    test("an empty or overlong q is refused with 422", async () => {
      expect((await app.handle(new Request("http://localhost/items?q="))).status).toBe(422);
      const long = "a".repeat(201);
      const res = await app.handle(new Request(`http://localhost/items?q=${long}`));
      expect(res.status).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
    });
  });
}
