import { describe, expect, test } from "bun:test";
import type { ProgressSnapshot } from "../batch/progress.ts";
import { progressLine } from "./cli-format.ts";

const base: ProgressSnapshot = {
  read: 1200,
  hooksChecked: 1180,
  published: 1500,
  monitorPublished: 300,
  updatePublished: 1200,
  deletePublished: 0,
  skipped: 2,
  elapsedSeconds: 40,
  readPerSecond: 30,
  publishedPerSecond: 37.5,
};

describe("sync --wait progress line", () => {
  test("with GitLab's total: read of total, percentage and ETA", () => {
    expect(progressLine(7, { ...base, total: 3000, etaSeconds: 60 })).toBe(
      "item-sync: execution 7: read 1200 of 3000 (40%), hooks checked 1180, published 1500, skipped 2, 30/s, elapsed 40 s, ETA 1 min 0 s\n",
    );
  });
  test("without a total: says it is not known, no ETA", () => {
    expect(progressLine(7, base)).toBe(
      "item-sync: execution 7: read 1200 (total not known yet), hooks checked 1180, published 1500, skipped 2, 30/s, elapsed 40 s\n",
    );
  });
});
