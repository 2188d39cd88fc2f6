/**
 * The vocabulary for describing IMRT table columns as data (IMRT-ITEMS.md §1.1, §2): the SQL
 * types the tables use, their defaults, and the column spec both table writers, the DDL
 * generator (Postgres and SQLite) and the check of an existing database read.
 */

/** The column types of the IMRT tables (§1.1); `varchar` has no length except `item_keyword.section`. */
export type SqlType =
  | "integer"
  | "varchar"
  | "varchar(60)"
  | "text"
  | "boolean"
  | "timestamptz"
  | "json"
  | "uuid";

/** A column's SQL default, structured so each dialect can spell it. */
export type SqlDefault =
  /** A literal: `''`, `0`, `false`, `'master'`. */
  | { kind: "value"; value: string | number | boolean }
  /** `current_timestamp`. */
  | { kind: "now" }
  /** `nextval('<sequence>')`: a serial surrogate key. */
  | { kind: "sequence"; sequence: string };

export interface ColumnSpec<Name extends string = string> {
  name: Name;
  type: SqlType;
  nullable: boolean;
  default: SqlDefault | null;
  /**
   * Set only on columns added after V44 (V46, V47): an existing V44 database may lack them, and
   * item-sync never writes them (their default fills new rows).
   */
  since?: "V46" | "V47";
}

export const EMPTY_TEXT: SqlDefault = { kind: "value", value: "" };
export const ZERO: SqlDefault = { kind: "value", value: 0 };
export const FALSE: SqlDefault = { kind: "value", value: false };
export const NOW: SqlDefault = { kind: "now" };
export const sequence = (name: string): SqlDefault => ({ kind: "sequence", sequence: name });

/** A NOT NULL column. */
export function required<Name extends string>(
  name: Name,
  type: SqlType,
  dflt: SqlDefault | null = null,
): ColumnSpec<Name> {
  return { name, type, nullable: false, default: dflt };
}

/** A nullable column (none of the IMRT nullable columns has a default). */
export function optional<Name extends string>(name: Name, type: SqlType): ColumnSpec<Name> {
  return { name, type, nullable: true, default: null };
}
