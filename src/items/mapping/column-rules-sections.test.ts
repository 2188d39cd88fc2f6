/**
 * IMRT-ITEMS.md §3.3, rows 41–88: the accessibility, text-to-speech, content-date, passage,
 * update-need, glossary, enhanced-id and assignment columns, each with its absent/KEEP case.
 * The multi-value rules (§3.4.5–§3.4.8) have their edge cases in derived-rules.test.ts.
 */

import { describe, expect, test } from "bun:test";
import { columnOf, type Doc, doc, type Expected, KEPT, mapDoc } from "./test-kit.ts";

type Case = [what: string, document: Doc, expected: Expected];

function rows(label: string, column: string, cases: Case[]): void {
  describe(`${label} ${column}`, () => {
    test.each(cases)("%s", (_what, document, expected) => {
      expect(columnOf(mapDoc(document), column)).toEqual(expected);
    });
  });
}

const mc = (rest: Doc) => doc("mc", rest);

/** A "required" string of an optional section: its value, '' for missing/null (Q14), KEEP without the section. */
function requiredRows(label: string, column: string, section: string, key: string): void {
  rows(label, column, [
    ["the string", mc({ [section]: { [key]: "Yes" } }), "Yes"],
    ["missing → ''", mc({ [section]: {} }), ""],
    ["null → '' (Q14)", mc({ [section]: { [key]: null } }), ""],
    [`${section} absent: KEEP`, mc({}), KEPT],
    [`${section} null: KEEP`, mc({ [section]: null }), KEPT],
  ]);
}

/** text(bool): 'true'/'false', missing 'false', KEEP without the section. */
function providedRows(label: string, column: string, section: string, key: string): void {
  rows(label, column, [
    ["true → 'true'", mc({ [section]: { [key]: true } }), "true"],
    ["false → 'false'", mc({ [section]: { [key]: false } }), "false"],
    ["the string \"true\" → 'true'", mc({ [section]: { [key]: "true" } }), "true"],
    ["missing → 'false'", mc({ [section]: {} }), "false"],
    [`${section} absent: KEEP`, mc({}), KEPT],
  ]);
}

requiredRows("#41", "asl_required", "asl", "isAslRequired");
providedRows("#42", "asl_provided", "asl", "isAslProvided");
requiredRows("#43", "braille_required", "braille", "isBrailleRequired");
providedRows("#44", "braille_provided", "braille", "isBrailleProvided");
requiredRows("#45", "cc_required", "cc", "isCcRequired");
providedRows("#46", "cc_provided", "cc", "isCcProvided");

const esp = (content: unknown) => mc({ translations: { esp: content } });

rows("#47", "translation_required", [
  ["translations.esp.isRequired", esp({ isRequired: "Yes" }), "Yes"],
  ["null → '' (Q14)", esp({ isRequired: null }), ""],
  ["translations absent: KEEP", mc({}), KEPT],
  ["translations without esp: KEEP", mc({ translations: {} }), KEPT],
]);

rows("#48", "translation_provided", [
  ["true → 'true'", esp({ isProvided: true }), "true"],
  ["missing → 'false'", esp({}), "false"],
  ["translations absent: KEEP", mc({}), KEPT],
]);

const tts = (section: unknown) => mc({ textToSpeech: section });

rows("#51", "sight_tts_provided", [
  ["true", tts({ isSightTTSProvided: true }), true],
  ["missing → false", tts({}), false],
  ["textToSpeech absent: KEEP", mc({}), KEPT],
]);

rows("#52", "visual_tts_provided", [
  ["true", tts({ isVisualTTSProvided: true }), true],
  ["missing → false", tts({}), false],
  ["textToSpeech absent: KEEP", mc({}), KEPT],
]);

rows("#53", "visual_tts_required", [
  ["the string", tts({ isVisualTTSRequired: "No" }), "No"],
  ["missing → ''", tts({}), ""],
  ["textToSpeech absent: KEEP", mc({}), KEPT],
]);

const en = (content: unknown, type: "mc" | "stim" = "mc") => doc(type, { core: { en: content } });

rows("#55", "english_content_last_updated_at", [
  ["an ISO instant", en({ updatedDate: "2019-03-04T10:00:00.000Z" }), new Date("2019-03-04T10:00:00.000Z")],
  [
    "an offset is honoured",
    en({ updatedDate: "2019-03-04T12:00:00+02:00" }),
    new Date("2019-03-04T10:00:00Z"),
  ],
  ["missing → NULL (Q5), never KEEP", en({}), null],
  ["'' → NULL", en({ updatedDate: "" }), null],
  ["unparseable → NULL", en({ updatedDate: "yesterday" }), null],
  ["core.en absent → NULL", mc({}), null],
]);

rows("#57", "spanish_content_last_updated_at", [
  ["an ISO instant", esp({ updatedDate: "2019-03-05T09:00:00.000Z" }), new Date("2019-03-05T09:00:00.000Z")],
  ["missing → NULL", esp({}), null],
  ["translations absent: KEEP", mc({}), KEPT],
]);

// Attachments older than the English content date, and a section without attachments.
const accessibility = (section: string, attachments: unknown) =>
  mc({ core: { en: { updatedDate: "2019-03-04T00:00:00Z" } }, [section]: { attachments } });
const older = [{ fileName: "a", uploadedDate: "2019-03-01T00:00:00Z" }];
const newer = [{ fileName: "a", uploadedDate: "2019-03-05T00:00:00Z" }];

