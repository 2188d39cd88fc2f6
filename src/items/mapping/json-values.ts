/**
 * Tolerant readers for values inside item.json (IMRT-ITEMS.md §0.2, §4.6): each one turns
 * whatever a path holds into the shape a column wants, and never throws. The replaced service
 * read item.json with Jackson into a typed model, so the coercions follow what Jackson accepts
 * for a field of that type (a number where a string is expected is its text; "true" where a
 * boolean is expected is true); anything else reads as absent.
 */

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at a dotted path from `root` (`"core.metadata.subject"`); undefined when any step is missing. */
export function at(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split(".")) {
    if (!isObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** The object at `path`, or null when it is absent, null or not an object: "the section is absent". */
export function objectAt(root: unknown, path: string): JsonObject | null {
  const value = at(root, path);
  return isObject(value) ? value : null;
}

/** The array at `path`; a missing or non-array container reads as empty (§3.6.2: never a failure). */
export function arrayAt(root: unknown, path: string): unknown[] {
  const value = at(root, path);
  return Array.isArray(value) ? value : [];
}

/** A JSON string as is; a number or boolean as its text (Jackson's coercion to String); else null. */
export function asText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

/** dflt(""): a missing or null string becomes `''` (commons-lang defaultString). */
export function textOrEmpty(value: unknown): string {
  return asText(value) ?? "";
}

/**
 * A boolean field: JSON true/false, or the strings Jackson accepts for a boolean ("true",
 * "True", "TRUE" and the same for false). Anything else, missing included, is false: the Java
 * model's primitive default.
 */
export function asBoolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return value.toLowerCase() === "true";
  return false;
}

/** text(bool): a boolean stored in a varchar column as `'true'` / `'false'`. */
export function booleanText(value: unknown): string {
  return asBoolean(value) ? "true" : "false";
}

const INT4_MIN = -2147483648;
const INT4_MAX = 2147483647;

export type IntegerReading =
  | { kind: "integer"; value: number }
  | { kind: "blank" }
  | { kind: "not-an-integer" }
  | { kind: "out-of-range" };

/**
 * Java's Integer.parseInt as IMRT's integer columns need it: optional sign, ASCII digits only,
 * no spaces, within the 32-bit range of Postgres `integer`. A JSON number must be a whole number
 * in that range. `null`, a missing value and `""` are "blank" (callers decide what blank means).
 */
export function readInteger(value: unknown): IntegerReading {
  if (value === undefined || value === null || value === "") return { kind: "blank" };
  let parsed: number;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return { kind: "not-an-integer" };
    parsed = value;
  } else if (typeof value === "string") {
    if (!isDecimalInteger(value)) return { kind: "not-an-integer" };
    parsed = Number(value);
  } else {
    return { kind: "not-an-integer" };
  }
  if (parsed < INT4_MIN || parsed > INT4_MAX) return { kind: "out-of-range" };
  // Number("-0") is -0; the column cannot tell, and Object.is-based comparisons should not either.
  return { kind: "integer", value: parsed === 0 ? 0 : parsed };
}

/** The integer, or null for anything that is not one (blank, text, out of range). */
export function integerOrNull(value: unknown): number | null {
  const reading = readInteger(value);
  return reading.kind === "integer" ? reading.value : null;
}

function isDecimalInteger(text: string): boolean {
  const start = text.startsWith("+") || text.startsWith("-") ? 1 : 0;
  if (text.length === start) return false;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

// ISO-8601 date, or date and time with an optional fraction and a zone (Z or ±hh:mm / ±hhmm).
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * An instant from item.json: an ISO-8601 string (`2019-03-04T10:00:00.000Z`, with or without
 * seconds or fraction, with `Z` or an offset; a date alone is midnight UTC; a time without a zone
 * is read as UTC, as Jackson's default UTC time zone does), or a JSON number of epoch
 * milliseconds. Missing, `""` and anything unparseable (including impossible calendar dates such
 * as 2019-02-30) give null: our decision on Q5 (NULL, never a failure).
 */
export function asInstant(value: unknown): Date | null {
  if (typeof value === "number") return Number.isFinite(value) ? new Date(value) : null;
  if (typeof value !== "string") return null;
  const match = ISO_INSTANT.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const millis = Number(fraction.padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(utc);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  return new Date(utc - zoneOffsetMinutes(zone) * 60_000);
}

function zoneOffsetMinutes(zone: string): number {
  if (zone === "Z" || zone === "z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
}

/**
 * Java's String.CASE_INSENSITIVE_ORDER (§3.4.8 sorts assignees with it): char by char, upper-case
 * then lower-case forms compared, then the lengths. Not localeCompare, whose order differs.
 */
export function compareIgnoringCase(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let c1 = a.charAt(i);
    let c2 = b.charAt(i);
    if (c1 === c2) continue;
    c1 = upperChar(c1);
    c2 = upperChar(c2);
    if (c1 === c2) continue;
    c1 = lowerChar(c1);
    c2 = lowerChar(c2);
    if (c1 !== c2) return c1.charCodeAt(0) - c2.charCodeAt(0);
  }
  return a.length - b.length;
}

// Java maps one char to one char; JavaScript may expand ("ß" → "SS"), and then Java keeps it.
function upperChar(c: string): string {
  const upper = c.toUpperCase();
  return upper.length === 1 ? upper : c;
}

function lowerChar(c: string): string {
  const lower = c.toLowerCase();
  return lower.length === 1 ? lower : c;
}

/**
 * commons-lang StringUtils.isBlank: empty or only characters Java's Character.isWhitespace
 * accepts — ASCII whitespace, U+001C–U+001F and the Unicode space separators except the
 * no-break ones (U+00A0, U+2007, U+202F). A no-break space alone is therefore not blank.
 */
export function isBlank(s: string): boolean {
  for (const c of s) {
    if (!isJavaWhitespace(c)) return false;
  }
  return true;
}

const UNICODE_SEPARATOR = /[\p{Zs}\p{Zl}\p{Zp}]/u;

function isJavaWhitespace(c: string): boolean {
  const code = c.charCodeAt(0);
  if ((code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x20)) return true;
  if (c === "\u00a0" || c === "\u2007" || c === "\u202f") return false;
  return code > 0x7f && UNICODE_SEPARATOR.test(c);
}
