/**
 * Keyword rows (IMRT-ITEMS.md §3.6.2, §3.6.3) for all 13 types, English then Spanish, with the
 * exact section labels; missing containers, null elements, blank-skipping against "no check",
 * and de-duplication on (section, content).
 */

import { describe, expect, test } from "bun:test";
import { type Doc, doc, mapDoc } from "./test-kit.ts";
import type { ItemType, KeywordRow } from "./types.ts";

const keywords = (document: Doc) => mapDoc(document).children.keywords;
const both = (type: ItemType, en: Doc, esp: Doc) => doc(type, { core: { en }, translations: { esp } });
const rows = (...pairs: [string, string][]): KeywordRow[] =>
  pairs.map(([section, content]) => ({ section, content }));

describe("each type's fields and labels, English then Spanish", () => {
  test.each(["mc", "ms"] as const)("%s: prompt, options", (type) => {
    const en = { prompt: "<p>P</p>", options: [{ text: "<b>o1</b>" }, { text: "o2" }] };
    const esp = { prompt: "p", options: [{ text: "o" }] };
    expect(keywords(both(type, en, esp))).toEqual(
      rows(
        ["Prompt / Stem", "P"],
        ["Options", "o1"],
        ["Options", "o2"],
        ["Spanish Prompt / Stem", "p"],
        ["Spanish Options", "o"],
      ),
    );
  });

  test("ebsr: prompt, part A/B stems, part A/B options", () => {
    const en = {
      partBOptions: [{ text: "b1" }],
      partAOptions: [{ text: "a1" }, { text: "a2" }],
      partBPrompt: "B?",
      partAPrompt: "A?",
      prompt: "P",
    };
    expect(keywords(both("ebsr", en, { partAPrompt: "a?" }))).toEqual(
      rows(
        ["Prompt / Stem", "P"],
        ["Part A Stem", "A?"],
        ["Part B Stem", "B?"],
        ["Part A Options", "a1"],
        ["Part A Options", "a2"],
        ["Part B Options", "b1"],
        ["Spanish Part A Stem", "a?"],
      ),
    );
  });

  test("eq: prompt, every left label, then every right label", () => {
    const en = {
      prompt: "P",
      parts: [
        { leftLabel: "L1", rightLabel: "R1" },
        { leftLabel: "L2", rightLabel: " " },
      ],
    };
    expect(keywords(both("eq", en, { parts: [{ rightLabel: "r" }] }))).toEqual(
      rows(
        ["Prompt / Stem", "P"],
        ["Left Labels", "L1"],
        ["Left Labels", "L2"],
        ["Right Labels", "R1"],
        ["Spanish Right Labels", "r"],
      ),
    );
  });

  test.each(["gi", "sa", "wer"] as const)("%s: prompt only", (type) => {
    const en = { prompt: "P", options: [{ text: "not indexed" }], content: "not indexed" };
    expect(keywords(both(type, en, { prompt: "p" }))).toEqual(
      rows(["Prompt / Stem", "P"], ["Spanish Prompt / Stem", "p"]),
    );
  });

  test("htqo: prompt, orderable strings (no check)", () => {
    const en = { prompt: "P", htqOrderable: { orderableStrings: ["<p>one</p>", "", null, "two"] } };
    expect(keywords(both("htqo", en, { htqOrderable: { orderableStrings: ["uno"] } }))).toEqual(
      rows(
        ["Prompt / Stem", "P"],
        ["Interactive Texts", "one"],
        ["Interactive Texts", ""],
        ["Interactive Texts", "two"],
        ["Spanish Interactive Texts", "uno"],
      ),
    );
  });

  test("htqs: prompt, interactive text (skipped when htqSelectable is absent or blank)", () => {
    const en = { prompt: "P", htqSelectable: { interactiveText: "<span>pick</span> me" } };
    expect(keywords(both("htqs", en, { htqSelectable: { interactiveText: "  " } }))).toEqual(
      rows(["Prompt / Stem", "P"], ["Interactive Texts", "pick me"]),
    );
    expect(keywords(both("htqs", { prompt: "P" }, { htqSelectable: { interactiveText: "x" } }))).toEqual(
      rows(["Prompt / Stem", "P"], ["Spanish Interactive Texts", "x"]),
    );
  });

  test("mi: prompt, column headers (cleaned), row labels from cells of type 'label' (Q9, Q10)", () => {
    const table = {
      columns: [{ label: "<b>Col</b> 1" }, { label: "" }],
      rows: [
        {
          cells: [
            { type: "label", value: "<p>Row 1</p>" },
            { type: "answer", value: "yes" },
          ],
        },
        { cells: [{ type: "Label", value: "not a label cell" }, null, { type: "label", value: " " }] },
      ],
    };
    expect(keywords(both("mi", { prompt: "P", table }, { table }))).toEqual(
      rows(
        ["Prompt / Stem", "P"],
        ["Table Column Headers", "Col 1"],
        ["Table Row Labels", "Row 1"],
        ["Spanish Table Column Headers", "Col 1"],
        ["Spanish Table Row Labels", "Row 1"],
      ),
    );
  });

  test("ti: prompt, title, column headers stored raw, string cells of any type", () => {
    const table = {
      title: "<p>Title</p>",
      columns: [{ label: "<b>Raw</b>&nbsp;header" }, { label: " " }],
      rows: [{ cells: [{ type: "label", value: "<i>a</i>" }, { type: "input", value: "b" }, { value: 5 }] }],
    };
    expect(
      keywords(both("ti", { prompt: "P", table }, { table: { columns: [{ label: "<i>x</i>" }] } })),
    ).toEqual(
      rows(
        ["Prompt / Stem", "P"],
        ["Table Title", "Title"],
        ["Table Column Headers", "<b>Raw</b>&nbsp;header"],
        ["Table Cells (all types)", "a"],
        ["Table Cells (all types)", "b"],
        ["Spanish Table Column Headers", "<i>x</i>"],
      ),
    );
  });

  test.each(["stim", "tut"] as const)("%s: content", (type) => {
    const en = {
      content: "<p>The <em>clever</em> fox</p>",
      prompt: "not indexed",
      passages: [{ body: "no" }],
    };
    expect(keywords(both(type, en, { content: "<p>El zorro</p>" }))).toEqual(
      rows(["Content", "The clever fox"], ["Spanish Content", "El zorro"]),
    );
  });
});

