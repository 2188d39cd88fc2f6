/**
 * The simulator's default item.json against IMRT-ITEMS.md §6 (the authoring tool's document):
 * top level (§6.1), core per family (§3.2, §6.2), metadata (§6.3), content objects per type
 * (§6.4), workflow codes (§6.5), accessibility sections (§6.6), test administrations and content
 * update needs (§6.7), assignments (§6.8); stimulus links to stims of the bank; determinism; the
 * shares of projects without item.json or with an unreadable one.
 *
 * The expectations are written from the specification, not from the generator's tables.
 */
import { describe, expect, test } from "bun:test";
import { createSimState } from "./gitlab-state.ts";

// §3.2 and §6.5, copied from the specification
const TYPES = ["mc", "ms", "ebsr", "eq", "gi", "htqo", "htqs", "mi", "sa", "ti", "wer", "stim", "tut"];
const ASSESSMENT = TYPES.filter((t) => t !== "stim" && t !== "tut");
const CODES = [
  "Draft",
  "InitialReview",
  "MultimediaUpload",
  "ContentReview",
  "EditorialReview",
  "SeniorContentReview",
  "SmarterContentAuditReview",
  "SmarterStudentSupportAuditReview",
  "EducatorCommitteeReview",
  "QualityCorrectionsContent",
  "QualityCorrectionsEditorial",
  "QualityCorrectionsSenior",
  "SmarterContentReview",
  "SmarterAccessibilityReview",
  "SmarterCopyEdit",
  "TextToSpeechUpload",
  "AccessibilityUpload",
  "AccessibilityReview",
  "FinalApproval",
  "FieldTest",
  "Calibrations",
  "DataReview",
  "PostFieldTestCorrections",
  "Operational",
  "Released",
  "Archived",
  "Rejected",
  "ParkingLot",
];
// §6.4: the keys a type's content object has
const CONTENT_KEYS: Record<string, string[]> = {
  mc: ["prompt", "options"],
  ms: ["prompt", "options"],
  ebsr: ["prompt", "partAPrompt", "partBPrompt", "partAOptions", "partBOptions"],
  eq: ["prompt", "parts"],
  gi: ["prompt"],
  sa: ["prompt"],
  wer: ["prompt"],
  htqo: ["prompt", "htqOrderable"],
  htqs: ["prompt", "htqSelectable"],
  mi: ["prompt", "table"],
  ti: ["prompt", "table"],
  stim: ["content", "passages"],
  tut: ["content"],
};

// biome-ignore lint/suspicious/noExplicitAny: documents are read field by field as §6 names them
type Doc = Record<string, any>;
const BANK = 3000;
const state = createSimState({ projects: BANK });
const heads = new Map<number, Doc>();
for (const p of state.projects) {
  const text = state.historyOf(p)[0]?.files.get("item.json");
  if (text !== undefined) heads.set(p.id, JSON.parse(text) as Doc);
}
const docs = [...heads.entries()];
const ofType = (t: string) => docs.filter(([, d]) => d.type === t);
const isIso = (s: unknown) =>
  typeof s === "string" && !Number.isNaN(Date.parse(s)) && /^\d{4}-\d\d-\d\dT/.test(s);

describe("top level and families (§6.1, §6.2, §3.2)", () => {
  test("every one of the 13 types is in a bank of 3,000 projects, none other", () => {
    for (const t of TYPES) expect(ofType(t).length).toBeGreaterThan(0);
    expect(docs.every(([, d]) => TYPES.includes(d.type))).toBe(true);
  });

  test("id is a string of digits that is not the project id; version is an iat format", () => {
    for (const [pid, d] of docs) {
      expect(d.id).toMatch(/^\d+$/);
      expect(Number(d.id)).not.toBe(pid);
      expect(d.version).toMatch(/^iat-\d+(\.\d+)?$/);
    }
    expect(new Set(docs.map(([, d]) => d.id)).size).toBe(docs.length);
  });

  test("assessment types have metadata and a stimulusId key; stim has metadata only; tut neither", () => {
    for (const [, d] of docs) {
      const core = d.core as Doc;
      if (ASSESSMENT.includes(d.type)) {
        expect(core.metadata).toBeObject();
        expect("stimulusId" in core).toBe(true);
      } else if (d.type === "stim") {
        expect(core.metadata).toBeObject();
        expect("stimulusId" in core).toBe(false);
        expect("testAdministration" in core).toBe(false);
      } else {
        expect("metadata" in core).toBe(false);
        expect("stimulusId" in core).toBe(false);
        expect("testAdministration" in core).toBe(false);
      }
    }
  });

  test("workflow codes are §6.5's, and the bank holds many of them, Operational included", () => {
    const seen = new Set(docs.map(([, d]) => d.workflow?.workflowStatusCode));
    for (const code of seen) expect(CODES).toContain(code);
    expect(seen.size).toBeGreaterThanOrEqual(20);
    expect(seen.has("Operational")).toBe(true);
  });
});

