/**
 * Edge cases of the multi-value rules (IMRT-ITEMS.md §3.4.5–§3.4.8) and of our tolerant readings
 * where the replaced service failed (a need without createDate, an attachment or assignment
 * without a date, a field-test administration without fieldTestData).
 */

import { describe, expect, test } from "bun:test";
import { COMMIT_DATE, columnOf, type Doc, doc, KEPT, mapDoc } from "./test-kit.ts";

const columns = (document: Doc, commitDate = COMMIT_DATE) => mapDoc(document, commitDate).columns;

describe("§3.4.5 uploaded-prior flags", () => {
  const english = { core: { en: { updatedDate: "2019-03-04T00:00:00Z" } } };
  const asl = (attachments: unknown[]) => doc("mc", { ...english, asl: { attachments } });

  test("the latest upload decides, wherever it is in the array", () => {
    const latestFirst = asl([
      { fileName: "b", uploadedDate: "2019-03-05T00:00:00Z" },
      { fileName: "a", uploadedDate: "2019-03-01T00:00:00Z" },
    ]);
    expect(columns(latestFirst).asl_uploaded_prior_to_last_content_update).toBe(false);
  });

  test("strict: an upload at the very instant of the content change is not prior", () => {
    const same = asl([{ fileName: "a", uploadedDate: "2019-03-04T00:00:00Z" }]);
    expect(columns(same).asl_uploaded_prior_to_last_content_update).toBe(false);
  });

  test("the English date counts for every section, also after a Spanish-only change", () => {
    const document = doc("mc", {
      ...english,
      translations: { esp: { updatedDate: "2019-04-01T00:00:00Z" } },
      cc: { attachments: [{ fileName: "c", uploadedDate: "2019-03-10T00:00:00Z" }] },
    });
    expect(columns(document).closed_captioning_uploaded_prior_to_last_content_update).toBe(false);
  });

  test("an attachment without a date counts as uploaded at the commit date", () => {
    const undated = asl([{ fileName: "a" }]);
    expect(columns(undated, new Date("2019-03-01T00:00:00Z")).asl_uploaded_prior_to_last_content_update).toBe(
      true,
    );
    expect(columns(undated, COMMIT_DATE).asl_uploaded_prior_to_last_content_update).toBe(false);
  });

  test("null elements are no attachments: KEEP", () => {
    expect(columnOf(mapDoc(asl([null])), "asl_uploaded_prior_to_last_content_update")).toBe(KEPT);
  });
});

describe("§3.4.6 quintile", () => {
  const ta = (testAdministration: unknown) => doc("gi", { core: { testAdministration } });
  const quintile = (testAdministration: unknown) =>
    columnOf(mapDoc(ta(testAdministration)), "item_difficulty_quintile");
  const admin = (administrationId: unknown, value: unknown) => ({
    administrationId,
    fieldTestData: { itemDifficultyQuintile: value },
  });

  test("several matches: the last in array order wins", () => {
    expect(
      quintile({ fieldTestAdministrationId: "FT", administrations: [admin("FT", "1"), admin("FT", "5")] }),
    ).toBe(5);
  });

  test("two missing ids are equal (Java null equals null)", () => {
    expect(quintile({ administrations: [admin(undefined, "4")] })).toBe(4);
    expect(quintile({ administrations: [admin("FT", "4")] })).toBe(KEPT);
  });

  test("blank is KEEP; text that is not an integer is NULL; a sign is allowed; a JSON number reads", () => {
    const one = (value: unknown) =>
      quintile({ fieldTestAdministrationId: "FT", administrations: [admin("FT", value)] });
    expect(one("")).toBe(KEPT);
    expect(one("  ")).toBe(KEPT);
    expect(one(null)).toBe(KEPT);
    expect(one("x")).toBeNull();
    expect(one("3.5")).toBeNull();
    expect(one("-1")).toBe(-1);
    expect(one(3)).toBe(3);
  });

  test("a matching administration without fieldTestData reads as blank: KEEP, not a failure", () => {
    expect(quintile({ fieldTestAdministrationId: "FT", administrations: [{ administrationId: "FT" }] })).toBe(
      KEPT,
    );
  });

  test("exposures: text digits read, anything else (including beyond the integer range) counts 0", () => {
    const forms = [
      { exposures: 5 },
      { exposures: "7" },
      { exposures: "x" },
      { exposures: 1e10 },
      { exposures: null },
    ];
    const document = ta({ administrations: [{ forms }] });
    expect(columns(document)).toMatchObject({ form_count: 5, exposures_count: 12 });
    expect(mapDoc(document).children.forms?.map((f) => f.exposures)).toEqual([5, 7, null, null, null]);
  });

  test("null administrations and forms are skipped", () => {
    const document = ta({ administrations: [null, { forms: [null, { exposures: 2 }] }] });
    expect(columns(document)).toMatchObject({ form_count: 1, exposures_count: 2 });
  });
});

