/**
 * The kinds of row in the `item` column table (column-rules.ts) and the vocabulary they use, named
 * as IMRT-ITEMS.md §0.2 and §3.3 name them: the transforms applied to a value read at an item.json
 * path, the conditions under which a column is KEEP, and the context derived rules read.
 */

import type {
  AssignmentColumns,
  Keep,
  TestAdministrationColumns,
  UpdateNeedColumns,
} from "./derived-rules.ts";
import type { FamilyRules } from "./family-rules.ts";
import type { ItemColumnName } from "./item-columns.ts";
import { asBoolean, asInstant, asText, booleanText, objectAt, textOrEmpty } from "./json-values.ts";
import type { ColumnValue, ItemDocument, RevisionFacts } from "./types.ts";

/** Everything a rule may read: the document and the values several rules share. */
export interface MappingContext {
  item: ItemDocument;
  facts: RevisionFacts;
  family: FamilyRules;
  englishUpdatedAt: Date | null;
  testAdministration: TestAdministrationColumns;
  updateNeeds: UpdateNeedColumns;
  assignments: AssignmentColumns;
}

/** §0.2 / §3.3 transforms of the value at a rule's source path, by their names in the spec. */
export const TRANSFORMS = {
  'dflt("")': textOrEmpty,
  // Q14: the replaced service copied these raw and a null failed the NOT NULL column.
  "raw, NULL → '' (Q14)": textOrEmpty,
  "text(bool), missing = 'false'": booleanText,
  "boolean, missing = false": asBoolean,
  "raw, missing = NULL": asText,
  "ISO-8601 instant, missing or unparseable = NULL (Q5)": asInstant,
} satisfies Record<string, (value: unknown) => ColumnValue>;
export type TransformName = keyof typeof TRANSFORMS;

/** §3.3 "KEEP when": the conditions under which a rule leaves its column unassigned. */
export const KEEP_WHEN = {
  never: () => false,
  "no `core.metadata` (tut, or absent)": (c: MappingContext) => c.family.metadata(c.item.doc) === null,
  "`workflow` absent": (c: MappingContext) => objectAt(c.item.doc, "workflow") === null,
  "`asl` absent": (c: MappingContext) => objectAt(c.item.doc, "asl") === null,
  "`braille` absent": (c: MappingContext) => objectAt(c.item.doc, "braille") === null,
  "`cc` absent": (c: MappingContext) => objectAt(c.item.doc, "cc") === null,
  "`translations.esp` absent": (c: MappingContext) => objectAt(c.item.doc, "translations.esp") === null,
  "`textToSpeech` absent": (c: MappingContext) => objectAt(c.item.doc, "textToSpeech") === null,
  "`glossary` absent": (c: MappingContext) => objectAt(c.item.doc, "glossary") === null,
  "`serverManaged` absent": (c: MappingContext) => objectAt(c.item.doc, "serverManaged") === null,
  /** The rule itself answers KEEP (§3.4.5, §3.4.6). */
  "the rule says": () => false,
} satisfies Record<string, (context: MappingContext) => boolean>;
export type KeepCondition = keyof typeof KEEP_WHEN;

interface RuleBase {
  column: ItemColumnName;
  /** item.json path(s) the value comes from. */
  source: string;
  keepWhen: KeepCondition;
  /** §3.3 "entity default": what an inserted row gets while the column is KEEP. */
  insertDefault?: ColumnValue;
}
export interface PathRule extends RuleBase {
  transform: TransformName;
  /** Q8: the older key read when `source` is absent (missing or null). */
  legacy?: string;
}
export interface DerivedRule extends RuleBase {
  /** The §3.4 rule, for the reader. */
  rule: string;
  derive: (context: MappingContext) => ColumnValue | Keep;
}
export type ColumnRule = PathRule | DerivedRule;

/** A `core.metadata` column: dflt(""), KEEP without metadata, `''` on insert. */
export function metadata(column: ItemColumnName, source: string, legacy?: string): PathRule {
  return {
    column,
    source,
    transform: 'dflt("")',
    keepWhen: "no `core.metadata` (tut, or absent)",
    insertDefault: "",
    legacy,
  };
}

export function path(
  column: ItemColumnName,
  source: string,
  transform: TransformName,
  keepWhen: KeepCondition,
  insertDefault?: ColumnValue,
): PathRule {
  return { column, source, transform, keepWhen, insertDefault };
}

export function derived(
  column: ItemColumnName,
  source: string,
  rule: string,
  derive: DerivedRule["derive"],
  keepWhen: KeepCondition = "never",
  insertDefault?: ColumnValue,
): DerivedRule {
  return { column, source, rule, derive, keepWhen, insertDefault };
}