describe("metadata (§6.3)", () => {
  test("values are strings; subjects ELA and MATH; grades 3-8 and 11; DOK 1-4; claims 1-4", () => {
    const subjects = new Set<string>();
    const grades = new Set<string>();
    for (const [, d] of docs) {
      const md = d.core.metadata as Doc | undefined;
      if (!md) continue;
      for (const [k, v] of Object.entries(md))
        if (k !== "presentationFormat") expect(typeof v).toBe("string");
      subjects.add(md.subject);
      grades.add(md.intendedGrade ?? md.grade);
      if (ASSESSMENT.includes(d.type)) {
        expect(["1", "2", "3", "4"]).toContain(md.depthOfKnowledge);
        expect(["1", "2", "3", "4"]).toContain(md.primaryClaim);
        expect(md.itemAuthor).not.toBe("");
        expect(md.organizationTypeId).not.toBe("");
      }
    }
    expect([...subjects].sort()).toEqual(["ELA", "MATH"]);
    expect([...grades].sort()).toEqual(["11", "3", "4", "5", "6", "7", "8"]);
  });

  test("some documents are in the old iat-5 format: `grade` and `<ordinal>AssessmentTarget`", () => {
    const legacy = docs.filter(([, d]) => d.version === "iat-5");
    expect(legacy.length).toBeGreaterThan(0);
    for (const [, d] of legacy) {
      expect(d.core.metadata).toHaveProperty("grade");
      expect(d.core.metadata).not.toHaveProperty("intendedGrade");
      expect(d.core.metadata).toHaveProperty("primaryAssessmentTarget");
    }
  });

  test("serverManaged enhanced ids look like M.G3.C2OA.TC (§6.6)", () => {
    const ids = docs.flatMap(([, d]) => (d.serverManaged ? [d.serverManaged.primaryEnhancedId] : []));
    expect(ids.length).toBeGreaterThan(100);
    for (const id of ids) expect(id).toMatch(/^[EM]\.G\d{1,2}\.C\d[A-Z]+\.T[A-Z0-9]+$/);
  });
});

