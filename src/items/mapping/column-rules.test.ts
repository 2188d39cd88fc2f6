/**
 * IMRT-ITEMS.md §3.3, rows 2–40, one test per case: the column's value from a document, and what
 * happens when its source is absent (a value, or KEPT: left unassigned). Rows 41–88 are in
 * column-rules-sections.test.ts; the table's completeness is checked at the end of this file.
 */

import { describe, expect, test } from "bun:test";
import { COLUMN_RULES } from "./column-rules.ts";
import { ITEM_COLUMNS } from "./item-columns.ts";
import { INSERT_DEFAULTS } from "./map-item.ts";
import { columnOf, type Doc, doc, type Expected, KEPT, mapDoc, read } from "./test-kit.ts";

type Case = [what: string, document: Doc, expected: Expected];

function rows(label: string, column: string, cases: Case[]): void {
  describe(`${label} ${column}`, () => {
    test.each(cases)("%s", (_what, document, expected) => {
      expect(columnOf(mapDoc(document), column)).toEqual(expected);
    });
  });
}

const withMetadata = (metadata: unknown) => doc("mc", { core: { metadata } });

/** Every metadata column: its value, '' when its key is missing or null, KEEP without metadata. */
function metadataRows(label: string, column: string, key: string): void {
  rows(label, column, [
    ["the key's value", withMetadata({ [key]: "V1" }), "V1"],
    ["a number is its text (Jackson coerces)", withMetadata({ [key]: 7 }), "7"],
    ["key missing → ''", withMetadata({}), ""],
    ["key null → ''", withMetadata({ [key]: null }), ""],
    ["stim reads metadata too", doc("stim", { core: { metadata: { [key]: "S" } } }), "S"],
    ["tut has no metadata: KEEP", doc("tut", { core: { metadata: { [key]: "T" } } }), KEPT],
    ["core.metadata absent: KEEP", doc("mc", { core: {} }), KEPT],
  ]);
}

describe("#2 id", () => {
  test("decimal integer parse (string or JSON number); never a mapped column", () => {
    expect(read(doc("mc", { id: "-42" })).id).toBe(-42);
    expect(read(doc("mc", { id: 300101 })).id).toBe(300101);
    expect(columnOf(mapDoc(doc("mc")), "id")).toBe(KEPT);
  });
});

metadataRows("#3", "subject", "subject");

rows("#4", "grade", [
  ["intendedGrade", withMetadata({ intendedGrade: "5" }), "5"],
  ["Q8: legacy `grade` when intendedGrade is absent", withMetadata({ grade: "6" }), "6"],
  ["Q8: legacy `grade` when intendedGrade is null", withMetadata({ intendedGrade: null, grade: "6" }), "6"],
  ["intendedGrade wins over grade", withMetadata({ intendedGrade: "5", grade: "6" }), "5"],
  ["an empty intendedGrade is kept, not replaced", withMetadata({ intendedGrade: "", grade: "6" }), ""],
  ["neither key → ''", withMetadata({}), ""],
  ["tut: KEEP", doc("tut", { core: { metadata: { intendedGrade: "5" } } }), KEPT],
]);

rows("#5", "workflow_status", [
  ["the code, verbatim", doc("mc", { workflow: { workflowStatusCode: "FieldTest" } }), "FieldTest"],
  ["code missing → ''", doc("mc", { workflow: {} }), ""],
  ["code null → ''", doc("mc", { workflow: { workflowStatusCode: null } }), ""],
  ["workflow absent: KEEP", doc("mc"), KEPT],
  ["workflow null: KEEP", doc("mc", { workflow: null }), KEPT],
]);

rows("#6", "item_type", [
  ["the type code", doc("ebsr"), "ebsr"],
  ["stim", doc("stim"), "stim"],
]);

metadataRows("#7", "dok", "depthOfKnowledge");

describe("#10 item_json", () => {
  test("the text as given, whitespace and key order included (Q3)", () => {
    const text = `{"type":"sa",   "id":"9", "unknownKey": [1, 2]}\n`;
    expect(columnOf(mapDoc(text), "item_json")).toBe(text);
  });
});

