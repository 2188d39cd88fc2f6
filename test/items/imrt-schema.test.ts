/**
 * The IMRT tables' existence: created when missing (in IMRT_SCHEMA on Postgres, beside ours on
 * SQLite), used as they are when the replaced service's migrations built them — never altered —
 * and a missing column item-sync writes named, table and column, in a StartupError.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db/client.ts";
import { IMRT_TABLE_NAMES, imrtTables } from "../../src/items/imrt-names.ts";
import { checkImrtTables, ensureImrtTables } from "../../src/items/imrt-schema.ts";
import { writeRevision } from "../../src/items/imrt-write.ts";
import { mapItem } from "../../src/items/mapping/map-item.ts";
import { readItemDocument } from "../../src/items/mapping/read-document.ts";
import { StartupError } from "../../src/lib/errors.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

const V44 = readFileSync(join(import.meta.dir, "../fixtures/imrt-v44.sql"), "utf8");

/** Every column of the schema's tables with its type, nullability and default: the shape. */
async function shape(db: Db, schema: string) {
  return db.all(
    `select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
     where table_schema = $1 order by table_name, column_name`,
    [schema],
  );
}

describe.each(DIALECTS)("IMRT tables on %s", (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  test("missing tables are created, with the V44 columns and the three V47 item columns, and pass the check", async () => {
    t = await createTestDatabase(dialect, { imrt: false });
    const tables = imrtTables(t.db.dialect, "imrt_items");
    await expect(checkImrtTables(t.db, tables)).rejects.toThrow(/table item is missing.*item-sync migrate/);
    expect(await ensureImrtTables(t.db, tables)).toEqual([...IMRT_TABLE_NAMES]);
    expect(await ensureImrtTables(t.db, tables)).toEqual([]); // a second run creates nothing
    await checkImrtTables(t.db, tables);
    const columns =
      dialect === "pg"
        ? await t.db.all<{ name: string }>(
            "select column_name as name from information_schema.columns where table_schema = 'imrt_items' and table_name = 'item'",
          )
        : await t.db.all<{ name: string }>("select name from pragma_table_info('item')");
    const names = columns.map((c) => c.name);
    expect(names).toHaveLength(93);
    expect(names).toEqual(
      expect.arrayContaining([
        "key",
        "workflow_status_set_at",
        "pencil_paper",
        "state_specific_use_description",
      ]),
    );
  });
});

describe("IMRT tables a V44 database already has (Postgres)", () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  test("are used as they are: nothing created, nothing altered, the check passes", async () => {
    t = await createTestDatabase("pg", { imrt: false });
    await t.db.run(V44);
    const before = await shape(t.db, "public");
    const tables = imrtTables("pg", "public");
    expect(await ensureImrtTables(t.db, tables)).toEqual([]);
    await checkImrtTables(t.db, tables);
    expect(await shape(t.db, "public")).toEqual(before);
  });

  test("a missing column item-sync writes stops start-up naming table and column", async () => {
    t = await createTestDatabase("pg", { imrt: false });
    await t.db.run(V44);
    await t.db.run("alter table item drop column workflow_status_set_at");
    await t.db.run("alter table item_keyword drop column section");
    const tables = imrtTables("pg", "public");
    const err = await checkImrtTables(t.db, tables).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    const message = (err as Error).message;
    expect(message).toContain(
      'table item has no column workflow_status_set_at in schema "public" (IMRT_SCHEMA)',
    );
    expect(message).toContain("table item_keyword has no column section");
    expect(message).toContain("never alters");
  });

  test("columns item-sync never writes may be missing: the check passes and a new item is still written", async () => {
    t = await createTestDatabase("pg", { imrt: false });
    await t.db.run(V44);
    await t.db.run("alter table item drop column commit_id");
    await t.db.run("alter table item drop column item_version");
    const tables = imrtTables("pg", "public");
    await checkImrtTables(t.db, tables);
    const reading = readItemDocument(JSON.stringify({ id: "7001", type: "mc" }));
    if (!reading.ok) throw new Error(reading.reason);
    const head = { id: "c1", committedDate: new Date("2020-01-01T00:00:00Z"), authorName: "a" };
    const written = await t.db.transaction((tx) =>
      writeRevision(
        tx,
        tables,
        {
          projectId: 70,
          groupPath: "g/item-70",
          branch: "main",
          item: reading.item,
          mapped: mapItem(reading.item, { commitDate: head.committedDate }),
          head,
          newCommits: [head],
          firstCommit: head,
          statusRunStart: { kind: "commit", commit: head },
          beingCreated: false,
          now: new Date(),
        },
        null,
      ),
    );
    expect(written.kind).toBe("created");
    expect(await t.db.all("select id from item")).toEqual([{ id: 7001 }]);
  });
});
