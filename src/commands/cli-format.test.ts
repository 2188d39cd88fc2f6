import { describe, expect, test } from "bun:test";
import type { ProgressSnapshot } from "../batch/progress.ts";
import { progressLine } from "./cli-format.ts";

const base: ProgressSnapshot = {
  handled: 1000,
  read: 1200,
  hooksChecked: 1180,
  published: 1500,
  monitorPublished: 300,
  updatePublished: 1200,
  deletePublished: 0,
  skipped: 2,
  elapsedSeconds: 40,
  readPerSecond: 30,
  handledPerSecond: 25,
  publishedPerSecond: 37.5,
};

describe("sync --wait progress line", () => {
  test("with GitLab's total: projects handled of total, percentage and ETA", () => {
    expect(progressLine(7, { ...base, total: 3000, etaSeconds: 80 })).toBe(
      "item-sync: execution 7: 1000 of 3000 projects handled (33%), read 1200, hooks checked 1180, published 1500, skipped 2, 25/s, elapsed 40 s, ETA 1 min 20 s\n",
    );
  });
  test("without a total: says it is not known, no ETA", () => {
    expect(progressLine(7, base)).toBe(
      "item-sync: execution 7: 1000 projects handled (total not known), read 1200, hooks checked 1180, published 1500, skipped 2, 25/s, elapsed 40 s\n",
    );
  });
});
