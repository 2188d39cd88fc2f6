/**
 * mapItem: what one revision of an item assigns from its item.json (IMRT-ITEMS.md §3.3–§3.6) —
 * the `item` columns of COLUMN_RULES, read by one loop, and the child rows. Pure: no database,
 * no GitLab, no clock; the commit date comes in with the revision facts.
 *
 * INSERT_DEFAULTS completes a new row: every column a revision may leave KEEP gets the entity
 * default of §3.3, as the replaced service inserted every mapped column (its entity defaults won
 * over the SQL defaults).
 */

import { assignmentRows, attachmentRows, updateNeedRows } from "./child-rows.ts";
import { KEEP_WHEN, type MappingContext, type PathRule, TRANSFORMS } from "./column-rule-kinds.ts";
import { COLUMN_RULES } from "./column-rules.ts";
import { assignmentColumns, englishUpdatedAt, KEEP, updateNeedColumns } from "./derived-rules.ts";
import { FAMILY_RULES } from "./family-rules.ts";
import type { ItemColumnName } from "./item-columns.ts";
import { at } from "./json-values.ts";
import { extractKeywords } from "./keywords.ts";
import type { ChildRows, ColumnValue, ItemDocument, MappedItem, RevisionFacts } from "./types.ts";

export function mapItem(item: ItemDocument, facts: RevisionFacts): MappedItem {
  const doc = item.doc;
  const family = FAMILY_RULES[item.family];
  const children: ChildRows = {
    keywords: extractKeywords(item),
    forms: family.forms(doc),
    attachments: attachmentRows(doc, facts),
    updateNeeds: updateNeedRows(doc),
    assignments: assignmentRows(doc, facts),
  };
  const context: MappingContext = {
    item,
    facts,
    family,
    englishUpdatedAt: englishUpdatedAt(doc),
    testAdministration: family.testAdministration(doc),
    updateNeeds: updateNeedColumns(children.updateNeeds),
    assignments: assignmentColumns(children.assignments),
  };
  const columns: Record<string, ColumnValue> = {};
  for (const rule of COLUMN_RULES) {
    if (KEEP_WHEN[rule.keepWhen](context)) continue;
    const value = "transform" in rule ? readPath(rule, context) : rule.derive(context);
    if (value !== KEEP) columns[rule.column] = value;
  }
  return { columns, children };
}

function readPath(rule: PathRule, context: MappingContext): ColumnValue {
  let value = at(context.item.doc, rule.source);
  // Q8: the older key only when the current one is absent, so an explicit "" is kept.
  if ((value === undefined || value === null) && rule.legacy !== undefined)
    value = at(context.item.doc, rule.legacy);
  return TRANSFORMS[rule.transform](value);
}

/**
 * Columns nobody assigns on a first revision unless a rule does: KEEP-able mapped columns (from
 * COLUMN_RULES), plus those the history part may leave KEEP and those never written.
 */
export const INSERT_DEFAULTS: Readonly<Partial<Record<ItemColumnName, ColumnValue>>> = {
  ...Object.fromEntries(
    COLUMN_RULES.filter((rule) => rule.insertDefault !== undefined).map((rule) => [
      rule.column,
      rule.insertDefault,
    ]),
  ),
  // §3.4.4: KEEP while status_set_operational_at is NULL.
  status_set_operational_at: null,
  content_changed_after_operational: false,
  // §3.4.9: only the validation step writes them.
  severe_validation_result_count: 0,
  degraded_validation_result_count: 0,
  tolerable_validation_result_count: 0,
  benign_validation_result_count: 0,
  // Never written from GitLab (§1.2, §1.3).
  commit_id: null,
  item_version: null,
  pencil_paper: "",
  state_specific_use: "",
  state_specific_use_description: "",
};
