/**
 * Upgrades: a database built by an older release (only the first migration) gets exactly the
 * newer migrations on the next start, keeps its rows, and is then up to date — on both dialects.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { embeddedMigrations, migrate } from "../../src/db/migrate.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

for (const dialect of DIALECTS) {
  describe(`migrations on ${dialect}`, () => {
    let t: TestDatabase | undefined;
    afterEach(async () => {
      await t?.drop();
      t = undefined;
    });

    test("an older database gets the newer migrations only, and keeps its rows", async () => {
      t = await createTestDatabase(dialect, { migrated: false });
      const all = embeddedMigrations(dialect);
      expect(all.length).toBeGreaterThanOrEqual(2);
      const [first, ...newer] = all;
      if (!first) throw new Error("no migrations embedded");
      expect(await migrate(t.db, [first])).toEqual([first.tag]);
      await t.db.run(
        "insert into item (project_id, project_path, name, created_at, updated_at) values ($1, $2, $3, $4, $4)",
        [7, "imrt/items/item-7", "item-7", new Date()],
      );
      expect(await migrate(t.db)).toEqual(newer.map((m) => m.tag));
      expect(await migrate(t.db)).toEqual([]);
      // the row item-sync kept in its own item table lives on in sync_project (0003)
      expect(await t.db.all("select project_id from sync_project")).toEqual([{ project_id: 7 }]);
      expect(await t.db.all("select * from ingest_redelivery")).toEqual([]);
    });
  });
}