describe("#14 classification", () => {
  test("not a mapped column (insert-only; the family says it)", () => {
    expect(columnOf(mapDoc(doc("stim")), "classification")).toBe(KEPT);
  });
});

rows("#15", "associated_stimulus_id", [
  ["a digit string", doc("mc", { core: { stimulusId: "300200" } }), 300200],
  ["a JSON number", doc("ms", { core: { stimulusId: 300200 } }), 300200],
  ["a signed string", doc("mc", { core: { stimulusId: "+12" } }), 12],
  ["'' → NULL", doc("mc", { core: { stimulusId: "" } }), null],
  ["null → NULL", doc("mc", { core: { stimulusId: null } }), null],
  ["missing → NULL", doc("mc", { core: {} }), null],
  ["stim: NULL even when present", doc("stim", { core: { stimulusId: "5" } }), null],
  ["tut: NULL even when present (and not an integer)", doc("tut", { core: { stimulusId: "x" } }), null],
]);

metadataRows("#17", "organization_type_id", "organizationTypeId");
metadataRows("#18", "organization_name", "organizationName");

describe("#19 is_being_created and the other git/history columns", () => {
  test("never assigned by the mapping", () => {
    const mapped = mapDoc(doc("mc", { workflow: { workflowStatusCode: "Operational" } }));
    for (const column of [
      "key",
      "item_created_by",
      "item_created_at",
      "created_at",
      "updated_at",
      "updated_by",
      "is_being_created",
      "workflow_status_set_at",
      "status_set_operational_at",
      "content_changed_after_operational",
      "severe_validation_result_count",
      "degraded_validation_result_count",
      "tolerable_validation_result_count",
      "benign_validation_result_count",
      "commit_id",
      "item_version",
      "pencil_paper",
      "state_specific_use",
      "state_specific_use_description",
    ]) {
      expect(columnOf(mapped, column)).toBe(KEPT);
    }
  });
});

for (const ordinal of ["primary", "secondary", "tertiary", "quaternary"]) {
  metadataRows("#20–35", `${ordinal}_claim`, `${ordinal}Claim`);
  metadataRows("#20–35", `${ordinal}_content_domain`, `${ordinal}ContentDomain`);
  metadataRows("#20–35", `${ordinal}_common_core_standard`, `${ordinal}CommonCoreStandard`);
  metadataRows("#20–35", `${ordinal}_target`, `${ordinal}Target`);
  rows("#20–35 (Q8)", `${ordinal}_target`, [
    [
      "legacy AssessmentTarget when Target is absent",
      withMetadata({ [`${ordinal}AssessmentTarget`]: "L" }),
      "L",
    ],
    ["Target wins", withMetadata({ [`${ordinal}Target`]: "T", [`${ordinal}AssessmentTarget`]: "L" }), "T"],
  ]);
}

metadataRows("#36", "content_task_model", "contentTaskModel");
metadataRows("#37", "item_author", "itemAuthor");

const withTa = (ta: unknown, type: "mc" | "stim" | "tut" = "mc") =>
  doc(type, { core: { testAdministration: ta } });
const twoAdministrations = {
  fieldTestAdministrationId: "FT",
  administrations: [
    { administrationId: "FT", fieldTestData: { itemDifficultyQuintile: "2" }, forms: [{ exposures: 5 }, {}] },
    { administrationId: "OP", fieldTestData: { itemDifficultyQuintile: "4" }, forms: [{ exposures: "7" }] },
  ],
};

rows("#38", "item_difficulty_quintile", [
  ["the field-test administration's value", withTa(twoAdministrations), 2],
  ["ta absent → NULL", doc("mc"), null],
  ["administrations empty → NULL", withTa({ fieldTestAdministrationId: "FT", administrations: [] }), null],
  [
    "no administration matches: KEEP",
    withTa({ ...twoAdministrations, fieldTestAdministrationId: "X" }),
    KEPT,
  ],
  ["stim → NULL", withTa(twoAdministrations, "stim"), null],
  ["tut → NULL", withTa(twoAdministrations, "tut"), null],
]);

