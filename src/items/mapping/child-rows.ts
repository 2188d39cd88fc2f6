/**
 * The child rows one revision writes besides keywords (IMRT-ITEMS.md §3.5.2–§3.5.5): forms,
 * attachments, content update needs and assignments, read leniently. Where the replaced service
 * would have failed on a null (§4.6), the tolerant readings are: a null or non-object element is
 * skipped, a missing date on an attachment or an assignment is the revision's commit date (both
 * columns are NOT NULL, and the commit is when the entry was last written at the latest).
 */

import {
  arrayAt,
  asInstant,
  asText,
  integerOrNull,
  isObject,
  type JsonObject,
  objectAt,
  textOrEmpty,
} from "./json-values.ts";
import type { AssignmentRow, AttachmentRow, FormRow, RevisionFacts, UpdateNeedRow } from "./types.ts";

/** The objects of an array; nulls and stray scalars are skipped. */
export function objectsAt(root: unknown, path: string): JsonObject[] {
  return arrayAt(root, path).filter(isObject);
}

/** §3.5.2: one row per `core.testAdministration.administrations[].forms[]` (assessment family). */
export function formRows(doc: JsonObject): FormRow[] {
  return objectsAt(doc, "core.testAdministration.administrations").flatMap((administration) =>
    objectsAt(administration, "forms").map((form) => ({
      formId: textOrEmpty(form.formId),
      formType: textOrEmpty(form.formType),
      assessmentType: textOrEmpty(form.assessmentType),
      exposures: integerOrNull(form.exposures),
    })),
  );
}

export const ATTACHMENT_SECTIONS = ["asl", "braille", "cc"] as const;

/**
 * §3.5.3: asl, braille then cc attachments, de-duplicated on (file name, file type), the first
 * occurrence kept. An entry without a file name is skipped (it cannot be a row: the name is part
 * of the primary key).
 */
export function attachmentRows(doc: JsonObject, facts: RevisionFacts): AttachmentRow[] {
  const rows: AttachmentRow[] = [];
  const seen = new Set<string>();
  for (const fileType of ATTACHMENT_SECTIONS) {
    for (const attachment of objectsAt(objectAt(doc, fileType), "attachments")) {
      const fileName = asText(attachment.fileName);
      if (fileName === null) continue;
      const key = `${fileType}\u0000${fileName}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({ fileName, fileType, uploadedAt: attachmentUploadedAt(attachment, facts) });
    }
  }
  return rows;
}

/** An attachment's `uploadedDate`, or the commit date when it is missing or unparseable. */
export function attachmentUploadedAt(attachment: JsonObject, facts: RevisionFacts): Date {
  return asInstant(attachment.uploadedDate) ?? facts.commitDate;
}

/** §3.5.4: one row per `core.contentUpdateNeeds[]`; `resolution_notes` is never mapped. */
export function updateNeedRows(doc: JsonObject): UpdateNeedRow[] {
  return objectsAt(doc, "core.contentUpdateNeeds").map((need) => ({
    internalResolution: textOrEmpty(need.internalResolution),
    notes: asText(need.notes),
    resolution: asText(need.resolution),
    resolutionNotes: "",
    // §3.4.7: "" reads as null, as any unparseable date does.
    createDate: asInstant(need.createDate),
    internalResolutionDate: asInstant(need.internalResolutionDate),
    resolutionDate: asInstant(need.resolutionDate),
  }));
}

/** §3.5.5: one row per top-level `assignments[]`, in document order (NOT NULL columns: `''`). */
export function assignmentRows(doc: JsonObject, facts: RevisionFacts): AssignmentRow[] {
  return objectsAt(doc, "assignments").map((assignment) => ({
    assignedTo: textOrEmpty(assignment.assignedTo),
    assignedBy: textOrEmpty(assignment.assignedBy),
    assignedDate: asInstant(assignment.assignedDate) ?? facts.commitDate,
  }));
}
