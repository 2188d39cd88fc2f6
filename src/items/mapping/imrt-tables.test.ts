/** The table specs against IMRT-ITEMS.md §2 (V44) and §1.3 (V46, V47). */

import { describe, expect, test } from "bun:test";
import { IMRT_SEQUENCES, IMRT_TABLE_NAMES, IMRT_TABLES } from "./imrt-tables.ts";
import { ITEM_COLUMNS } from "./item-columns.ts";

/** §2.1 as printed (name | type | null | default), ranges expanded, then the V47 columns of §1.3. */
const ITEM_TABLE_AS_SPECIFIED = `
  key | integer | no | nextval(item_key_seq)
  id | integer | no | –
  subject | varchar | no | –
  grade | varchar | no | –
  workflow_status | varchar | no | –
  item_type | varchar | no | –
  dok | varchar | no | –
  item_created_by | varchar | no | –
  item_created_at | timestamptz | no | –
  item_json | json | no | –
  created_at | timestamptz | no | current_timestamp
  updated_at | timestamptz | no | current_timestamp
  updated_by | varchar | no | –
  classification | varchar | no | –
  associated_stimulus_id | integer | yes | –
  workflow_status_set_at | timestamptz | no | –
  organization_type_id | varchar | no | –
  organization_name | varchar | no | –
  is_being_created | boolean | no | false
  primary_claim | varchar | no | ''
  primary_content_domain | varchar | no | ''
  primary_common_core_standard | varchar | no | ''
  primary_target | varchar | no | ''
  secondary_claim | varchar | no | ''
  secondary_content_domain | varchar | no | ''
  secondary_common_core_standard | varchar | no | ''
  secondary_target | varchar | no | ''
  tertiary_claim | varchar | no | ''
  tertiary_content_domain | varchar | no | ''
  tertiary_common_core_standard | varchar | no | ''
  tertiary_target | varchar | no | ''
  quaternary_claim | varchar | no | ''
  quaternary_content_domain | varchar | no | ''
  quaternary_common_core_standard | varchar | no | ''
  quaternary_target | varchar | no | ''
  content_task_model | varchar | no | ''
  item_author | varchar | no | ''
  item_difficulty_quintile | integer | yes | –
  form_count | integer | yes | –
  exposures_count | integer | yes | –
  asl_required | varchar | no | ''
  asl_provided | varchar | no | ''
  braille_required | varchar | no | ''
  braille_provided | varchar | no | ''
  cc_required | varchar | no | ''
  cc_provided | varchar | no | ''
  translation_required | varchar | no | ''
  translation_provided | varchar | no | ''
  writing_purpose | varchar | no | ''
  performance_task | varchar | no | ''
  sight_tts_provided | boolean | yes | –
  visual_tts_provided | boolean | yes | –
  visual_tts_required | varchar | no | ''
  test_category | varchar | no | ''
  english_content_last_updated_at | timestamptz | yes | –
  scoring_engine | varchar | no | ''
  spanish_content_last_updated_at | timestamptz | yes | –
  allow_calculator | varchar | no | ''
  asl_uploaded_prior_to_last_content_update | boolean | no | false
  braille_uploaded_prior_to_last_content_update | boolean | no | false
  closed_captioning_uploaded_prior_to_last_content_update | boolean | no | false
  english_passages_count | integer | no | 0
  spanish_passages_count | integer | no | 0
  status_set_operational_at | timestamptz | yes | –
  content_changed_after_operational | boolean | no | false
  unresolved_update_need | boolean | no | false
  current_update_need_create_date | timestamptz | yes | –
  current_update_need_internal_resolution_date | timestamptz | yes | –
  current_update_need_internal_resolution | varchar | no | ''
  current_update_need_resolution_date | timestamptz | yes | –
  current_update_need_resolution | varchar | no | ''
  english_glossary_provided | boolean | no | false
  illustrated_glossary_provided | boolean | no | false
  illustrated_glossary_required | varchar | no | ''
  translated_glossary_provided | boolean | no | false
  translated_glossary_required | varchar | no | ''
  severe_validation_result_count | integer | no | 0
  degraded_validation_result_count | integer | no | 0
  tolerable_validation_result_count | integer | no | 0
  benign_validation_result_count | integer | no | 0
  primary_enhanced_id | varchar | yes | –
  secondary_enhanced_id | varchar | yes | –
  tertiary_enhanced_id | varchar | yes | –
  quaternary_enhanced_id | varchar | yes | –
  assigned_to | varchar | yes | –
  assigned_by | varchar | yes | –
  assigned_dates | varchar | yes | –
  assigned_date_sort | varchar | yes | –
  commit_id | uuid | yes | –
  item_version | varchar | yes | –
  pencil_paper | varchar | no | ''
  state_specific_use | varchar | no | ''
  state_specific_use_description | varchar | no | ''
`;

