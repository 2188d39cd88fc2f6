/**
 * Throwaway databases for integration tests: a fresh SQLite file, or a fresh database on the
 * private Postgres server the test command starts (TEST_PG_URL), migrated, dropped afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type Db, openDb } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { ensureImrtTables } from "../../src/items/imrt-schema.ts";

export type Dialect = "sqlite" | "pg";
export const DIALECTS: Dialect[] = ["sqlite", "pg"];

export function pgAdminUrl(): string {
  const url = process.env.TEST_PG_URL;
  if (!url) throw new Error("TEST_PG_URL is not set: run the tests with `bun run test` (it starts Postgres)");
  return url;
}

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/**
 * A new, empty database migrated as `item-sync migrate` does it (our tables, and the IMRT tables
 * in `public`); `migrated: false` leaves it empty.
 */
export async function createTestDatabase(
  dialect: Dialect,
  /** `imrt: false`: no IMRT tables (a test that builds its own) */
  opts: { migrated?: boolean; imrt?: boolean } = {},
): Promise<TestDatabase> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "item-sync-test-"));
    url = `sqlite:${join(dir, "test.db")}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const admin = pgAdminUrl();
    const name = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    const sql = postgres(admin, { max: 1, onnotice: () => {} });
    await sql.unsafe(`create database ${name}`);
    await sql.end();
    const u = new URL(admin);
    u.pathname = `/${name}`;
    url = u.toString();
    cleanup = async () => {
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      await s.unsafe(`drop database if exists ${name} with (force)`);
      await s.end();
    };
  }
  const db = openDb(url);
  if (opts.migrated !== false) {
    await migrate(db);
    if (opts.imrt !== false) await ensureImrtTables(db, imrtTables(db.dialect));
  }
  return {
    url,
    db,
    async drop() {
      await db.close();
      await cleanup();
    },
  };
}