for (const [label, column, section] of [
  ["#59", "asl_uploaded_prior_to_last_content_update", "asl"],
  ["#60", "braille_uploaded_prior_to_last_content_update", "braille"],
  ["#61", "closed_captioning_uploaded_prior_to_last_content_update", "cc"],
] as const) {
  rows(label, column, [
    ["newest upload before the English date → true", accessibility(section, older), true],
    ["newest upload after it → false", accessibility(section, [...older, ...newer]), false],
    ["no attachments: KEEP", accessibility(section, []), KEPT],
    [`${section} absent: KEEP`, mc({ core: { en: { updatedDate: "2019-03-04T00:00:00Z" } } }), KEPT],
    ["English date NULL → false", mc({ [section]: { attachments: older } }), false],
  ]);
}

const passages = { core: { en: { passages: [{}, {}] } }, translations: { esp: { passages: [{}] } } };

rows("#62", "english_passages_count", [
  ["stim: number of core.en.passages", doc("stim", passages), 2],
  ["stim without passages → 0", doc("stim", {}), 0],
  ["other types → 0", doc("mc", passages), 0],
]);

rows("#63", "spanish_passages_count", [
  ["stim: number of translations.esp.passages", doc("stim", passages), 1],
  ["stim without translations → 0", doc("stim", { core: { en: { passages: [{}] } } }), 0],
  ["other types → 0", doc("tut", passages), 0],
]);

const needs = mc({
  core: {
    contentUpdateNeeds: [
      { createDate: "2019-02-01T00:00:00Z", internalResolution: "A", resolution: "NoAction" },
      {
        createDate: "2019-03-01T00:00:00Z",
        internalResolution: "B",
        internalResolutionDate: "2019-03-02T00:00:00Z",
        resolution: "DoNotScore",
        resolutionDate: "2019-03-03T00:00:00Z",
      },
    ],
  },
});

for (const [label, column, value, absent] of [
  ["#66", "unresolved_update_need", false, false],
  ["#67", "current_update_need_create_date", new Date("2019-03-01T00:00:00Z"), null],
  ["#68", "current_update_need_internal_resolution_date", new Date("2019-03-02T00:00:00Z"), null],
  ["#69", "current_update_need_internal_resolution", "B", ""],
  ["#70", "current_update_need_resolution_date", new Date("2019-03-03T00:00:00Z"), null],
  ["#71", "current_update_need_resolution", "DoNotScore", ""],
] as const) {
  rows(label, column, [
    ["from the latest need", needs, value],
    ["no needs: never KEEP", mc({}), absent],
  ]);
}

const glossary = (section: unknown) => mc({ glossary: section });

for (const [label, column, key] of [
  ["#72", "english_glossary_provided", "isEnglishGlossaryProvided"],
  ["#73", "illustrated_glossary_provided", "isIllustratedGlossaryProvided"],
  ["#75", "translated_glossary_provided", "isTranslatedGlossaryProvided"],
] as const) {
  rows(label, column, [
    ["true", glossary({ [key]: true }), true],
    ["missing → false", glossary({}), false],
    ["glossary absent: KEEP", mc({}), KEPT],
  ]);
}

requiredRows("#74", "illustrated_glossary_required", "glossary", "isIllustratedGlossaryRequired");
requiredRows("#76", "translated_glossary_required", "glossary", "isTranslatedGlossaryRequired");

for (const [label, column, key] of [
  ["#81", "primary_enhanced_id", "primaryEnhancedId"],
  ["#82", "secondary_enhanced_id", "secondaryEnhancedId"],
  ["#83", "tertiary_enhanced_id", "tertiaryEnhancedId"],
  ["#84", "quaternary_enhanced_id", "quaternaryEnhancedId"],
] as const) {
  rows(label, column, [
    ["raw", mc({ serverManaged: { [key]: "M.G3.C2OA.TC.ABC" } }), "M.G3.C2OA.TC.ABC"],
    ["missing key → NULL", mc({ serverManaged: {} }), null],
    ["serverManaged absent: KEEP", mc({}), KEPT],
  ]);
}

const assignments = mc({
  assignments: [
    { assignedTo: "test@test.com", assignedBy: "test2@x", assignedDate: "2019-03-03T00:00:00Z" },
    { assignedTo: "example@test.com", assignedBy: "test1@x", assignedDate: "2019-03-01T00:00:00Z" },
  ],
});

for (const [label, column, value] of [
  ["#85", "assigned_to", "example@test.com, test@test.com"],
  ["#86", "assigned_by", "test1@x, test2@x"],
  ["#87", "assigned_dates", "03/01/19, 03/03/19"],
  ["#88", "assigned_date_sort", "1551398400000,1551571200000"],
] as const) {
  rows(label, column, [
    ["sorted by assignee", assignments, value],
    ["no assignments key → ''", mc({}), ""],
    ["empty assignments → ''", mc({ assignments: [] }), ""],
  ]);
}

describe("metadata text columns #49, #50, #54, #56, #58", () => {
  test("read like the other metadata columns", () => {
    const metadata = {
      writingPurpose: "Narrative",
      performanceTask: "Yes",
      testCategory: "Interim",
      scoringEngine: "HandScored",
      allowCalculator: "Neutral",
    };
    const { columns } = mapDoc(mc({ core: { metadata } }));
    expect(columns).toMatchObject({
      writing_purpose: "Narrative",
      performance_task: "Yes",
      test_category: "Interim",
      scoring_engine: "HandScored",
      allow_calculator: "Neutral",
    });
    const tut = mapDoc(doc("tut", { core: { metadata } })).columns;
    for (const column of ["writing_purpose", "performance_task", "test_category", "scoring_engine"]) {
      expect(tut).not.toHaveProperty(column);
    }
    expect(tut).not.toHaveProperty("allow_calculator");
  });
});