describe("content objects (§6.4)", () => {
  test("each type's core.en has the keys §6.4 lists, and the common ones", () => {
    for (const [, d] of docs) {
      const en = d.core.en as Doc;
      for (const k of CONTENT_KEYS[d.type] ?? []) expect(en).toHaveProperty(k);
      expect(isIso(en.updatedDate)).toBe(true);
      expect(typeof en.isRequired).toBe("string");
      expect(typeof en.isProvided).toBe("boolean");
    }
  });

  test("options are {text, rationale, isCorrectAnswer}; mc has one key, ms several", () => {
    for (const [, d] of [...ofType("mc"), ...ofType("ms")]) {
      const options = d.core.en.options as Doc[];
      for (const o of options) {
        expect(typeof o.text).toBe("string");
        expect(typeof o.rationale).toBe("string");
        expect(typeof o.isCorrectAnswer).toBe("boolean");
      }
      const keys = options.filter((o) => o.isCorrectAnswer).length;
      if (d.type === "mc") expect(keys).toBe(1);
      else expect(keys).toBeGreaterThanOrEqual(2);
    }
  });

  test('mi tables: the first cell of each row is a label cell (type "label") holding the row label', () => {
    for (const [, d] of ofType("mi")) {
      const table = d.core.en.table as Doc;
      expect(table.columns.length).toBeGreaterThan(1);
      for (const row of table.rows as Doc[]) {
        expect(row.cells[0].type).toBe("label");
        expect(typeof row.cells[0].value).toBe("string");
        for (const cell of row.cells.slice(1)) expect(cell.type).not.toBe("label");
      }
    }
  });

  test("ti tables have a title, column labels and cells, some string-valued and some not", () => {
    const values = ofType("ti").flatMap(([, d]) => (d.core.en.table.rows as Doc[]).flatMap((r) => r.cells));
    for (const [, d] of ofType("ti")) {
      expect(typeof d.core.en.table.title).toBe("string");
      expect(d.core.en.table.columns.every((c: Doc) => typeof c.label === "string")).toBe(true);
    }
    expect(values.some((c) => typeof c.value === "string")).toBe(true);
    expect(values.some((c) => typeof c.value !== "string")).toBe(true);
  });

  test("htqo orderable strings are strings; htqs interactive text is HTML; ebsr and eq have their parts", () => {
    for (const [, d] of ofType("htqo")) {
      const strings = d.core.en.htqOrderable.orderableStrings as unknown[];
      expect(strings.length).toBeGreaterThan(1);
      for (const s of strings) expect(typeof s).toBe("string");
    }
    for (const [, d] of ofType("htqs"))
      expect(d.core.en.htqSelectable.interactiveText).toMatch(/^<p>.*<\/p>$/);
    for (const [, d] of ofType("ebsr")) {
      expect(d.core.en.partAOptions.length).toBeGreaterThan(1);
      expect(d.core.en.partBOptions.length).toBeGreaterThan(1);
    }
    for (const [, d] of ofType("eq")) {
      for (const part of d.core.en.parts as Doc[]) {
        expect(typeof part.leftLabel).toBe("string");
        expect(typeof part.rightLabel).toBe("string");
      }
    }
  });

  test("stim passages are {title, body}; text carries entities, inline tags and MathML", () => {
    for (const [, d] of ofType("stim")) {
      for (const p of d.core.en.passages as Doc[]) {
        expect(Object.keys(p).sort()).toEqual(["body", "title"]);
        expect(typeof p.title).toBe("string");
        expect(typeof p.body).toBe("string");
      }
    }
    const strings = (v: unknown): string[] =>
      typeof v === "string" ? [v] : v && typeof v === "object" ? Object.values(v).flatMap(strings) : [];
    const all = docs.flatMap(([, d]) => strings(d.core.en)).join("\n");
    for (const needle of ["&nbsp;", "&mdash;", "&rsquo;", "&amp;", "<em>", "<br/>", '<math xmlns="']) {
      expect(all).toContain(needle);
    }
  });

  test("every document has translations.esp; some are translated, with Spanish entities", () => {
    const translated = docs.filter(([, d]) => d.translations.esp.isProvided === true);
    for (const [, d] of docs) {
      const esp = d.translations.esp as Doc;
      expect(typeof esp.isRequired).toBe("string");
      expect(isIso(esp.updatedDate)).toBe(true);
    }
    expect(translated.length).toBeGreaterThan(docs.length / 10);
    expect(translated.length).toBeLessThan(docs.length);
    expect(translated.map(([, d]) => JSON.stringify(d.translations.esp)).join("")).toMatch(
      /&iquest;|&eacute;|&aacute;/,
    );
  });
});

describe("accessibility, administrations, needs, assignments (§6.6-§6.8)", () => {
  test("asl, braille and cc: required string, provided boolean, attachments {fileName, uploadedDate}", () => {
    let files = 0;
    for (const [, d] of docs) {
      for (const [section, req, prov] of [
        ["asl", "isAslRequired", "isAslProvided"],
        ["braille", "isBrailleRequired", "isBrailleProvided"],
        ["cc", "isCcRequired", "isCcProvided"],
      ] as const) {
        expect(typeof d[section][req]).toBe("string");
        expect(typeof d[section][prov]).toBe("boolean");
        for (const a of d[section].attachments as Doc[]) {
          expect(a.fileName).toBeString();
          expect(isIso(a.uploadedDate)).toBe(true);
          files++;
        }
      }
      expect(typeof d.textToSpeech.isVisualTTSRequired).toBe("string");
    }
    expect(files).toBeGreaterThan(0);
  });

  test("items past field test carry administrations with forms; the field-test one has a quintile", () => {
    const administered = docs.filter(
      ([, d]) => (d.core.testAdministration?.administrations ?? []).length > 0,
    );
    expect(administered.length).toBeGreaterThan(100);
    for (const [, d] of administered) {
      const ta = d.core.testAdministration as Doc;
      expect(ASSESSMENT).toContain(d.type);
      const ft = (ta.administrations as Doc[]).filter(
        (a) => a.administrationId === ta.fieldTestAdministrationId,
      );
      expect(ft.length).toBe(1);
      expect(ft[0]?.fieldTestData.itemDifficultyQuintile).toMatch(/^[1-5]?$/);
      for (const a of ta.administrations as Doc[]) {
        for (const f of a.forms as Doc[]) {
          expect(typeof f.formId).toBe("string");
          expect(typeof f.formType).toBe("string");
          expect(f.exposures === null || Number.isInteger(f.exposures)).toBe(true);
        }
      }
    }
  });

  test("some items have content update needs, dated, one of them left unresolved somewhere", () => {
    const needs = docs.flatMap(([, d]) => (d.core.contentUpdateNeeds ?? []) as Doc[]);
    expect(needs.length).toBeGreaterThan(0);
    for (const n of needs) expect(isIso(n.createDate)).toBe(true);
    expect(needs.some((n) => n.resolution === "")).toBe(true);
    expect(needs.some((n) => n.resolution !== "")).toBe(true);
  });

  test("some items have assignments {assignedTo, assignedBy, assignedDate}; some have no key at all", () => {
    const with_ = docs.filter(([, d]) => (d.assignments ?? []).length > 0);
    expect(with_.length).toBeGreaterThan(0);
    expect(docs.some(([, d]) => !("assignments" in d))).toBe(true);
    for (const [, d] of with_) {
      for (const a of d.assignments as Doc[]) {
        expect(a.assignedTo).toContain("@");
        expect(a.assignedBy).toContain("@");
        expect(isIso(a.assignedDate)).toBe(true);
      }
    }
  });
});