function specDefault(text: string): unknown {
  if (text === "–") return null;
  if (text === "current_timestamp") return { kind: "now" };
  if (text === "''") return { kind: "value", value: "" };
  if (text === "0") return { kind: "value", value: 0 };
  if (text === "false") return { kind: "value", value: false };
  if (text === "'master'") return { kind: "value", value: "master" };
  const sequence = /^nextval\((\w+)\)$/.exec(text)?.[1];
  if (sequence !== undefined) return { kind: "sequence", sequence };
  throw new Error(`unknown default ${text}`);
}

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

describe("item (§2.1)", () => {
  test("90 columns of V44 in order, then the three V47 columns", () => {
    expect(ITEM_COLUMNS.length).toBe(93);
    expect(ITEM_COLUMNS.filter((c) => c.since === undefined).length).toBe(90);
    expect(ITEM_COLUMNS.slice(0, 3).map((c) => c.name)).toEqual(["key", "id", "subject"]);
    expect(ITEM_COLUMNS[88]?.name).toBe("commit_id");
    expect(ITEM_COLUMNS[89]?.name).toBe("item_version");
    expect(ITEM_COLUMNS.slice(90)).toEqual([
      {
        name: "pencil_paper",
        type: "varchar",
        nullable: false,
        default: { kind: "value", value: "" },
        since: "V47",
      },
      {
        name: "state_specific_use",
        type: "varchar",
        nullable: false,
        default: { kind: "value", value: "" },
        since: "V47",
      },
      {
        name: "state_specific_use_description",
        type: "varchar",
        nullable: false,
        default: { kind: "value", value: "" },
        since: "V47",
      },
    ]);
    expect(new Set(ITEM_COLUMNS.map((c) => c.name)).size).toBe(93);
  });

  test("every column: name, type, nullability and default exactly as §2.1 says, in its order", () => {
    const specified = ITEM_TABLE_AS_SPECIFIED.trim()
      .split("\n")
      .map((line) => {
        const [name, type, nullable, dflt] = line.split("|").map((cell) => cell.trim());
        return { name, type, nullable: nullable === "yes", default: specDefault(dflt ?? "") };
      });
    expect(ITEM_COLUMNS.map(({ since: _since, ...spec }) => spec)).toEqual(specified as never);
  });

  test.each([
    ["key", "integer", false, { kind: "sequence", sequence: "item_key_seq" }],
    ["item_json", "json", false, null],
    ["created_at", "timestamptz", false, { kind: "now" }],
    ["associated_stimulus_id", "integer", true, null],
    ["workflow_status_set_at", "timestamptz", false, null],
    ["is_being_created", "boolean", false, { kind: "value", value: false }],
    ["quaternary_target", "varchar", false, { kind: "value", value: "" }],
    ["item_difficulty_quintile", "integer", true, null],
    ["sight_tts_provided", "boolean", true, null],
    ["english_content_last_updated_at", "timestamptz", true, null],
    ["spanish_passages_count", "integer", false, { kind: "value", value: 0 }],
    ["current_update_need_resolution", "varchar", false, { kind: "value", value: "" }],
    ["benign_validation_result_count", "integer", false, { kind: "value", value: 0 }],
    ["quaternary_enhanced_id", "varchar", true, null],
    ["assigned_date_sort", "varchar", true, null],
    ["commit_id", "uuid", true, null],
  ])("%s: %s, nullable %p, default %j", (name, type, nullable, dflt) => {
    expect(column("item", name)).toEqual({ name, type, nullable, default: dflt } as never);
  });

  test("key, unique id, the V29 index", () => {
    expect(IMRT_TABLES.item.primaryKey).toEqual(["key"]);
    expect(IMRT_TABLES.item.unique).toEqual([{ name: "unique_id_constraint", columns: ["id"] }]);
    expect(IMRT_TABLES.item.indexes).toEqual([
      {
        name: "ix_item_id_associated_stimulus_id_workflow_status_grade_subject",
        columns: ["id", "associated_stimulus_id", "workflow_status", "grade", "subject"],
      },
    ]);
  });
});

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
