/**
 * readItemDocument: the quarantine reasons an operator sees (IMRT-ITEMS.md §4.6; CONTRACT.md), and
 * that absent sections are never one.
 */

import { describe, expect, test } from "bun:test";
import { classificationOf, readItemDocument } from "./read-document.ts";

const reasonFor = (text: string): string => {
  const reading = readItemDocument(text);
  if (reading.ok) throw new Error("expected a quarantine");
  return reading.reason;
};
const json = (value: unknown) => JSON.stringify(value);

describe("quarantine reasons", () => {
  test("not valid JSON", () => {
    expect(reasonFor(`{"id": "1", "type": "mc",}`)).toStartWith("item.json is not valid JSON: ");
    expect(reasonFor("")).toStartWith("item.json is not valid JSON: ");
  });

  test.each([
    ["[]", "item.json is not a JSON object (it is an array)"],
    ["null", "item.json is not a JSON object (it is null)"],
    ['"text"', "item.json is not a JSON object (it is a string)"],
    ["42", "item.json is not a JSON object (it is a number)"],
  ])("not a JSON object: %s", (text, reason) => {
    expect(reasonFor(text)).toBe(reason);
  });

  test.each([
    ["12a", 'item.json: "id" is "12a", not an integer'],
    [" 12", 'item.json: "id" is " 12", not an integer'],
    ["1 2", 'item.json: "id" is "1 2", not an integer'],
    ["", 'item.json: "id" is "", not an integer'],
    ["1.0", 'item.json: "id" is "1.0", not an integer'],
    ["+", 'item.json: "id" is "+", not an integer'],
    ["٣", 'item.json: "id" is "٣", not an integer'],
    [1.5, 'item.json: "id" is 1.5, not an integer'],
    [null, 'item.json: "id" is null, not an integer'],
    [true, 'item.json: "id" is true, not an integer'],
    ["99999999999", 'item.json: "id" is "99999999999", outside the integer range'],
  ])("id %j", (id, reason) => {
    expect(reasonFor(json({ id, type: "mc" }))).toBe(reason);
  });

  test("id missing", () => {
    expect(reasonFor(json({ type: "mc" }))).toBe('item.json: "id" is missing, not an integer');
  });

  test.each([
    ["xyz", '"type" is "xyz"'],
    ["MC", '"type" is "MC"'],
    [null, '"type" is null'],
    [undefined, '"type" is missing'],
  ])("type %j", (type, start) => {
    expect(reasonFor(json({ id: "1", type }))).toBe(
      `item.json: ${start}, not one of the 13 item types (mc, ms, ebsr, eq, gi, htqo, htqs, mi, sa, ti, wer, stim, tut)`,
    );
  });

  test.each([
    ["abc", '"abc"'],
    [" ", '" "'],
    [3.5, "3.5"],
    [{}, "{}"],
  ])("assessment core.stimulusId %j", (stimulusId, shown) => {
    expect(reasonFor(json({ id: "1", type: "ti", core: { stimulusId } }))).toBe(
      `item.json: "core.stimulusId" is ${shown}, not an integer`,
    );
  });

  test("every problem is named", () => {
    expect(reasonFor(json({ id: "x", type: "mc", core: { stimulusId: "y" } }))).toBe(
      'item.json: "id" is "x", not an integer; "core.stimulusId" is "y", not an integer',
    );
    expect(reasonFor(json({ id: "x", type: "q" }))).toStartWith(
      'item.json: "id" is "x", not an integer; "type" is "q"',
    );
  });

  test("a long value is shortened", () => {
    const reason = reasonFor(json({ id: "x".repeat(200), type: "mc" }));
    expect(reason.length).toBeLessThan(120);
    expect(reason).toContain("..., not an integer");
  });
});

describe("what is not a quarantine", () => {
  test("a minimal document: absent sections are read as absent", () => {
    const reading = readItemDocument(json({ id: "7", type: "mc" }));
    expect(reading).toEqual({
      ok: true,
      item: {
        doc: { id: "7", type: "mc" },
        text: json({ id: "7", type: "mc" }),
        id: 7,
        type: "mc",
        family: "assessment",
        workflowStatus: null,
      },
    });
  });

  test.each([
    [{ id: 300101, type: "mc", core: { stimulusId: 300200 } }, 300101],
    [{ id: "-5", type: "mc", core: { stimulusId: "" } }, -5],
    [{ id: "+5", type: "mc", core: { stimulusId: null } }, 5],
    [{ id: "2147483647", type: "stim", core: { stimulusId: "not checked for stim" } }, 2147483647],
    [{ id: "-2147483648", type: "tut", core: { stimulusId: {} } }, -2147483648],
    [{ id: 1e5, type: "mc", core: "not an object" }, 100000],
  ])("%j", (document, id) => {
    const reading = readItemDocument(json(document));
    expect(reading.ok && reading.item.id).toBe(id);
  });

  test("the text is kept as given; a leading byte-order mark is dropped", () => {
    const text = `{ "type": "tut",\n  "id": "3", "extra": [] }\n`;
    const reading = readItemDocument(`\uFEFF${text}`);
    expect(reading.ok && reading.item.text).toBe(text);
  });

  test("family, classification and workflow status", () => {
    const read = (type: string, workflow?: unknown) => {
      const reading = readItemDocument(json({ id: "1", type, workflow }));
      if (!reading.ok) throw new Error(reading.reason);
      return reading.item;
    };
    expect(read("stim").family).toBe("stim");
    expect(classificationOf(read("stim"))).toBe("stim");
    expect(read("tut").family).toBe("tut");
    expect(classificationOf(read("tut"))).toBe("item");
    expect(read("wer").family).toBe("assessment");
    expect(classificationOf(read("wer"))).toBe("item");
    expect(read("mc", { workflowStatusCode: "Draft" }).workflowStatus).toBe("Draft");
    expect(read("mc", {}).workflowStatus).toBe("");
    expect(read("mc", null).workflowStatus).toBeNull();
  });
});