describe("§3.4.7 content update need summary", () => {
  const needs = (contentUpdateNeeds: unknown[]) => columns(doc("mc", { core: { contentUpdateNeeds } }));

  test("the current need has the latest createDate, whatever the array order", () => {
    const summary = needs([
      { createDate: "2019-03-01T00:00:00Z", internalResolution: "Late", resolution: "NoAction" },
      { createDate: "2019-01-01T00:00:00Z", internalResolution: "Early", resolution: "NoAction" },
    ]);
    expect(summary.current_update_need_internal_resolution).toBe("Late");
    expect(summary.unresolved_update_need).toBe(false);
  });

  test("equal createDates: the one later in the array is current", () => {
    const date = "2019-03-01T00:00:00Z";
    const summary = needs([
      { createDate: date, internalResolution: "First" },
      { createDate: date, internalResolution: "Second" },
    ]);
    expect(summary.current_update_need_internal_resolution).toBe("Second");
  });

  test("our reading of a null createDate: sorted first (oldest), so a dated need is current", () => {
    const summary = needs([
      { createDate: "2019-01-01T00:00:00Z", internalResolution: "Dated" },
      { internalResolution: "Undated" },
    ]);
    expect(summary.current_update_need_internal_resolution).toBe("Dated");
    expect(summary.current_update_need_create_date).toEqual(new Date("2019-01-01T00:00:00Z"));
  });

  test("when no need has a createDate, the last in the array is current, with a NULL date", () => {
    const summary = needs([{ internalResolution: "A" }, { createDate: "", internalResolution: "B" }]);
    expect(summary.current_update_need_internal_resolution).toBe("B");
    expect(summary.current_update_need_create_date).toBeNull();
  });

  test("unresolved when any resolution is null or empty; whitespace counts as a resolution", () => {
    const dated = (resolution: unknown) => ({ createDate: "2019-01-01T00:00:00Z", resolution });
    expect(needs([dated("NoAction"), dated(null)]).unresolved_update_need).toBe(true);
    expect(needs([dated(""), dated("NoAction")]).unresolved_update_need).toBe(true);
    expect(needs([{ createDate: "2019-01-01T00:00:00Z" }]).unresolved_update_need).toBe(true);
    expect(needs([dated(" ")]).unresolved_update_need).toBe(false);
  });

  test("the current need's null resolution and internal resolution are '' (Q14, dflt)", () => {
    const summary = needs([
      { createDate: "2019-01-01T00:00:00Z", resolution: null, internalResolution: null },
    ]);
    expect(summary.current_update_need_resolution).toBe("");
    expect(summary.current_update_need_internal_resolution).toBe("");
  });

  test("null elements are skipped", () => {
    expect(needs([null]).unresolved_update_need).toBe(false);
  });
});

describe("§3.4.8 assignment summary", () => {
  const assigned = (assignments: unknown[], commitDate = COMMIT_DATE) =>
    columns(doc("mc", { assignments }), commitDate);
  const to = (assignedTo: unknown, assignedDate: unknown = "2019-03-01T00:00:00Z") => ({
    assignedTo,
    assignedBy: `by-${String(assignedTo)}`,
    assignedDate,
  });

  test("AssigneeMapperTest: sorted by assignee, assigned_by in the same order", () => {
    const summary = assigned([to("test@test.com"), to("example@test.com")]);
    expect(summary.assigned_to).toBe("example@test.com, test@test.com");
    expect(summary.assigned_by).toBe("by-example@test.com, by-test@test.com");
  });

  test("case-insensitive, ties keep their input order", () => {
    const summary = assigned([
      to("bob", "2019-01-02T00:00:00Z"),
      to("Amy"),
      to("BOB", "2019-01-03T00:00:00Z"),
    ]);
    expect(summary.assigned_to).toBe("Amy, bob, BOB");
    expect(summary.assigned_dates).toBe("03/01/19, 01/02/19, 01/03/19");
  });

  test("Java's order (char codes of the lower-case forms), not the locale's", () => {
    expect(assigned([to("élise"), to("Fred"), to("_x"), to("anna")]).assigned_to).toBe(
      "_x, anna, Fred, élise",
    );
  });

  test("dates in UTC: 01:30Z on the 6th is 03/06/19 whatever the local zone", () => {
    const zone = process.env.TZ;
    process.env.TZ = "America/New_York"; // Bun applies it at once: local time is the 5th here
    try {
      const summary = assigned([to("amy", "2019-03-06T01:30:00.000Z")]);
      expect(summary.assigned_dates).toBe("03/06/19");
      expect(summary.assigned_date_sort).toBe("1551835800000");
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  test("epoch milliseconds joined with ',' and no space", () => {
    const summary = assigned([to("a", "1970-01-01T00:00:01Z"), to("b", "1970-01-01T00:00:02.5Z")]);
    expect(summary.assigned_date_sort).toBe("1000,2500");
  });

  test("a missing date is the commit date; a missing assignee is ''", () => {
    const summary = assigned([{ assignedBy: "lead" }], new Date("2020-12-31T23:00:00Z"));
    expect(summary).toMatchObject({ assigned_to: "", assigned_by: "lead", assigned_dates: "12/31/20" });
  });
});
