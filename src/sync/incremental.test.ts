import { describe, expect, test } from "bun:test";
import { decide, type KnownProject, type ScanPolicy } from "./incremental.ts";

const NOW = Date.UTC(2026, 5, 1, 9);
const HOUR = 3_600_000;
const known: KnownProject = {
  path: "imrt/items/item-1",
  name: "Item 1",
  defaultBranch: "main",
  hookVerifiedAt: new Date(NOW - HOUR),
  ingested: true,
};
const listed = { id: 1, path: "imrt/items/item-1", name: "Item 1", defaultBranch: "main" };
const old = new Date(NOW - 48 * HOUR).toISOString();
const incremental: ScanPolicy = {
  mode: "incremental",
  activitySince: NOW - 26 * HOUR,
  hookTrustMs: 168 * HOUR,
  now: NOW,
};

describe("incremental decisions", () => {
  test("an unchanged, quiet project with a trusted hook is left alone", () => {
    expect(decide({ ...listed, lastActivityAt: old }, known, incremental)).toEqual({
      checkHook: false,
      update: false,
    });
  });

  test("a known project no update-item has handled yet (seen by a scan, or from before the IMRT tables) is updated", () => {
    expect(decide({ ...listed, lastActivityAt: old }, { ...known, ingested: false }, incremental)).toEqual({
      checkHook: false,
      update: true,
    });
  });

  test("a full scan checks and updates everything", () => {
    expect(decide({ ...listed, lastActivityAt: old }, known, { ...incremental, mode: "full" })).toEqual({
      checkHook: true,
      update: true,
    });
  });

  test("a project the database does not know gets the full treatment", () => {
    expect(decide({ ...listed, lastActivityAt: old }, undefined, incremental)).toEqual({
      checkHook: true,
      update: true,
    });
  });

  test("activity at or after the cut-off is an update", () => {
    const at = new Date(incremental.activitySince ?? 0).toISOString();
    expect(decide({ ...listed, lastActivityAt: at }, known, incremental).update).toBe(true);
    const before = new Date((incremental.activitySince ?? 0) - 1).toISOString();
    expect(decide({ ...listed, lastActivityAt: before }, known, incremental).update).toBe(false);
  });

  test("a rename, a new name or another default branch is an update without any activity", () => {
    for (const change of [
      { path: "imrt/items/renamed" },
      { name: "Renamed" },
      { defaultBranch: "develop" },
    ]) {
      expect(decide({ ...listed, ...change, lastActivityAt: old }, known, incremental).update).toBe(true);
    }
  });

  test("no previous completed sync, or no last_activity_at: update", () => {
    expect(
      decide({ ...listed, lastActivityAt: old }, known, { ...incremental, activitySince: null }).update,
    ).toBe(true);
    expect(decide({ ...listed, lastActivityAt: null }, known, incremental).update).toBe(true);
  });

  test("the hook is checked when never verified or verified too long ago", () => {
    expect(
      decide({ ...listed, lastActivityAt: old }, { ...known, hookVerifiedAt: null }, incremental).checkHook,
    ).toBe(true);
    const stale = { ...known, hookVerifiedAt: new Date(NOW - 168 * HOUR) };
    expect(decide({ ...listed, lastActivityAt: old }, stale, incremental).checkHook).toBe(true);
  });
});
