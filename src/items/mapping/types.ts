/**
 * The shapes the item.json mapping produces (IMRT-ITEMS.md §3): what one revision of an item
 * assigns to the `item` row and the rows it replaces in the child tables. Pure data: the SQL that
 * writes them lives beside the tables (src/items/sql/), the history-derived columns (creation,
 * status dates, `updated_by`) in the history part (src/items/history*.ts).
 */

/** The 13 item type codes (§3.2), lower-case as IMRT stores them in `item.item_type`. */
export const ITEM_TYPES = [
  "mc",
  "ms",
  "ebsr",
  "eq",
  "gi",
  "htqo",
  "htqs",
  "mi",
  "sa",
  "ti",
  "wer",
  "stim",
  "tut",
] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** §3.2: which parts of item.json a type has (metadata, stimulus id, test administration). */
export const ITEM_FAMILIES = { assessment: "assessment", stim: "stim", tut: "tut" } as const;
export type ItemFamily = (typeof ITEM_FAMILIES)[keyof typeof ITEM_FAMILIES];

/** A value written to one column: text, integer, boolean, timestamp or NULL. */
export type ColumnValue = string | number | boolean | Date | null;

/** item.json read and checked enough to be mapped. */
export interface ItemDocument {
  /** The parsed document (a JSON object). */
  doc: Record<string, unknown>;
  /** The text as stored in GitLab: what `item.item_json` keeps (our decision on Q3). */
  text: string;
  /** `id`, parsed as a decimal integer. */
  id: number;
  type: ItemType;
  family: ItemFamily;
  /** `workflow.workflowStatusCode` (dflt ""); null when the `workflow` object is absent. */
  workflowStatus: string | null;
}

/**
 * Reading item.json: a document that cannot be mapped is quarantined with `reason`, worded for
 * an operator (what is wrong, where), never a parser's stack.
 */
export type DocumentReading = { ok: true; item: ItemDocument } | { ok: false; reason: string };

export interface KeywordRow {
  section: string;
  content: string;
}

export interface FormRow {
  formId: string;
  formType: string;
  assessmentType: string;
  exposures: number | null;
}

export interface AttachmentRow {
  fileName: string;
  fileType: "asl" | "braille" | "cc";
  uploadedAt: Date;
}

export interface UpdateNeedRow {
  internalResolution: string;
  notes: string | null;
  resolution: string | null;
  /** Always `''` (the replaced service never mapped it). */
  resolutionNotes: string;
  createDate: Date | null;
  internalResolutionDate: Date | null;
  resolutionDate: Date | null;
}

export interface AssignmentRow {
  assignedTo: string;
  assignedBy: string;
  assignedDate: Date;
}

/** The child rows one revision writes; each list replaces the item's rows in its table. */
export interface ChildRows {
  /** In the order of §3.6.2, de-duplicated on (section, content). */
  keywords: KeywordRow[];
  /** null: not touched (stim and tut keep whatever rows they have, §3.5.2). */
  forms: FormRow[] | null;
  attachments: AttachmentRow[];
  updateNeeds: UpdateNeedRow[];
  assignments: AssignmentRow[];
}

/**
 * What one revision assigns. `columns` holds every `item` column this revision sets, by its
 * snake_case name; a column absent from it is KEEP (§0.2: the stored value stays, an inserted
 * row gets INSERT_DEFAULTS). Never in `columns`: `key`, `id`, `classification` (insert-only, see
 * ItemDocument), `item_created_by/at`, `updated_by`, `updated_at`, `created_at`,
 * `is_being_created`, `workflow_status_set_at`, `status_set_operational_at`,
 * `content_changed_after_operational` (history and git facts) and the four validation counts.
 */
export interface MappedItem {
  columns: Record<string, ColumnValue>;
  children: ChildRows;
}

/** Facts of the revision the mapping needs besides the document. */
export interface RevisionFacts {
  /** Committed date of the revision's commit: stands in for a missing attachment/assignment date. */
  commitDate: Date;
}
