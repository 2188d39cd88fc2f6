/**
 * A database made by the release before the IMRT item tables (item-sync's own `item` and
 * `item_log`) is upgraded by `migrate` with nothing lost: every project's facts move to
 * sync_project, every log row to sync_item_event, and the names the IMRT tables need (`item`,
 * `item_log`, `item_pkey`) are free afterwards.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { toDate } from "../../src/db/client.ts";
import { embeddedMigrations, migrate } from "../../src/db/migrate.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";

const BEFORE_IMRT = "0002_execution_origin_and_incremental";

describe.each(DIALECTS)("upgrade from the release before the IMRT tables on %s", (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  test("item and item_log rows move to sync_project and sync_item_event, nothing lost", async () => {
    t = await createTestDatabase(dialect, { migrated: false });
    const all = embeddedMigrations(t.db.dialect);
    const old = all.slice(0, all.findIndex((m) => m.tag === BEFORE_IMRT) + 1);
    expect(old.at(-1)?.tag).toBe(BEFORE_IMRT);
    await migrate(t.db, old);
    const at = new Date("2026-11-30T10:00:00.000Z");
    const verified = new Date("2026-12-01T08:00:00.000Z");
    await t.db.run(
      `insert into item (project_id, project_path, name, default_branch, current_commit_hash, current_commit_date,
         item_json, created_at, updated_at, hook_verified_at)
       values (7, 'imrt/items/item-7', 'Item 7', 'main', 'abc123', $1, '{"id":"300101"}', $1, $1, $2),
              (8, 'imrt/items/item-8', 'Item 8', null, null, null, null, $1, $1, null)`,
      [at, verified],
    );
    await t.db.run(
      `insert into item_log (project_id, action, commit_hash, commit_date, job_execution_id, message_id, created_at)
       values (7, 'created', 'abc000', $1, 3, '3:update-item:7', $1), (7, 'updated', 'abc123', $1, null, 'abc123:update-item:7', $1)`,
      [at],
    );

    expect(await migrate(t.db)).toContain("0003_sync_project");

    const projects = await t.db.all<Record<string, unknown>>(
      `select project_id, project_path, name, default_branch, head_commit_hash, head_item_json, hook_verified_at,
         ingest_state, validation_pending from sync_project order by project_id`,
    );
    expect(projects.map((p) => [Number(p.project_id), p.project_path, p.name, p.default_branch])).toEqual([
      [7, "imrt/items/item-7", "Item 7", "main"],
      [8, "imrt/items/item-8", "Item 8", null],
    ]);
    expect(projects[0]?.head_commit_hash).toBe("abc123");
    expect(projects[0]?.head_item_json).toBe('{"id":"300101"}');
    expect(toDate(projects[0]?.hook_verified_at)).toEqual(verified);
    // never ingested into the IMRT tables: the first sync after the upgrade must publish update-item
    expect(projects[0]?.ingest_state).toBeNull();

    const events = await t.db.all<Record<string, unknown>>(
      "select project_id, action, commit_hash, job_execution_id, message_id from sync_item_event order by id",
    );
    expect(events.map((e) => [Number(e.project_id), e.action, e.commit_hash, e.message_id])).toEqual([
      [7, "created", "abc000", "3:update-item:7"],
      [7, "updated", "abc123", "abc123:update-item:7"],
    ]);
    // the event log keeps numbering after the rows it kept
    await t.db.run("insert into sync_item_event (project_id, action, created_at) values (8, 'deleted', $1)", [
      at,
    ]);
    const [last] = await t.db.all<{ id: number }>("select max(id) as id from sync_item_event");
    expect(Number(last?.id)).toBe(3);

    // the IMRT tables' names are free in this schema
    if (dialect === "pg") {
      const taken = await t.db.all<{ relname: string }>(
        "select relname from pg_class where relname in ('item', 'item_log', 'item_pkey', 'item_log_pkey', 'item_log_id_seq')",
      );
      expect(taken).toEqual([]);
    } else {
      const taken = await t.db.all<{ name: string }>(
        "select name from sqlite_master where name in ('item', 'item_log')",
      );
      expect(taken).toEqual([]);
    }
  });
});
