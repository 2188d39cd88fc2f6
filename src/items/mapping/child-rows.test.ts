/**
 * The child rows of IMRT-ITEMS.md §3.5.2–§3.5.5: forms (assessment family only), attachments
 * (de-duplicated, first kept), content update needs and assignments, with the tolerant readings
 * for missing dates and null elements.
 */

import { describe, expect, test } from "bun:test";
import { COMMIT_DATE, type Doc, doc, mapDoc } from "./test-kit.ts";

const children = (document: Doc) => mapDoc(document).children;

describe("§3.5.2 item_form", () => {
  const ta = {
    administrations: [
      {
        administrationId: "A",
        forms: [{ formId: "F1", formType: "Operational", assessmentType: "Summative" }],
      },
      { administrationId: "B", forms: [null, { formId: null, exposures: 4, sequence: "1", status: "x" }] },
    ],
  };

  test("one row per form of every administration, strings dflt(''), exposures raw", () => {
    expect(children(doc("mc", { core: { testAdministration: ta } })).forms).toEqual([
      { formId: "F1", formType: "Operational", assessmentType: "Summative", exposures: null },
      { formId: "", formType: "", assessmentType: "", exposures: 4 },
    ]);
  });

  test("assessment family without administrations: no rows (the old ones are replaced)", () => {
    expect(children(doc("eq")).forms).toEqual([]);
  });

  test("stim and tut: null, their rows are not touched", () => {
    expect(children(doc("stim", { core: { testAdministration: ta } })).forms).toBeNull();
    expect(children(doc("tut", { core: { testAdministration: ta } })).forms).toBeNull();
  });
});

describe("§3.5.3 item_attachment", () => {
  test("item-with-duplicate-asl-filenames: two ASL entries with one name plus one braille give two rows", () => {
    const rows = children(
      doc("mc", {
        asl: {
          attachments: [
            { fileName: "same.mp4", uploadedDate: "2019-01-01T00:00:00Z" },
            { fileName: "same.mp4", uploadedDate: "2019-02-01T00:00:00Z" },
          ],
        },
        braille: { attachments: [{ fileName: "same.mp4", uploadedDate: "2019-03-01T00:00:00Z" }] },
      }),
    ).attachments;
    expect(rows).toEqual([
      { fileName: "same.mp4", fileType: "asl", uploadedAt: new Date("2019-01-01T00:00:00Z") },
      { fileName: "same.mp4", fileType: "braille", uploadedAt: new Date("2019-03-01T00:00:00Z") },
    ]);
  });

  test("asl, braille, cc order; a missing date is the commit date; nameless and null entries skipped", () => {
    const rows = children(
      doc("tut", {
        cc: { attachments: [{ fileName: "c.vtt" }] },
        braille: { attachments: [null, { uploadedDate: "2019-01-01T00:00:00Z" }, { fileName: "b.brf" }] },
        asl: { attachments: [{ fileName: "a.mp4", uploadedDate: "" }] },
        images: { imageResources: [{ id: "img" }] },
        core: { attachments: [{ fileName: "core.zip" }] },
      }),
    ).attachments;
    expect(rows).toEqual([
      { fileName: "a.mp4", fileType: "asl", uploadedAt: COMMIT_DATE },
      { fileName: "b.brf", fileType: "braille", uploadedAt: COMMIT_DATE },
      { fileName: "c.vtt", fileType: "cc", uploadedAt: COMMIT_DATE },
    ]);
  });
});

describe("§3.5.4 item_content_update_need", () => {
  test("one row per need; resolution_notes always ''; '' dates are NULL; notes and resolution raw", () => {
    const rows = children(
      doc("stim", {
        core: {
          contentUpdateNeeds: [
            {
              createDate: "2019-02-01T00:00:00.000Z",
              notes: "typo",
              internalResolution: null,
              internalResolutionDate: "",
              resolution: null,
              resolutionDate: "2019-02-03T00:00:00.000Z",
              resolutionNotes: "done",
            },
            null,
          ],
        },
      }),
    ).updateNeeds;
    expect(rows).toEqual([
      {
        internalResolution: "",
        notes: "typo",
        resolution: null,
        resolutionNotes: "",
        createDate: new Date("2019-02-01T00:00:00.000Z"),
        internalResolutionDate: null,
        resolutionDate: new Date("2019-02-03T00:00:00.000Z"),
      },
    ]);
  });
});

describe("§3.5.5 item_assignment", () => {
  test("document order (not the summary's); a missing date is the commit date", () => {
    const rows = children(
      doc("mc", {
        assignments: [
          { assignedTo: "zoe", assignedBy: "lead", assignedDate: "2019-03-05T17:00:00.000Z" },
          null,
          { assignedTo: "amy", assignedBy: null },
        ],
      }),
    ).assignments;
    expect(rows).toEqual([
      { assignedTo: "zoe", assignedBy: "lead", assignedDate: new Date("2019-03-05T17:00:00.000Z") },
      { assignedTo: "amy", assignedBy: "", assignedDate: COMMIT_DATE },
    ]);
  });

  test("no assignments key: no rows", () => {
    expect(children(doc("mc")).assignments).toEqual([]);
  });
});