describe("stimulus links", () => {
  test("a non-empty core.stimulusId is the id of a stim item held by a project of the bank", () => {
    const byItemId = new Map(docs.map(([, d]) => [String(d.id), d]));
    const linked = docs.filter(
      ([, d]) => d.core.stimulusId !== null && d.core.stimulusId !== undefined && d.core.stimulusId !== "",
    );
    expect(linked.length).toBeGreaterThan(docs.length / 10);
    for (const [, d] of linked) expect(byItemId.get(String(d.core.stimulusId))?.type).toBe("stim");
    // in the group itself: a client listing the group without subgroups or shared projects has them
    const inGroup = new Set(state.projects.filter((p) => p.namespaceId === state.group.id).map((p) => p.id));
    const projectOf = new Map(docs.map(([pid, d]) => [String(d.id), pid]));
    for (const [, d] of linked)
      expect(inGroup.has(projectOf.get(String(d.core.stimulusId)) ?? -1)).toBe(true);
    // §6.2: "string or number"
    expect(linked.some(([, d]) => typeof d.core.stimulusId === "number")).toBe(true);
    expect(linked.some(([, d]) => typeof d.core.stimulusId === "string")).toBe(true);
  });
});

describe("determinism and shares", () => {
  test("the same project id gives the same document and history in another simulator", () => {
    const again = createSimState({ projects: BANK });
    for (const id of [1, 2, 17, 500, 2999]) {
      const a = state.historyOf(state.project(id)!);
      const b = again.historyOf(again.project(id)!);
      expect(b.map((c) => c.id)).toEqual(a.map((c) => c.id));
      expect(b[0]?.files.get("item.json")).toBe(a[0]?.files.get("item.json") as string);
    }
    expect(heads.get(1)).not.toEqual(heads.get(2));
  });

  test("noItemFraction: that share of projects never had an item.json; the default is 2 %", () => {
    const missing = BANK - heads.size;
    expect(missing).toBeGreaterThan(BANK * 0.01);
    expect(missing).toBeLessThan(BANK * 0.03);
    const s = createSimState({ projects: 1000, noItemFraction: 0.25 });
    const none = s.projects.filter((p) => s.historyOf(p).every((c) => !c.files.has("item.json")));
    expect(none.length).toBeGreaterThan(200);
    expect(none.length).toBeLessThan(300);
    for (const p of none) expect(s.historyOf(p)[0]?.files.has("README.md")).toBe(true);
  });

  test("invalidItemFraction (default 0): that share ends with item.json that is not a readable item", () => {
    const readable = (text: string | undefined) => {
      try {
        const d = JSON.parse(text ?? "") as Doc;
        return TYPES.includes(d.type) && /^\d+$/.test(String(d.id));
      } catch {
        return false;
      }
    };
    expect(docs.every(([, d]) => readable(JSON.stringify(d)))).toBe(true);
    const s = createSimState({ projects: 1000, invalidItemFraction: 0.2, noItemFraction: 0 });
    const heads2 = s.projects.map((p) => s.historyOf(p)[0]?.files.get("item.json"));
    const bad = heads2.filter((t) => !readable(t));
    expect(bad.length).toBeGreaterThan(150);
    expect(bad.length).toBeLessThan(250);
    // all three kinds of §4.6: not JSON, an unknown type, an id that is not an integer
    expect(bad.some((t) => !t?.trim().endsWith("}"))).toBe(true);
    expect(bad.some((t) => t?.includes('"type": "xyz"'))).toBe(true);
    expect(bad.some((t) => /"id": "ITEM-/.test(t ?? ""))).toBe(true);
  });
});
