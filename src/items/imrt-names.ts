/**
 * Where the IMRT item tables live. On Postgres they are in IMRT_SCHEMA — where the replaced
 * service's migrations put them and where the Item Search Service's connection looks — while our
 * connections' search_path is DATABASE_SCHEMA alone, so every statement names them qualified. On
 * SQLite there are no schemas: the same tables sit beside ours.
 */
import type { Dialect } from "../db/client.ts";
import { IMRT_TABLE_NAMES, type ImrtTableName } from "./mapping/imrt-tables.ts";

export { IMRT_TABLE_NAMES, type ImrtTableName } from "./mapping/imrt-tables.ts";

/** Each IMRT table's name as a statement must write it (`"imrt"."item"`, or `item` on SQLite). */
export type ImrtTables = Readonly<Record<ImrtTableName, string>> & {
  /** The schema (Postgres), null on SQLite. */
  readonly schema: string | null;
};

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function imrtTables(dialect: Dialect, schema = "public"): ImrtTables {
  if (dialect === "pg" && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid IMRT schema name ${JSON.stringify(schema)}`);
  }
  const qualify = (name: string) => (dialect === "pg" ? `"${schema}"."${name}"` : name);
  const names = Object.fromEntries(IMRT_TABLE_NAMES.map((n) => [n, qualify(n)])) as Record<
    ImrtTableName,
    string
  >;
  return { ...names, schema: dialect === "pg" ? schema : null };
}