describe("tolerant reading", () => {
  test("Spanish rows only when translations.esp exists", () => {
    expect(keywords(doc("sa", { core: { en: { prompt: "P" } }, translations: {} }))).toEqual(
      rows(["Prompt / Stem", "P"]),
    );
  });

  test("no core.en: no English rows", () => {
    expect(keywords(doc("sa", { translations: { esp: { prompt: "p" } } }))).toEqual(
      rows(["Spanish Prompt / Stem", "p"]),
    );
  });

  test.each([
    ["mc", { prompt: "P" }],
    ["mc", { prompt: "P", options: null }],
    ["ebsr", { prompt: "P", partAOptions: "x" }],
    ["eq", { prompt: "P", parts: [null] }],
    ["htqo", { prompt: "P", htqOrderable: {} }],
    ["htqo", { prompt: "P" }],
    ["mi", { prompt: "P", table: { rows: [{}] } }],
    ["mi", { prompt: "P" }],
    ["ti", { prompt: "P", table: { columns: null, rows: [{ cells: null }] } }],
  ] as const)("%s with a missing container %j: empty, not a failure", (type, en) => {
    expect(keywords(doc(type, { core: { en } }))).toEqual(rows(["Prompt / Stem", "P"]));
  });

  test("'no check' options: empty text gives '', null text and null options are skipped", () => {
    const en = { options: [{ text: "" }, { text: null }, null, { text: " " }, { text: "x" }] };
    expect(keywords(doc("ms", { core: { en } }))).toEqual(rows(["Options", ""], ["Options", "x"]));
  });

  test("'skip blank' checks the raw string before cleaning: markup that cleans to '' still gives a row", () => {
    const en = { prompt: "<p></p>", partAOptions: [{ text: " \t\n" }, { text: "" }, { text: null }] };
    expect(keywords(doc("ebsr", { core: { en } }))).toEqual(rows(["Prompt / Stem", ""]));
  });

  test("a no-break space alone is not blank for Java (it is cleaned to '')", () => {
    expect(keywords(doc("gi", { core: { en: { prompt: "\u00a0" } } }))).toEqual(rows(["Prompt / Stem", ""]));
  });
});

describe("de-duplication on (section, content)", () => {
  test("the same cleaned text in one section is kept once, first position; other sections keep theirs", () => {
    const en = {
      prompt: "<p>clever</p>",
      options: [{ text: "<p>clever</p>" }, { text: "sleepy" }, { text: "clever" }, { text: "<b>sleepy</b>" }],
    };
    expect(keywords(both("mc", en, { options: [{ text: "clever" }] }))).toEqual(
      rows(
        ["Prompt / Stem", "clever"],
        ["Options", "clever"],
        ["Options", "sleepy"],
        ["Spanish Options", "clever"],
      ),
    );
  });
});
