/**
 * The three worked examples of IMRT-ITEMS.md §6.9 (projects 501, 502, 503): every expected value
 * that depends on the document alone, as the inserted row would hold it (the mapped columns over
 * INSERT_DEFAULTS), and every child row in order. The git and history columns (item_created_*,
 * updated_by, workflow_status_set_at, status_set_operational_at, content_changed_after_operational,
 * is_being_created) and item_git / item_log / stim_link belong to the history part and the writer.
 */

import { describe, expect, test } from "bun:test";
import { MC_300101_ITEM_JSON, STIM_300200_ITEM_JSON, TUT_300300_ITEM_JSON } from "./fixtures.ts";
import { INSERT_DEFAULTS, mapItem } from "./map-item.ts";
import { classificationOf, readItemDocument } from "./read-document.ts";
import type { ColumnValue, MappedItem } from "./types.ts";

const HISTORY = ["status_set_operational_at", "content_changed_after_operational"];

function ingest(
  text: string,
  commitDate: string,
): { id: number; classification: string; mapped: MappedItem } {
  const reading = readItemDocument(text);
  if (!reading.ok) throw new Error(reading.reason);
  return {
    id: reading.item.id,
    classification: classificationOf(reading.item),
    mapped: mapItem(reading.item, { commitDate: new Date(commitDate) }),
  };
}

/** The row a first ingest inserts, history columns left out. */
function insertedRow(mapped: MappedItem): Record<string, ColumnValue | undefined> {
  const row: Record<string, ColumnValue | undefined> = { ...INSERT_DEFAULTS, ...mapped.columns };
  for (const column of HISTORY) delete row[column];
  return row;
}

/** "Values not shown are empty strings / false / NULL per the defaults of 3.3" (§6.9). */
const NOT_SHOWN = {
  subject: "",
  grade: "",
  dok: "",
  organization_type_id: "",
  organization_name: "",
  ...Object.fromEntries(
    ["primary", "secondary", "tertiary", "quaternary"].flatMap((o) =>
      ["claim", "content_domain", "common_core_standard", "target"].map((f) => [`${o}_${f}`, ""]),
    ),
  ),
  content_task_model: "",
  item_author: "",
  item_difficulty_quintile: null,
  form_count: null,
  exposures_count: null,
  writing_purpose: "",
  performance_task: "",
  test_category: "",
  scoring_engine: "",
  allow_calculator: "",
  asl_uploaded_prior_to_last_content_update: false,
  braille_uploaded_prior_to_last_content_update: false,
  closed_captioning_uploaded_prior_to_last_content_update: false,
  english_passages_count: 0,
  spanish_passages_count: 0,
  unresolved_update_need: false,
  current_update_need_create_date: null,
  current_update_need_internal_resolution_date: null,
  current_update_need_internal_resolution: "",
  current_update_need_resolution_date: null,
  current_update_need_resolution: "",
  english_glossary_provided: false,
  illustrated_glossary_provided: false,
  illustrated_glossary_required: "",
  translated_glossary_provided: false,
  translated_glossary_required: "",
  severe_validation_result_count: 0,
  degraded_validation_result_count: 0,
  tolerable_validation_result_count: 0,
  benign_validation_result_count: 0,
  primary_enhanced_id: null,
  secondary_enhanced_id: null,
  tertiary_enhanced_id: null,
  quaternary_enhanced_id: null,
  assigned_to: "",
  assigned_by: "",
  assigned_dates: "",
  assigned_date_sort: "",
  commit_id: null,
  item_version: null,
  pencil_paper: "",
  state_specific_use: "",
  state_specific_use_description: "",
};

const ACCESSIBILITY_UNDETERMINED = {
  asl_required: "undetermined",
  asl_provided: "false",
  braille_required: "undetermined",
  braille_provided: "false",
  cc_required: "undetermined",
  cc_provided: "false",
  translation_required: "undetermined",
  translation_provided: "false",
  visual_tts_required: "undetermined",
  sight_tts_provided: false,
  visual_tts_provided: false,
};

describe("project 501, stimulus 300200 (commit s1 = 2019-01-02T08:00:00Z)", () => {
  const s1 = new Date("2019-01-02T08:00:00Z");
  const { id, classification, mapped } = ingest(STIM_300200_ITEM_JSON, s1.toISOString());

  test("item row", () => {
    expect({ id, classification }).toEqual({ id: 300200, classification: "stim" });
    expect(insertedRow(mapped)).toEqual({
      ...NOT_SHOWN,
      ...ACCESSIBILITY_UNDETERMINED,
      item_type: "stim",
      item_json: STIM_300200_ITEM_JSON,
      subject: "ELA",
      grade: "4",
      workflow_status: "Draft",
      organization_type_id: "Member",
      organization_name: "Acme Schools",
      item_author: "jdoe",
      english_content_last_updated_at: s1,
      spanish_content_last_updated_at: s1,
      english_passages_count: 2,
      spanish_passages_count: 0,
      associated_stimulus_id: null,
    });
  });

  test("child rows: one keyword, nothing else; forms untouched", () => {
    expect(mapped.children).toEqual({
      keywords: [{ section: "Content", content: "The clever fox ran." }],
      forms: null,
      attachments: [],
      updateNeeds: [],
      assignments: [],
    });
  });
});

