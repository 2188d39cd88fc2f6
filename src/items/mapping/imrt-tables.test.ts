/** The child table specs against IMRT-ITEMS.md §2.2–§2.11 (V44) and §1.3 (V46). */

import { describe, expect, test } from "bun:test";
import { IMRT_SEQUENCES, IMRT_TABLE_NAMES, IMRT_TABLES } from "./imrt-tables.ts";
import { specDefault } from "./test-kit.ts";

/** §2.2–§2.11 as printed (name | type | null | default), plus V46's occurrence_date (§1.3). */
const CHILD_TABLES_TEXT = `
  item_git
    item_key | integer | no | –
    project_id | integer | no | –
    project_path | varchar | no | –
    current_commit_hash | varchar | no | –
    created_at | timestamptz | no | current_timestamp
    updated_at | timestamptz | no | current_timestamp
    updated_by | varchar | no | –
    current_commit_date | timestamptz | no | –
    ingest_source | varchar | no | 'master'
  item_log
    item_key | integer | no | –
    commit_hash | varchar | no | –
    commit_date | timestamptz | no | current_timestamp
    created_at | timestamptz | no | current_timestamp
    updated_at | timestamptz | no | current_timestamp
    updated_by | varchar | no | –
    ingest_source | varchar | no | 'master'
  stim_link
    item_key | integer | no | –
    item_key_stim | integer | no | –
  item_attachment
    item_key | integer | no | –
    file_name | varchar | no | –
    file_type | varchar | no | –
    uploaded_at | timestamptz | no | current_timestamp
    created_at | timestamptz | no | current_timestamp
    updated_at | timestamptz | no | current_timestamp
    updated_by | varchar | no | –
  item_form
    key | integer | no | nextval
    item_key | integer | no | –
    assessment_type | varchar | yes | –
    form_id | varchar | yes | –
    form_type | varchar | yes | –
    exposures | integer | yes | –
    created_at | timestamptz | no | current_timestamp
    updated_at | timestamptz | no | current_timestamp
    updated_by | varchar | no | –
  item_content_update_need
    key | integer | no | nextval
    item_key | integer | no | –
    internal_resolution | varchar | yes | –
    notes | varchar | yes | –
    resolution | varchar | yes | –
    resolution_notes | varchar | yes | –
    content_update_need_create_date | timestamptz | yes | –
    internal_resolution_date | timestamptz | yes | –
    resolution_date | timestamptz | yes | –
    created_at | timestamptz | yes | –
    updated_at | timestamptz | yes | –
    updated_by | varchar | no | –
  item_keyword
    key | integer | no | nextval
    item_key | integer | no | –
    section | varchar(60) | yes | –
    content | text | no | –
  item_assignment
    key | integer | no | nextval
    item_key | integer | no | –
    assigned_to | varchar | no | –
    assigned_by | varchar | no | –
    assigned_date | timestamptz | no | –
    created_at | timestamptz | no | current_timestamp
    updated_at | timestamptz | no | current_timestamp
    updated_by | varchar | no | –
  validation_result
    key | integer | no | nextval
    item_key | integer | no | –
    validation_item_id | varchar | no | –
    validation_item_type | varchar | no | ''
    category | varchar | no | ''
    severity | varchar | no | ''
    message | varchar | no | ''
    detail | varchar | no | ''
    created_at | timestamptz | no | current_timestamp
    updated_at | timestamptz | no | current_timestamp
    updated_by | varchar | no | –
    occurrence_date | timestamptz | no | current_timestamp
  project_lock
    project_id | integer | no | –
    locked_at | timestamptz | no | –
    created_at | timestamptz | no | current_timestamp
    updated_at | timestamptz | no | current_timestamp
    updated_by | varchar | no | –
`;

const CHILD_TABLES_AS_SPECIFIED = new Map<string, unknown[]>();
{
  let table = "";
  for (const line of CHILD_TABLES_TEXT.trim().split("\n")) {
    if (!line.includes("|")) {
      table = line.trim();
      CHILD_TABLES_AS_SPECIFIED.set(table, []);
      continue;
    }
    const [name, type, nullable, dflt = ""] = line.split("|").map((cell) => cell.trim());
    const sequenceDefault = { kind: "sequence", sequence: `${table}_key_seq` };
    CHILD_TABLES_AS_SPECIFIED.get(table)?.push({
      name,
      type,
      nullable: nullable === "yes",
      default: dflt === "nextval" ? sequenceDefault : specDefault(dflt),
    });
  }
}

