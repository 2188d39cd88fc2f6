/**
 * What each item family has (IMRT-ITEMS.md §3.2, Q4): the assessment types have metadata, a
 * stimulus id and a test administration; a stimulus has metadata and passages; a tutorial has
 * none of these. One record of small functions per family, picked by FAMILY_RULES[family], so
 * the column table and the child rows never branch on a type themselves. For stim and tut a
 * `stimulusId` or `testAdministration` in the document is ignored (their cores do not have them).
 */

import { formRows } from "./child-rows.ts";
import {
  NO_TEST_ADMINISTRATION,
  passageCounts,
  type TestAdministrationColumns,
  testAdministrationColumns,
} from "./derived-rules.ts";
import { at, integerOrNull, type JsonObject, objectAt } from "./json-values.ts";
import type { FormRow, ItemFamily } from "./types.ts";

export interface FamilyRules {
  /** `core.metadata`, or null: the metadata columns are KEEP. */
  metadata(doc: JsonObject): JsonObject | null;
  /** Column 15: the stimulus's item id, not its key. */
  associatedStimulusId(doc: JsonObject): number | null;
  /** Columns 38–40 (§3.4.6). */
  testAdministration(doc: JsonObject): TestAdministrationColumns;
  /** `item_form` rows; null: the family's rows are not touched (§3.5.2). */
  forms(doc: JsonObject): FormRow[] | null;
  /** Columns 62–63 (§3.4.10). */
  passages(doc: JsonObject): { english: number; spanish: number };
}

const readMetadata = (doc: JsonObject) => objectAt(doc, "core.metadata");
const noPassages = () => ({ english: 0, spanish: 0 });

const assessmentFamily: FamilyRules = {
  metadata: readMetadata,
  // readItemDocument quarantined a non-empty stimulusId that is not an integer; blank is NULL.
  associatedStimulusId: (doc) => integerOrNull(at(doc, "core.stimulusId")),
  testAdministration: testAdministrationColumns,
  forms: formRows,
  passages: noPassages,
};

const stimFamily: FamilyRules = {
  metadata: readMetadata,
  associatedStimulusId: () => null,
  testAdministration: () => NO_TEST_ADMINISTRATION,
  forms: () => null,
  passages: passageCounts,
};

const tutFamily: FamilyRules = {
  metadata: () => null,
  associatedStimulusId: () => null,
  testAdministration: () => NO_TEST_ADMINISTRATION,
  forms: () => null,
  passages: noPassages,
};

export const FAMILY_RULES: Record<ItemFamily, FamilyRules> = {
  assessment: assessmentFamily,
  stim: stimFamily,
  tut: tutFamily,
};
