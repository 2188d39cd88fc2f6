/**
 * The `item` columns derived from several item.json values at once (IMRT-ITEMS.md §3.4.5–§3.4.8):
 * uploaded-prior flags, test administration figures, the content update need summary and the
 * assignment summary. Each returns the columns' values, or KEEP where the rule leaves a column
 * unassigned; column-rules.ts picks them up one column per row.
 */

import { attachmentUploadedAt, objectsAt } from "./child-rows.ts";
import type { JsonObject } from "./json-values.ts";
import {
  arrayAt,
  asInstant,
  asText,
  compareIgnoringCase,
  integerOrNull,
  isBlank,
  objectAt,
} from "./json-values.ts";
import type { AssignmentRow, RevisionFacts, UpdateNeedRow } from "./types.ts";

/** A rule leaves the column unassigned: the stored value stays, an inserted row gets its default. */
export const KEEP = Symbol("KEEP");
export type Keep = typeof KEEP;

/**
 * §3.4.5: for `asl`, `braille` or `cc`, whether the newest attachment predates the last English
 * content change. KEEP when the section is absent or has no attachments. An attachment without a
 * date counts as uploaded at the commit date (as its item_attachment row says); a NULL English
 * date makes the comparison false (Q5/Q6).
 */
export function uploadedPrior(
  doc: JsonObject,
  section: "asl" | "braille" | "cc",
  englishUpdatedAt: Date | null,
  facts: RevisionFacts,
): boolean | Keep {
  const attachments = objectsAt(objectAt(doc, section), "attachments");
  if (attachments.length === 0) return KEEP;
  const latest = Math.max(...attachments.map((a) => attachmentUploadedAt(a, facts).getTime()));
  return englishUpdatedAt !== null && latest < englishUpdatedAt.getTime();
}

export interface TestAdministrationColumns {
  form_count: number | null | Keep;
  exposures_count: number | null;
  item_difficulty_quintile: number | null | Keep;
}

/** §3.4.6, first row: stim and tut keep their form count and have no exposures or quintile. */
export const NO_TEST_ADMINISTRATION: TestAdministrationColumns = {
  form_count: KEEP,
  exposures_count: null,
  item_difficulty_quintile: null,
};

/** §3.4.6 for the assessment family. */
export function testAdministrationColumns(doc: JsonObject): TestAdministrationColumns {
  const ta = objectAt(doc, "core.testAdministration");
  const administrations = objectsAt(ta, "administrations");
  if (administrations.length === 0) {
    return { form_count: null, exposures_count: null, item_difficulty_quintile: null };
  }
  let forms = 0;
  let exposures = 0;
  for (const administration of administrations) {
    for (const form of objectsAt(administration, "forms")) {
      forms += 1;
      exposures += integerOrNull(form.exposures) ?? 0;
    }
  }
  return {
    form_count: forms,
    exposures_count: exposures,
    item_difficulty_quintile: quintile(ta, administrations),
  };
}

/**
 * The quintile of the field-test administration: the last administration whose id equals
 * `fieldTestAdministrationId` (two missing ids are equal, as two Java nulls are). No match, or a
 * blank value, is KEEP; a match without `fieldTestData` reads as blank (the replaced service
 * failed there). Text that is not an integer gives NULL.
 */
function quintile(ta: JsonObject | null, administrations: JsonObject[]): number | null | Keep {
  const fieldTestId = asText(ta?.fieldTestAdministrationId);
  const match = administrations.findLast((a) => asText(a.administrationId) === fieldTestId);
  if (match === undefined) return KEEP;
  const value = asText(objectAt(match, "fieldTestData")?.itemDifficultyQuintile);
  if (value === null || isBlank(value)) return KEEP;
  return integerOrNull(value);
}

export interface UpdateNeedColumns {
  unresolved_update_need: boolean;
  current_update_need_create_date: Date | null;
  current_update_need_internal_resolution_date: Date | null;
  current_update_need_internal_resolution: string;
  current_update_need_resolution_date: Date | null;
  current_update_need_resolution: string;
}

/**
 * §3.4.7. The current need is the last after a stable sort by create date. A need without a
 * create date (the replaced service failed on it) sorts first, as the oldest: a dated need is
 * always preferred as current, and when none has a date the last in the document is current.
 */
export function updateNeedColumns(needs: readonly UpdateNeedRow[]): UpdateNeedColumns {
  const sorted = [...needs].sort((a, b) => createdTime(a) - createdTime(b));
  const current = sorted.at(-1);
  if (current === undefined) {
    return {
      unresolved_update_need: false,
      current_update_need_create_date: null,
      current_update_need_internal_resolution_date: null,
      current_update_need_internal_resolution: "",
      current_update_need_resolution_date: null,
      current_update_need_resolution: "",
    };
  }
  return {
    unresolved_update_need: needs.some((need) => need.resolution === null || need.resolution === ""),
    current_update_need_create_date: current.createDate,
    current_update_need_internal_resolution_date: current.internalResolutionDate,
    current_update_need_internal_resolution: current.internalResolution,
    current_update_need_resolution_date: current.resolutionDate,
    // Q14: a null resolution would fail NOT NULL; '' instead.
    current_update_need_resolution: current.resolution ?? "",
  };
}

// Undated needs first; MIN_SAFE_INTEGER rather than -Infinity so two of them compare as 0, not NaN.
const createdTime = (need: UpdateNeedRow): number => need.createDate?.getTime() ?? Number.MIN_SAFE_INTEGER;

export interface AssignmentColumns {
  assigned_to: string;
  assigned_by: string;
  assigned_dates: string;
  assigned_date_sort: string;
}

/**
 * §3.4.8: assignments sorted by assignee, case-insensitively as Java's CASE_INSENSITIVE_ORDER
 * (ties in input order: Array.prototype.sort is stable), dates as MM/dd/yy in UTC and as epoch
 * milliseconds. No assignments: all four `''`. Built from the rows, so a missing date is the
 * same commit date here as in item_assignment.
 */
export function assignmentColumns(assignments: readonly AssignmentRow[]): AssignmentColumns {
  const sorted = [...assignments].sort((a, b) => compareIgnoringCase(a.assignedTo, b.assignedTo));
  return {
    assigned_to: sorted.map((a) => a.assignedTo).join(", "),
    assigned_by: sorted.map((a) => a.assignedBy).join(", "),
    assigned_dates: sorted.map((a) => shortUtcDate(a.assignedDate)).join(", "),
    assigned_date_sort: sorted.map((a) => String(a.assignedDate.getTime())).join(","),
  };
}

/** `MM/dd/yy` in UTC. */
function shortUtcDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${two(date.getUTCFullYear() % 100)}`;
}

/** §3.4.10: passages of a stimulus (a missing array counts 0). */
export function passageCounts(doc: JsonObject): { english: number; spanish: number } {
  return {
    english: arrayAt(doc, "core.en.passages").length,
    spanish: arrayAt(doc, "translations.esp.passages").length,
  };
}

/** English content date (col 55), used by several rules. */
export function englishUpdatedAt(doc: JsonObject): Date | null {
  return asInstant(objectAt(doc, "core.en")?.updatedDate);
}
