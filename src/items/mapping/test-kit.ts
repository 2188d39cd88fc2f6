/**
 * Helpers for the mapping's tests: build a document, read it (failing loudly if it is
 * quarantined) and map it with a fixed commit date. Not imported by production code.
 */

import { mapItem } from "./map-item.ts";
import { readItemDocument } from "./read-document.ts";
import type { ColumnValue, ItemDocument, ItemType, MappedItem } from "./types.ts";

/** The revision's commit date in tests: later than every date in the test documents. */
export const COMMIT_DATE = new Date("2019-05-01T12:00:00.000Z");

/** Marks an expected column as KEEP: absent from `columns`. */
export const KEPT = Symbol("KEPT");
export type Expected = ColumnValue | typeof KEPT;

export type Doc = Record<string, unknown>;

/** A document of `type` with id 1 and the given top-level keys. */
export function doc(type: ItemType, rest: Doc = {}): Doc {
  return { id: "1", type, ...rest };
}

export function read(document: Doc | string): ItemDocument {
  const reading = readItemDocument(typeof document === "string" ? document : JSON.stringify(document));
  if (!reading.ok) throw new Error(`test document quarantined: ${reading.reason}`);
  return reading.item;
}

export function mapDoc(document: Doc | string, commitDate: Date = COMMIT_DATE): MappedItem {
  return mapItem(read(document), { commitDate });
}

/** The column's value, or KEPT when the revision leaves it unassigned. */
export function columnOf(mapped: MappedItem, column: string): Expected {
  return column in mapped.columns ? (mapped.columns[column] as ColumnValue) : KEPT;
}

/** A default as IMRT-ITEMS.md §2 prints it (`–`, `current_timestamp`, `''`, …), as a SqlDefault. */
export function specDefault(text: string): unknown {
  if (text === "–") return null;
  if (text === "current_timestamp") return { kind: "now" };
  if (text === "''") return { kind: "value", value: "" };
  if (text === "0") return { kind: "value", value: 0 };
  if (text === "false") return { kind: "value", value: false };
  if (text === "'master'") return { kind: "value", value: "master" };
  const sequence = /^nextval\((\w+)\)$/.exec(text)?.[1];
  if (sequence !== undefined) return { kind: "sequence", sequence };
  throw new Error(`unknown default ${text}`);
}