describe("project 502, mc item 300101 (head after c4 = 2019-04-01T08:00:00Z)", () => {
  const { id, classification, mapped } = ingest(MC_300101_ITEM_JSON, "2019-04-01T08:00:00Z");

  test("item row", () => {
    expect({ id, classification }).toEqual({ id: 300101, classification: "item" });
    expect(insertedRow(mapped)).toEqual({
      ...NOT_SHOWN,
      item_type: "mc",
      item_json: MC_300101_ITEM_JSON,
      associated_stimulus_id: 300200,
      subject: "ELA",
      grade: "4",
      dok: "2",
      primary_claim: "1",
      primary_target: "3",
      primary_common_core_standard: "RL-1",
      primary_content_domain: "",
      organization_type_id: "Member",
      organization_name: "Acme Schools",
      item_author: "jdoe",
      content_task_model: "TM1",
      test_category: "Summative",
      scoring_engine: "AutomaticWithKey",
      performance_task: "No",
      allow_calculator: "",
      workflow_status: "Operational",
      form_count: 3,
      exposures_count: 420,
      item_difficulty_quintile: 3,
      asl_required: "Yes",
      asl_provided: "true",
      asl_uploaded_prior_to_last_content_update: true,
      braille_required: "No",
      braille_provided: "false",
      braille_uploaded_prior_to_last_content_update: false,
      cc_required: "undetermined",
      cc_provided: "false",
      translation_required: "Yes",
      translation_provided: "true",
      english_content_last_updated_at: new Date("2019-03-04T10:00:00Z"),
      spanish_content_last_updated_at: new Date("2019-03-05T09:00:00Z"),
      sight_tts_provided: true,
      visual_tts_provided: false,
      visual_tts_required: "No",
      english_glossary_provided: true,
      illustrated_glossary_provided: false,
      illustrated_glossary_required: "No",
      translated_glossary_provided: false,
      translated_glossary_required: "Yes",
      primary_enhanced_id: "E.G4.C1RL.T3",
      unresolved_update_need: true,
      current_update_need_create_date: new Date("2019-03-01T00:00:00Z"),
      current_update_need_internal_resolution: "UpdateContentRedeploy",
      current_update_need_internal_resolution_date: null,
      current_update_need_resolution: "",
      current_update_need_resolution_date: null,
      assigned_to: "amy@x.org, Zoe@x.org",
      assigned_by: "lead@x.org, lead@x.org",
      assigned_dates: "03/06/19, 03/05/19",
      assigned_date_sort: "1551835800000,1551805200000",
      english_passages_count: 0,
      spanish_passages_count: 0,
    });
  });

  test("item_keyword: 5 rows in §3.6.2 order, the duplicate option once", () => {
    expect(mapped.children.keywords).toEqual([
      { section: "Prompt / Stem", content: "Which word best describes the fox?" },
      { section: "Options", content: "clever" },
      { section: "Options", content: "sleepy" },
      { section: "Spanish Prompt / Stem", content: "¿Qué palabra describe al zorro?" },
      { section: "Spanish Options", content: "astuto" },
    ]);
  });

  test("item_form: 3 rows", () => {
    expect(mapped.children.forms).toEqual([
      { formId: "F1", formType: "FieldTest", assessmentType: "Summative", exposures: 120 },
      { formId: "F2", formType: "FieldTest", assessmentType: "Interim", exposures: null },
      { formId: "F3", formType: "Operational", assessmentType: "Summative", exposures: 300 },
    ]);
  });

  test("item_attachment: 1 row", () => {
    expect(mapped.children.attachments).toEqual([
      { fileName: "item_300101_ASL.mp4", fileType: "asl", uploadedAt: new Date("2019-03-01T00:00:00Z") },
    ]);
  });

  test("item_content_update_need: 2 rows, resolution_notes '' in both", () => {
    expect(mapped.children.updateNeeds).toEqual([
      {
        internalResolution: "NoAction",
        notes: "typo",
        resolution: "NoAction",
        resolutionNotes: "",
        createDate: new Date("2019-02-01T00:00:00Z"),
        internalResolutionDate: new Date("2019-02-02T00:00:00Z"),
        resolutionDate: new Date("2019-02-03T00:00:00Z"),
      },
      {
        internalResolution: "UpdateContentRedeploy",
        notes: "art",
        resolution: "",
        resolutionNotes: "",
        createDate: new Date("2019-03-01T00:00:00Z"),
        internalResolutionDate: null,
        resolutionDate: null,
      },
    ]);
  });

  test("item_assignment: 2 rows, in document order", () => {
    expect(mapped.children.assignments).toEqual([
      { assignedTo: "Zoe@x.org", assignedBy: "lead@x.org", assignedDate: new Date("2019-03-05T17:00:00Z") },
      { assignedTo: "amy@x.org", assignedBy: "lead@x.org", assignedDate: new Date("2019-03-06T01:30:00Z") },
    ]);
  });
});

describe("project 503, tutorial 300300 (commit t1 = 2019-02-01T00:00:00Z)", () => {
  const t1 = new Date("2019-02-01T00:00:00Z");
  const { id, classification, mapped } = ingest(TUT_300300_ITEM_JSON, t1.toISOString());

  test("item row: every metadata-derived column '', no test administration, no assignees", () => {
    expect({ id, classification }).toEqual({ id: 300300, classification: "item" });
    expect(insertedRow(mapped)).toEqual({
      ...NOT_SHOWN,
      ...ACCESSIBILITY_UNDETERMINED,
      item_type: "tut",
      item_json: TUT_300300_ITEM_JSON,
      workflow_status: "SmarterContentReview",
      associated_stimulus_id: null,
      english_content_last_updated_at: t1,
      spanish_content_last_updated_at: t1,
    });
  });

  test("metadata columns are KEEP (the tutorial has none), not assigned ''", () => {
    expect(mapped.columns).not.toHaveProperty("subject");
    expect(mapped.columns).not.toHaveProperty("form_count");
  });

  test("child rows: one keyword, no forms", () => {
    expect(mapped.children).toEqual({
      keywords: [{ section: "Content", content: "Use the arrows to move." }],
      forms: null,
      attachments: [],
      updateNeeds: [],
      assignments: [],
    });
  });
});
