/**
 * Every IMRT item table as data (IMRT-ITEMS.md §2, state at V44, plus V46's
 * `validation_result.occurrence_date` and the V47 `item` columns): columns with type, nullability
 * and default, primary key, unique constraints, foreign keys, indexes and the sequences behind
 * serial keys. Enough to generate the DDL for Postgres and SQLite and to verify an existing
 * database's tables. Constraint names are given where the migrations name them (V8, V29, V39);
 * the others were named by Postgres and nothing reads those names.
 *
 * No foreign key cascades (§2): children are deleted before the item row.
 */

import { ITEM_COLUMNS } from "./item-columns.ts";
import { type ColumnSpec, EMPTY_TEXT, NOW, optional, required, sequence } from "./sql-columns.ts";

export interface ForeignKeySpec {
  columns: readonly string[];
  table: ImrtTableName;
  references: readonly string[];
}

export interface TableSpec {
  name: ImrtTableName;
  columns: readonly ColumnSpec[];
  primaryKey: readonly string[];
  /** `name` null: the migration left naming to Postgres. */
  unique: readonly { name: string | null; columns: readonly string[] }[];
  foreignKeys: readonly ForeignKeySpec[];
  /** Non-unique b-tree indexes. */
  indexes: readonly { name: string; columns: readonly string[] }[];
  /** Sequences behind this table's serial key (create before the table). */
  sequences: readonly string[];
}

export const IMRT_TABLE_NAMES = [
  "item",
  "item_git",
  "item_log",
  "stim_link",
  "item_attachment",
  "item_form",
  "item_content_update_need",
  "item_keyword",
  "item_assignment",
  "validation_result",
  "project_lock",
] as const;
export type ImrtTableName = (typeof IMRT_TABLE_NAMES)[number];

const toItem = (column: string): ForeignKeySpec => ({
  columns: [column],
  table: "item",
  references: ["key"],
});
const auditColumns = [required("created_at", "timestamptz", NOW), required("updated_at", "timestamptz", NOW)];