const column = (table: keyof typeof IMRT_TABLES, name: string) =>
  IMRT_TABLES[table].columns.find((c) => c.name === name);

describe("child tables (§2.2–§2.11)", () => {
  test("all eleven tables, item first; every other table but project_lock references item(key)", () => {
    expect(Object.keys(IMRT_TABLES)).toEqual([...IMRT_TABLE_NAMES]);
    expect(IMRT_TABLE_NAMES[0]).toBe("item");
    for (const name of IMRT_TABLE_NAMES) {
      const table = IMRT_TABLES[name];
      expect(table.name).toBe(name);
      const names = new Set(table.columns.map((c) => c.name));
      expect(names.size).toBe(table.columns.length);
      for (const key of table.primaryKey) expect(names.has(key)).toBe(true);
      for (const fk of table.foreignKeys) {
        expect(fk).toMatchObject({ table: "item", references: ["key"] });
        for (const c of fk.columns) expect(names.has(c)).toBe(true);
      }
      for (const index of table.indexes) for (const c of index.columns) expect(names.has(c)).toBe(true);
      if (name !== "item" && name !== "project_lock") expect(table.foreignKeys.length).toBeGreaterThan(0);
    }
  });

  test("the six V44 sequences, each the default of its table's key", () => {
    expect([...IMRT_SEQUENCES].sort()).toEqual(
      [
        "item_key_seq",
        "item_form_key_seq",
        "validation_result_key_seq",
        "item_content_update_need_key_seq",
        "item_keyword_key_seq",
        "item_assignment_key_seq",
      ].sort(),
    );
    for (const name of IMRT_TABLE_NAMES) {
      for (const seq of IMRT_TABLES[name].sequences) {
        expect(column(name, "key")?.default).toEqual({ kind: "sequence", sequence: seq });
      }
    }
  });

  test.each([
    ["item_git", ["project_id"]],
    ["item_log", ["item_key", "commit_hash"]],
    ["stim_link", ["item_key"]],
    ["item_attachment", ["item_key", "file_name", "file_type"]],
    ["item_form", ["key"]],
    ["item_content_update_need", ["key"]],
    ["item_keyword", ["key"]],
    ["item_assignment", ["key"]],
    ["validation_result", ["key"]],
    ["project_lock", ["project_id"]],
  ] as const)("%s: primary key %j, every column as §2 says", (name, primaryKey) => {
    expect(IMRT_TABLES[name].primaryKey).toEqual([...primaryKey]);
    const specified = CHILD_TABLES_AS_SPECIFIED.get(name) ?? [];
    expect(IMRT_TABLES[name].columns.map(({ since: _since, ...spec }) => spec)).toEqual(specified as never);
  });

  test("column details that readers depend on", () => {
    expect(column("item_keyword", "section")).toMatchObject({ type: "varchar(60)", nullable: true });
    expect(column("item_keyword", "content")).toMatchObject({ type: "text", nullable: false });
    expect(IMRT_TABLES.item_keyword.indexes).toEqual([
      { name: "idx_item_key_section", columns: ["item_key", "section"] },
    ]);
    expect(column("item_git", "ingest_source")?.default).toEqual({ kind: "value", value: "master" });
    expect(IMRT_TABLES.item_git.unique).toEqual([{ name: null, columns: ["item_key", "project_id"] }]);
    expect(IMRT_TABLES.stim_link.foreignKeys.map((fk) => fk.columns)).toEqual([
      ["item_key"],
      ["item_key_stim"],
    ]);
    expect(column("item_content_update_need", "created_at")).toMatchObject({ nullable: true, default: null });
    expect(column("item_form", "exposures")).toMatchObject({ type: "integer", nullable: true });
    expect(column("validation_result", "severity")).toMatchObject({
      nullable: false,
      default: { kind: "value", value: "" },
    });
    expect(column("validation_result", "occurrence_date")).toMatchObject({ nullable: false, since: "V46" });
    expect(column("project_lock", "locked_at")).toMatchObject({ nullable: false, default: null });
  });
});
