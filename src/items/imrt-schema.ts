/**
 * The IMRT item tables' existence, never their shape: `ensureImrtTables` creates the tables that
 * are missing (IMRT-ITEMS.md §2 plus the V47 `item` columns, generated from the column data of
 * mapping/imrt-tables.ts) and leaves every existing one as it is — a database the replaced
 * service's Flyway migrations built is used, never altered. `checkImrtTables` then makes sure
 * every column item-sync writes is there; a missing table or column is a StartupError (exit 2)
 * naming it. Not drizzle's: the schema is IMRT_SCHEMA, chosen at run time, and the tables may
 * belong to someone else.
 */
import type { Db } from "../db/client.ts";
import { StartupError } from "../lib/errors.ts";
import { IMRT_TABLE_NAMES, type ImrtTableName, type ImrtTables } from "./imrt-names.ts";
import { IMRT_TABLES, type TableSpec } from "./mapping/imrt-tables.ts";
import type { ColumnSpec, SqlDefault } from "./mapping/sql-columns.ts";

/**
 * Columns of V44 tables item-sync never writes (the TIMS era's): their absence is no problem, and
 * an insert leaves them to their SQL default (NULL).
 */
export const NEVER_WRITTEN = new Set(["item.commit_id", "item.item_version"]);

/** The columns item-sync writes or reads, per table: what an existing table must have. */
export function requiredColumns(table: TableSpec): string[] {
  return table.columns
    .filter((c) => c.since === undefined && !NEVER_WRITTEN.has(`${table.name}.${c.name}`))
    .map((c) => c.name);
}

/** Creates the IMRT tables that do not exist yet; returns their names. */
export async function ensureImrtTables(db: Db, tables: ImrtTables): Promise<ImrtTableName[]> {
  return db.transaction(async (tx) => {
    if (tx.dialect === "pg") {
      // the same advisory lock as our migrations: replicas starting together create each table once
      await tx.run("select pg_advisory_xact_lock(7301551103)");
      await tx.run(`create schema if not exists "${tables.schema}"`);
    }
    const existing = await existingTables(tx, tables);
    const created: ImrtTableName[] = [];
    for (const name of IMRT_TABLE_NAMES) {
      if (existing.has(name)) continue;
      for (const statement of createStatements(tx.dialect, tables, IMRT_TABLES[name]))
        await tx.run(statement);
      created.push(name);
    }
    return created;
  });
}

/** Throws a StartupError listing every missing IMRT table or column item-sync needs. */
export async function checkImrtTables(db: Db, tables: ImrtTables): Promise<void> {
  const columns = await existingColumns(db, tables);
  const where = tables.schema === null ? "" : ` in schema "${tables.schema}" (IMRT_SCHEMA)`;
  const problems: string[] = [];
  for (const name of IMRT_TABLE_NAMES) {
    const have = columns.get(name);
    if (!have) {
      problems.push(`table ${name} is missing${where}`);
      continue;
    }
    for (const column of requiredColumns(IMRT_TABLES[name])) {
      if (!have.has(column))
        problems.push(`table ${name} has no column ${column}${where}, which item-sync writes`);
    }
  }
  if (problems.length === 0) return;
  const hint = problems.every((p) => p.includes("is missing"))
    ? "run `item-sync migrate` (or start with DB_MIGRATE=true) to create them"
    : "item-sync never alters existing IMRT tables: add the column (the replaced service's schema migrations up to V44 have it), or point IMRT_SCHEMA at the right schema";
  throw new StartupError(`IMRT item tables not usable: ${problems.join("; ")}: ${hint}`);
}

async function existingTables(db: Db, tables: ImrtTables): Promise<Set<string>> {
  return new Set((await existingColumns(db, tables)).keys());
}