/** In creation order: `item` first (every other table but `project_lock` references it). */
export const IMRT_TABLES: Record<ImrtTableName, TableSpec> = {
  item: {
    name: "item",
    columns: ITEM_COLUMNS,
    primaryKey: ["key"],
    unique: [{ name: "unique_id_constraint", columns: ["id"] }],
    foreignKeys: [],
    indexes: [
      {
        name: "ix_item_id_associated_stimulus_id_workflow_status_grade_subject",
        columns: ["id", "associated_stimulus_id", "workflow_status", "grade", "subject"],
      },
    ],
    sequences: ["item_key_seq"],
  },
  item_git: {
    name: "item_git",
    columns: [
      required("item_key", "integer"),
      required("project_id", "integer"),
      required("project_path", "varchar"),
      required("current_commit_hash", "varchar"),
      ...auditColumns,
      required("updated_by", "varchar"),
      required("current_commit_date", "timestamptz"),
      required("ingest_source", "varchar", { kind: "value", value: "master" }),
    ],
    primaryKey: ["project_id"],
    unique: [{ name: null, columns: ["item_key", "project_id"] }],
    foreignKeys: [toItem("item_key")],
    indexes: [],
    sequences: [],
  },
  item_log: {
    name: "item_log",
    columns: [
      required("item_key", "integer"),
      required("commit_hash", "varchar"),
      required("commit_date", "timestamptz", NOW),
      ...auditColumns,
      required("updated_by", "varchar"),
      required("ingest_source", "varchar", { kind: "value", value: "master" }),
    ],
    primaryKey: ["item_key", "commit_hash"],
    unique: [],
    foreignKeys: [toItem("item_key")],
    indexes: [],
    sequences: [],
  },
  stim_link: {
    name: "stim_link",
    columns: [required("item_key", "integer"), required("item_key_stim", "integer")],
    primaryKey: ["item_key"],
    unique: [],
    foreignKeys: [toItem("item_key"), toItem("item_key_stim")],
    indexes: [],
    sequences: [],
  },
  item_attachment: {
    name: "item_attachment",
    columns: [
      required("item_key", "integer"),
      required("file_name", "varchar"),
      required("file_type", "varchar"),
      required("uploaded_at", "timestamptz", NOW),
      ...auditColumns,
      required("updated_by", "varchar"),
    ],
    primaryKey: ["item_key", "file_name", "file_type"],
    unique: [],
    foreignKeys: [toItem("item_key")],
    indexes: [],
    sequences: [],
  },
  item_form: {
    name: "item_form",
    columns: [
      required("key", "integer", sequence("item_form_key_seq")),
      required("item_key", "integer"),
      optional("assessment_type", "varchar"),
      optional("form_id", "varchar"),
      optional("form_type", "varchar"),
      optional("exposures", "integer"),
      ...auditColumns,
      required("updated_by", "varchar"),
    ],
    primaryKey: ["key"],
    unique: [],
    foreignKeys: [toItem("item_key")],
    indexes: [],
    sequences: ["item_form_key_seq"],
  },
  item_content_update_need: {
    name: "item_content_update_need",
    columns: [
      required("key", "integer", sequence("item_content_update_need_key_seq")),
      required("item_key", "integer"),
      optional("internal_resolution", "varchar"),
      optional("notes", "varchar"),
      optional("resolution", "varchar"),
      optional("resolution_notes", "varchar"),
      optional("content_update_need_create_date", "timestamptz"),
      optional("internal_resolution_date", "timestamptz"),
      optional("resolution_date", "timestamptz"),
      // V32 made these audit columns nullable without a default; the writer fills them anyway.
      optional("created_at", "timestamptz"),
      optional("updated_at", "timestamptz"),
      required("updated_by", "varchar"),
    ],
    primaryKey: ["key"],
    unique: [],
    foreignKeys: [toItem("item_key")],
    indexes: [],
    sequences: ["item_content_update_need_key_seq"],
  },
  item_keyword: {
    name: "item_keyword",
    columns: [
      required("key", "integer", sequence("item_keyword_key_seq")),
      required("item_key", "integer"),
      optional("section", "varchar(60)"),
      required("content", "text"),
    ],
    primaryKey: ["key"],
    unique: [],
    foreignKeys: [toItem("item_key")],
    indexes: [{ name: "idx_item_key_section", columns: ["item_key", "section"] }],
    sequences: ["item_keyword_key_seq"],
  },
  item_assignment: {
    name: "item_assignment",
    columns: [
      required("key", "integer", sequence("item_assignment_key_seq")),
      required("item_key", "integer"),
      required("assigned_to", "varchar"),
      required("assigned_by", "varchar"),
      required("assigned_date", "timestamptz"),
      ...auditColumns,
      required("updated_by", "varchar"),
    ],
    primaryKey: ["key"],
    unique: [],
    foreignKeys: [toItem("item_key")],
    indexes: [],
    sequences: ["item_assignment_key_seq"],
  },
  validation_result: {
    name: "validation_result",
    columns: [
      required("key", "integer", sequence("validation_result_key_seq")),
      required("item_key", "integer"),
      required("validation_item_id", "varchar"),
      required("validation_item_type", "varchar", EMPTY_TEXT),
      required("category", "varchar", EMPTY_TEXT),
      required("severity", "varchar", EMPTY_TEXT),
      required("message", "varchar", EMPTY_TEXT),
      required("detail", "varchar", EMPTY_TEXT),
      ...auditColumns,
      required("updated_by", "varchar"),
      // V46 (§1.3): the Item Search Service HEAD maps it; filled by its default.
      { ...required("occurrence_date", "timestamptz", NOW), since: "V46" },
    ],
    primaryKey: ["key"],
    unique: [],
    foreignKeys: [toItem("item_key")],
    indexes: [],
    sequences: ["validation_result_key_seq"],
  },
  project_lock: {
    name: "project_lock",
    columns: [
      required("project_id", "integer"),
      required("locked_at", "timestamptz"),
      ...auditColumns,
      required("updated_by", "varchar"),
    ],
    primaryKey: ["project_id"],
    unique: [],
    foreignKeys: [],
    indexes: [],
    sequences: [],
  },
};

/** §2: the six sequences of V44, each behind one serial `key`. */
export const IMRT_SEQUENCES = IMRT_TABLE_NAMES.flatMap((table) => IMRT_TABLES[table].sequences);
