/**
 * Keyword extraction (IMRT-ITEMS.md §3.6.2, §3.6.3): the `item_keyword` rows of one item, which
 * the Item Search Service matches keyword searches against. One small function per type, picked
 * by KEYWORD_EXTRACTORS; each reads one content object (`core.en`, then `translations.esp` with
 * the `Spanish ` labels) in the order of the §3.6.2 table.
 *
 * Our readings where the replaced service failed: a missing container (`options`, `parts`,
 * `table`, `columns`, `rows`, `cells`, `htqOrderable`, `orderableStrings`, …) is empty, and a
 * null element is skipped, also under "no check". Rows are de-duplicated on (section, content),
 * the first kept; the order is the table's (Q17).
 */

import { clean } from "./clean-text.ts";
import { arrayAt, asText, isBlank, isObject, type JsonObject, objectAt } from "./json-values.ts";
import type { ItemDocument, ItemType, KeywordRow } from "./types.ts";

/** "skip blank": the raw string is skipped when empty or whitespace only; "no check": never. */
type Check = "skip blank" | "no check";

/**
 * Adds one row for `raw` under the English `label` (the caller adds `Spanish `). `stored` "raw"
 * keeps the text uncleaned (ti column headers). A null or non-text `raw` never gives a row.
 */
type Emit = (label: string, raw: unknown, check: Check, stored?: "cleaned" | "raw") => void;
type Extractor = (content: JsonObject, emit: Emit) => void;

const PROMPT = "Prompt / Stem";

function promptOnly(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
}

function choiceKeywords(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
  for (const option of arrayAt(content, "options")) emit("Options", textOf(option), "no check");
}

function ebsrKeywords(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
  emit("Part A Stem", content.partAPrompt, "skip blank");
  emit("Part B Stem", content.partBPrompt, "skip blank");
  for (const option of arrayAt(content, "partAOptions")) emit("Part A Options", textOf(option), "skip blank");
  for (const option of arrayAt(content, "partBOptions")) emit("Part B Options", textOf(option), "skip blank");
}

function eqKeywords(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
  const parts = arrayAt(content, "parts").filter(isObject);
  for (const part of parts) emit("Left Labels", part.leftLabel, "skip blank");
  for (const part of parts) emit("Right Labels", part.rightLabel, "skip blank");
}

function htqoKeywords(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
  for (const text of arrayAt(content, "htqOrderable.orderableStrings"))
    emit("Interactive Texts", text, "no check");
}

function htqsKeywords(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
  emit("Interactive Texts", objectAt(content, "htqSelectable")?.interactiveText, "skip blank");
}

/** Q9: a row label is a cell whose `type` is `"label"`. */
function miKeywords(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
  for (const column of arrayAt(content, "table.columns"))
    emit("Table Column Headers", labelOf(column), "skip blank");
  for (const cell of tableCells(content)) {
    if (cell.type === "label") emit("Table Row Labels", cell.value, "skip blank");
  }
}

function tiKeywords(content: JsonObject, emit: Emit): void {
  emit(PROMPT, content.prompt, "skip blank");
  emit("Table Title", objectAt(content, "table")?.title, "skip blank");
  for (const column of arrayAt(content, "table.columns")) {
    emit("Table Column Headers", labelOf(column), "skip blank", "raw");
  }
  for (const cell of tableCells(content)) {
    // Only values that are JSON strings: a number or boolean cell is not indexed.
    if (typeof cell.value === "string") emit("Table Cells (all types)", cell.value, "skip blank");
  }
}

function contentOnly(content: JsonObject, emit: Emit): void {
  emit("Content", content.content, "skip blank");
}

/** Only one type's rules apply to an item: the one matching its `type`. */
export const KEYWORD_EXTRACTORS: Record<ItemType, Extractor> = {
  mc: choiceKeywords,
  ms: choiceKeywords,
  ebsr: ebsrKeywords,
  eq: eqKeywords,
  gi: promptOnly,
  sa: promptOnly,
  wer: promptOnly,
  htqo: htqoKeywords,
  htqs: htqsKeywords,
  mi: miKeywords,
  ti: tiKeywords,
  stim: contentOnly,
  tut: contentOnly,
};

/** §3.5.1: the item's keyword rows, English then Spanish, de-duplicated on (section, content). */
export function extractKeywords(item: ItemDocument): KeywordRow[] {
  const rows: KeywordRow[] = [];
  const seen = new Set<string>();
  const extract = KEYWORD_EXTRACTORS[item.type];
  const languages: [prefix: string, content: JsonObject | null][] = [
    ["", objectAt(item.doc, "core.en")],
    // Spanish rows only when translations.esp exists.
    ["Spanish ", objectAt(item.doc, "translations.esp")],
  ];
  for (const [prefix, content] of languages) {
    if (content === null) continue;
    extract(content, (label, raw, check, stored = "cleaned") => {
      const text = asText(raw);
      if (text === null) return;
      if (check === "skip blank" && isBlank(text)) return;
      const row = { section: prefix + label, content: stored === "raw" ? text : clean(text) };
      const key = `${row.section}\u0000${row.content}`;
      if (seen.has(key)) return;
      seen.add(key);
      rows.push(row);
    });
  }
  return rows;
}

function textOf(option: unknown): unknown {
  return isObject(option) ? option.text : null;
}

function labelOf(column: unknown): unknown {
  return isObject(column) ? column.label : null;
}

function tableCells(content: JsonObject): JsonObject[] {
  return arrayAt(content, "table.rows")
    .filter(isObject)
    .flatMap((row) => arrayAt(row, "cells").filter(isObject));
}