async function existingColumns(db: Db, tables: ImrtTables): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const add = (table: string, column: string) => {
    const set = out.get(table) ?? new Set<string>();
    set.add(column);
    out.set(table, set);
  };
  if (db.dialect === "pg") {
    const rows = await db.all<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
       where table_schema = $1 and table_name in (${IMRT_TABLE_NAMES.map((_, i) => `$${i + 2}`).join(", ")})`,
      [tables.schema, ...IMRT_TABLE_NAMES],
    );
    for (const r of rows) add(r.table_name, r.column_name);
    return out;
  }
  for (const name of IMRT_TABLE_NAMES) {
    const rows = await db.all<{ name: string }>(`select name from pragma_table_info('${name}')`);
    for (const r of rows) add(name, r.name);
  }
  return out;
}

/** The DDL of one table for a dialect: its sequences, the table with its keys, its indexes. */
export function createStatements(dialect: Db["dialect"], tables: ImrtTables, table: TableSpec): string[] {
  const pg = dialect === "pg";
  const name = tables[table.name];
  const qualified = (n: string) => (pg ? `"${tables.schema}"."${n}"` : n);
  // SQLite: a serial single-column key is its rowid alias
  const rowidKey =
    !pg && table.primaryKey.length === 1
      ? table.columns.find((c) => c.name === table.primaryKey[0] && c.default?.kind === "sequence")
      : undefined;
  const columnDdl = (c: ColumnSpec) => {
    if (c === rowidKey) return `${c.name} integer primary key autoincrement`;
    const dflt = c.default ? ` default ${defaultDdl(dialect, tables, c.default)}` : "";
    return `${c.name} ${typeDdl(dialect, c)}${c.nullable ? "" : " not null"}${dflt}`;
  };
  const parts = table.columns.map(columnDdl);
  if (!rowidKey) parts.push(`primary key (${table.primaryKey.join(", ")})`);
  for (const u of table.unique) {
    parts.push(`${u.name ? `constraint ${u.name} ` : ""}unique (${u.columns.join(", ")})`);
  }
  for (const fk of table.foreignKeys) {
    parts.push(
      `foreign key (${fk.columns.join(", ")}) references ${tables[fk.table]} (${fk.references.join(", ")})`,
    );
  }
  const statements = pg ? table.sequences.map((s) => `create sequence if not exists ${qualified(s)}`) : [];
  statements.push(`create table ${name} (\n  ${parts.join(",\n  ")}\n)`);
  for (const seq of pg ? table.sequences : []) {
    const owner = table.columns.find((c) => c.default?.kind === "sequence" && c.default.sequence === seq);
    if (owner) statements.push(`alter sequence ${qualified(seq)} owned by ${name}.${owner.name}`);
  }
  for (const ix of table.indexes) {
    // Postgres puts an index in its table's schema; SQLite has one namespace per database
    statements.push(`create index ${ix.name} on ${name} (${ix.columns.join(", ")})`);
  }
  return statements;
}

function typeDdl(dialect: Db["dialect"], c: ColumnSpec): string {
  if (dialect === "pg") {
    return c.type === "timestamptz"
      ? "timestamp with time zone"
      : c.type === "varchar"
        ? "character varying"
        : c.type;
  }
  // SQLite: timestamps are epoch milliseconds and booleans 0/1, as everywhere in item-sync (db/client.ts)
  switch (c.type) {
    case "integer":
    case "boolean":
    case "timestamptz":
      return "integer";
    default:
      return "text";
  }
}

function defaultDdl(dialect: Db["dialect"], tables: ImrtTables, d: SqlDefault): string {
  switch (d.kind) {
    case "now":
      return dialect === "pg" ? "current_timestamp" : "(cast(unixepoch('subsec') * 1000 as integer))";
    case "sequence":
      return `nextval('"${tables.schema}"."${d.sequence}"'::regclass)`;
    case "value":
      if (typeof d.value === "string") return `'${d.value.replaceAll("'", "''")}'`;
      if (typeof d.value === "boolean") return dialect === "pg" ? String(d.value) : d.value ? "1" : "0";
      return String(d.value);
  }
}
