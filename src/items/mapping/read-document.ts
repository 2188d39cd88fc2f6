/**
 * Reading item.json (IMRT-ITEMS.md §4.6, §6; CONTRACT.md "The IMRT item tables"): the few checks
 * that decide whether a document can be mapped at all. A document that fails one is quarantined
 * with a reason an operator can act on (what is wrong and where); everything else is read
 * leniently later — an absent section is never a failure here.
 *
 * Quarantine reasons (each starts with "item.json"):
 * - not valid JSON, or not a JSON object;
 * - `id` missing or not a decimal integer in the 32-bit range of `item.id`;
 * - `type` missing or not one of the 13 codes;
 * - for the assessment family, `core.stimulusId` non-empty and not such an integer.
 * All problems of one document are named, joined with "; ".
 */

import { asText, at, isObject, readInteger } from "./json-values.ts";
import {
  type DocumentReading,
  ITEM_TYPES,
  type ItemDocument,
  type ItemFamily,
  type ItemType,
} from "./types.ts";

/** §3.2: the family a type belongs to; stim and tut are their own families. */
export function familyOf(type: ItemType): ItemFamily {
  if (type === "stim") return "stim";
  if (type === "tut") return "tut";
  return "assessment";
}

export function isItemType(value: unknown): value is ItemType {
  return typeof value === "string" && (ITEM_TYPES as readonly string[]).includes(value);
}

export function readItemDocument(text: string): DocumentReading {
  // A leading byte-order mark is encoding, not content: JSON.parse and a Postgres json column
  // both refuse it, and GitLab serves files with whatever bytes were committed.
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `item.json is not valid JSON: ${detail}` };
  }
  if (!isObject(doc)) {
    return { ok: false, reason: `item.json is not a JSON object (it is ${describeKind(doc)})` };
  }

  const problems: string[] = [];
  const id = readInteger(doc.id);
  if (id.kind !== "integer") problems.push(`"id" ${describeValue(doc.id)}, ${integerProblem(id.kind)}`);
  const type = doc.type;
  if (!isItemType(type)) {
    problems.push(`"type" ${describeValue(type)}, not one of the 13 item types (${ITEM_TYPES.join(", ")})`);
  }
  if (isItemType(type) && familyOf(type) === "assessment") {
    const stimulusId = at(doc, "core.stimulusId");
    const reading = readInteger(stimulusId);
    if (reading.kind === "not-an-integer" || reading.kind === "out-of-range") {
      problems.push(`"core.stimulusId" ${describeValue(stimulusId)}, ${integerProblem(reading.kind)}`);
    }
  }
  if (id.kind !== "integer" || !isItemType(type) || problems.length > 0) {
    return { ok: false, reason: `item.json: ${problems.join("; ")}` };
  }

  const workflow = doc.workflow;
  return {
    ok: true,
    item: {
      doc,
      text: body,
      id: id.value,
      type,
      family: familyOf(type),
      workflowStatus: isObject(workflow) ? (asText(workflow.workflowStatusCode) ?? "") : null,
    },
  };
}

function integerProblem(kind: "blank" | "not-an-integer" | "out-of-range"): string {
  return kind === "out-of-range" ? "outside the integer range" : "not an integer";
}

/** `is "12a"`, `is 1.5`, `is null`, `is missing`: the value as JSON, shortened for a log line. */
function describeValue(value: unknown): string {
  if (value === undefined) return "is missing";
  const json = JSON.stringify(value);
  return `is ${json.length > 60 ? `${json.slice(0, 57)}...` : json}`;
}

function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** §2.1 `classification` (V3): `'stim'` for a stimulus, `'item'` for every other type. */
export function classificationOf(item: ItemDocument): "item" | "stim" {
  return item.family === "stim" ? "stim" : "item";
}