rows("#39", "form_count", [
  ["forms over all administrations", withTa(twoAdministrations), 3],
  ["ta absent → NULL", doc("mc"), null],
  ["administrations missing → NULL", withTa({ fieldTestAdministrationId: "FT" }), null],
  ["administrations without forms → 0", withTa({ administrations: [{ administrationId: "A" }] }), 0],
  ["stim: KEEP", withTa(twoAdministrations, "stim"), KEPT],
  ["tut: KEEP", withTa(twoAdministrations, "tut"), KEPT],
]);

rows("#40", "exposures_count", [
  ["sum, missing exposures count 0, text digits read", withTa(twoAdministrations), 12],
  ["ta absent → NULL", doc("mc"), null],
  ["stim → NULL", withTa(twoAdministrations, "stim"), null],
  ["tut → NULL", withTa(twoAdministrations, "tut"), null],
]);

describe("the column table itself", () => {
  const mapped = new Set(COLUMN_RULES.map((rule) => rule.column));
  const notMapped = new Set([
    "key",
    "id",
    "item_created_by",
    "item_created_at",
    "created_at",
    "updated_at",
    "updated_by",
    "classification",
    "workflow_status_set_at",
    "is_being_created",
    "status_set_operational_at",
    "content_changed_after_operational",
    "severe_validation_result_count",
    "degraded_validation_result_count",
    "tolerable_validation_result_count",
    "benign_validation_result_count",
    "commit_id",
    "item_version",
    "pencil_paper",
    "state_specific_use",
    "state_specific_use_description",
  ]);

  test("every item column is either mapped (once) or listed as not the mapping's", () => {
    expect(COLUMN_RULES.length).toBe(mapped.size);
    for (const { name } of ITEM_COLUMNS) expect(mapped.has(name) !== notMapped.has(name)).toBe(true);
    expect(mapped.size + notMapped.size).toBe(93);
  });

  test("rows follow the column order of §2.1 / §3.3", () => {
    const order = ITEM_COLUMNS.map((c) => c.name).filter((name) => mapped.has(name));
    expect(COLUMN_RULES.map((rule) => rule.column)).toEqual(order);
  });

  test("every column a rule may leave KEEP has an insert default", () => {
    for (const rule of COLUMN_RULES) {
      if (rule.keepWhen !== "never") expect(rule.insertDefault).not.toBeUndefined();
    }
    for (const column of notMapped) {
      if (!["key", "id", "classification"].includes(column) && !/created|updated|set_at|being/.test(column)) {
        expect(INSERT_DEFAULTS).toHaveProperty(column);
      }
    }
  });

  test("the defaults of columns outside the table: history, validation counts, never written", () => {
    expect(INSERT_DEFAULTS).toMatchObject({
      status_set_operational_at: null,
      content_changed_after_operational: false,
      severe_validation_result_count: 0,
      degraded_validation_result_count: 0,
      tolerable_validation_result_count: 0,
      benign_validation_result_count: 0,
      commit_id: null,
      item_version: null,
      pencil_paper: "",
      state_specific_use: "",
      state_specific_use_description: "",
    });
    for (const column of [
      "key",
      "id",
      "classification",
      "item_created_at",
      "updated_by",
      "is_being_created",
    ]) {
      expect(INSERT_DEFAULTS).not.toHaveProperty(column);
    }
  });

  test("a NOT NULL column never gets a NULL insert default (Q14)", () => {
    for (const spec of ITEM_COLUMNS) {
      const value = INSERT_DEFAULTS[spec.name];
      if (!spec.nullable && value !== undefined) expect(value).not.toBeNull();
    }
  });

  test("a document with every section absent leaves exactly the KEEP-able columns unassigned", () => {
    const { columns } = mapDoc(doc("tut"));
    const kept = COLUMN_RULES.filter((rule) => !(rule.column in columns)).map((rule) => rule.column);
    for (const column of kept) expect(INSERT_DEFAULTS).toHaveProperty(column);
    // Never KEEP: item_type, item_json, ids, dates, counts and summaries.
    expect(columns.item_type).toBe("tut");
    expect(columns.english_content_last_updated_at).toBeNull();
    expect(columns.exposures_count).toBeNull();
    expect(columns.assigned_to).toBe("");
  });
});
