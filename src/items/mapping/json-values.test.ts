/** The tolerant readers behind every column rule. */

import { describe, expect, test } from "bun:test";
import {
  asBoolean,
  asInstant,
  asText,
  at,
  compareIgnoringCase,
  isBlank,
  readInteger,
  textOrEmpty,
} from "./json-values.ts";

describe("asInstant", () => {
  test.each([
    ["2018-05-25T20:56:44.150Z", "2018-05-25T20:56:44.150Z"],
    ["2019-03-04T10:00:00Z", "2019-03-04T10:00:00.000Z"],
    ["2019-03-04T10:00Z", "2019-03-04T10:00:00.000Z"],
    ["2019-03-04T10:00:00.123456789Z", "2019-03-04T10:00:00.123Z"],
    ["2019-03-04T12:00:00+02:00", "2019-03-04T10:00:00.000Z"],
    ["2019-03-04T05:30:00-0430", "2019-03-04T10:00:00.000Z"],
    ["2019-03-04T10:00:00", "2019-03-04T10:00:00.000Z"],
    ["2019-03-04", "2019-03-04T00:00:00.000Z"],
    [1551693600000, "2019-03-04T10:00:00.000Z"],
  ])("%p", (value, iso) => {
    expect(asInstant(value)?.toISOString()).toBe(iso);
  });

  test.each([
    [""],
    ["   "],
    ["yesterday"],
    ["2019-02-30T00:00:00Z"],
    ["2019-13-01"],
    ["2019-03-04T24:00Z"],
    [null],
    [undefined],
    [{}],
    [Number.NaN],
  ])("%p is NULL", (value) => {
    expect(asInstant(value)).toBeNull();
  });
});

describe("readInteger", () => {
  test.each([
    ["42", 42],
    ["-42", -42],
    ["+42", 42],
    ["007", 7],
    [42, 42],
    ["-0", 0],
  ])("%p", (value, expected) => {
    expect(readInteger(value)).toEqual({ kind: "integer", value: expected });
  });

  test.each([[""], [null], [undefined]])("%p is blank", (value) => {
    expect(readInteger(value).kind).toBe("blank");
  });

  test.each([["4 2"], ["4a"], ["0x10"], ["1e3"], ["-"], [" 1"], [1.5], [true], [[1]]])(
    "%p is not an integer",
    (value) => {
      expect(readInteger(value).kind).toBe("not-an-integer");
    },
  );

  test.each([["2147483648"], ["-2147483649"], [2 ** 40]])("%p is out of range", (value) => {
    expect(readInteger(value).kind).toBe("out-of-range");
  });
});

describe("text and booleans", () => {
  test("asText / textOrEmpty coerce scalars as Jackson does, nothing else", () => {
    expect(asText("a")).toBe("a");
    expect(asText(4)).toBe("4");
    expect(asText(false)).toBe("false");
    expect(asText({})).toBeNull();
    expect(textOrEmpty(undefined)).toBe("");
    expect(textOrEmpty(null)).toBe("");
  });

  test("asBoolean", () => {
    expect([true, "true", "TRUE", "True"].map(asBoolean)).toEqual([true, true, true, true]);
    expect([false, "false", "yes", 1, null, undefined].map(asBoolean)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  test("at walks objects only", () => {
    expect(at({ a: { b: [1] } }, "a.b")).toEqual([1]);
    expect(at({ a: [{ b: 1 }] }, "a.b")).toBeUndefined();
    expect(at(null, "a")).toBeUndefined();
  });
});

describe("Java string semantics", () => {
  test("isBlank: Character.isWhitespace, not the no-break spaces", () => {
    expect(isBlank("")).toBe(true);
    expect(isBlank(" \t\n\r\f\u000b\u001c\u2003\u2028")).toBe(true);
    expect(isBlank("\u00a0")).toBe(false);
    expect(isBlank("\u202f")).toBe(false);
    expect(isBlank(" x ")).toBe(false);
  });

  test("compareIgnoringCase: String.CASE_INSENSITIVE_ORDER", () => {
    expect(compareIgnoringCase("amy", "Zoe")).toBeLessThan(0);
    expect(compareIgnoringCase("ABC", "abc")).toBe(0);
    expect(compareIgnoringCase("ab", "abc")).toBeLessThan(0);
    expect(compareIgnoringCase("f", "é")).toBeLessThan(0);
    // Java maps 'ß' to itself in upper case (one char), so it sorts after 's' by its code.
    expect(compareIgnoringCase("straße", "STRASSE")).toBeGreaterThan(0);
  });
});
