/** The `item` column specs against IMRT-ITEMS.md §2.1 (V44) and §1.3 (V47). */

import { describe, expect, test } from "bun:test";
import { IMRT_TABLES } from "./imrt-tables.ts";
import { ITEM_COLUMNS } from "./item-columns.ts";
import { specDefault } from "./test-kit.ts";

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
