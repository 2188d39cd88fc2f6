/**
 * Applies the embedded drizzle-kit migrations. Compatible with drizzle's own migrator: the same
 * bookkeeping table (`__drizzle_migrations`, id/hash/created_at; in schema `drizzle` on Postgres)
 * and the same rule (apply every migration newer than the last one recorded).
 * With a Postgres schema other than `public` (DATABASE_SCHEMA), the schema is created when
 * missing, the migrations run inside it (drizzle-kit's `"public".` qualifiers rewritten to it),
 * and the bookkeeping table lives there too, so item-sync owns nothing outside its schema.
 * Postgres runs it in one transaction under an advisory lock, so replicas starting together
 * apply each migration exactly once; SQLite under BEGIN IMMEDIATE.
 */
import { StartupError } from "../lib/errors.ts";
import type { Db } from "./client.ts";
import { type EmbeddedMigration, PG_MIGRATIONS, SQLITE_MIGRATIONS } from "./migrations.gen.ts";

export type { EmbeddedMigration };

const PG_LOCK_KEY = 7_301_551_102; // arbitrary, constant: "item-sync migrations"

/** The migrations embedded for a dialect, oldest first. */
export function embeddedMigrations(dialect: Db["dialect"]): readonly EmbeddedMigration[] {
  return dialect === "pg" ? PG_MIGRATIONS : SQLITE_MIGRATIONS;
}

/**
 * Returns the tags of the migrations it applied (empty when the database was up to date).
 * `migrations` defaults to every embedded one; tests pass a prefix to build an older database.
 */
export async function migrate(
  db: Db,
  migrations: readonly EmbeddedMigration[] = embeddedMigrations(db.dialect),
  opts: { schema?: string } = {},
): Promise<string[]> {
  const schema = db.dialect === "pg" && opts.schema && opts.schema !== "public" ? opts.schema : null;
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  const bookkeeping = schema ?? "drizzle";
  const table = migrationsTable(db.dialect, opts.schema);
  const inSchema = (statement: string) =>
    schema === null ? statement : statement.replaceAll('"public".', `"${schema}".`);
  return db.transaction(async (tx) => {
    if (tx.dialect === "pg") {
      await tx.run(`select pg_advisory_xact_lock(${PG_LOCK_KEY})`);
      await tx.run(`create schema if not exists ${bookkeeping}`);
      if (schema !== null) await tx.run(`set local search_path to ${schema}`);
      await tx.run(
        `create table if not exists ${table} (id serial primary key, hash text not null, created_at bigint)`,
      );
    } else {
      await tx.run(
        `create table if not exists ${table} (id integer primary key autoincrement, hash text not null, created_at numeric)`,
      );
    }
    const [last] = await tx.all<{ created_at: unknown }>(
      `select created_at from ${table} order by created_at desc limit 1`,
    );
    const lastWhen = last ? Number(last.created_at) : 0;
    if (lastWhen === 0) await refuseForeignTables(tx, migrations, schema ?? "public");
    const applied: string[] = [];
    for (const m of migrations) {
      if (m.when <= lastWhen) continue;
      for (const statement of m.statements) await tx.run(inSchema(statement));
      await tx.run(`insert into ${table} (hash, created_at) values ($1, $2)`, [m.hash, m.when]);
      applied.push(m.tag);
    }
    return applied;
  });
}

/** The migrations' bookkeeping table: in DATABASE_SCHEMA when it is not `public`, else in `drizzle` (Postgres). */
export function migrationsTable(dialect: Db["dialect"], schema?: string): string {
  if (dialect !== "pg") return "__drizzle_migrations";
  return `${schema && schema !== "public" ? schema : "drizzle"}.__drizzle_migrations`;
}

/**
 * Before the first migration: tables the migrations create that already exist belong to another
 * application — in an old `imrt` database, the replaced service's `item` and `item_log`, or its
 * Spring Batch tables. Creating ours beside them would fail half-way with a bare "relation
 * already exists"; the operator is told which schema to give item-sync instead.
 */
async function refuseForeignTables(
  db: Db,
  migrations: readonly EmbeddedMigration[],
  schema: string,
): Promise<void> {
  const created = migrations.flatMap((m) =>
    m.statements.flatMap(
      (statement) => /^CREATE TABLE (?:IF NOT EXISTS )?[`"]([^`"]+)[`"]/i.exec(statement)?.[1] ?? [],
    ),
  );
  if (created.length === 0) return;
  const rows =
    db.dialect === "pg"
      ? await db.all<{ name: string }>(
          "select table_name as name from information_schema.tables where table_schema = $1 and table_name = any($2)",
          [schema, created],
        )
      : await db.all<{ name: string }>(
          `select name from sqlite_master where type = 'table' and name in (${created.map((_, i) => `$${i + 1}`).join(", ")})`,
          created,
        );
  if (rows.length === 0) return;
  const names = rows.map((r) => r.name).sort();
  const where = db.dialect === "pg" ? `schema "${schema}" (DATABASE_SCHEMA)` : "the SQLite database";
  const fix =
    db.dialect === "pg"
      ? "give item-sync a schema of its own, e.g. DATABASE_SCHEMA=item_sync (created if missing); the IMRT item tables stay where IMRT_SCHEMA says"
      : "point DATABASE_URL at a file of item-sync's own";
  throw new StartupError(
    `${where} already holds tables item-sync would create (${names.join(", ")}), and item-sync was never migrated there: they belong to another application (the replaced service's?); ${fix}`,
  );
}
