/**
 * The projects' commit histories and the state helpers that change them: what a generated history
 * holds (IMRT-ITEMS.md §4.3 reads every commit of the branch, item.json changed or not), that it is
 * only kept once changed, pushCommit / setWorkflowStatus / editItem, and seedProject with the
 * three projects of §6.9 at their exact dates and authors.
 */
import { describe, expect, test } from "bun:test";
import type { SimCommit, SimEvent } from "./gitlab-state.ts";
import { createSimState } from "./gitlab-state.ts";
import { EXAMPLE_502_C4, EXAMPLE_MC_502_HEAD, EXAMPLE_PROJECTS, EXAMPLE_STIM_501 } from "./imrt-examples.ts";

const BANK = 2000;
const state = createSimState({ projects: BANK });
const histories = state.projects.map((p) => ({ p, h: state.historyOf(p) }));
const status = (c: SimCommit) => {
  const text = c.files.get("item.json");
  return text === undefined
    ? undefined
    : (JSON.parse(text) as { workflow: { workflowStatusCode: string } }).workflow.workflowStatusCode;
};
const parentOf = (h: SimCommit[], c: SimCommit) => h.find((x) => x.id === c.parentIds[0]);

describe("generated histories", () => {
  test("every project has 1 to 12 commits; both ends occur, and most have several", () => {
    const lengths = histories.map(({ h }) => h.length);
    expect(Math.min(...lengths)).toBe(1);
    expect(Math.max(...lengths)).toBe(12);
    expect(lengths.filter((n) => n >= 3).length).toBeGreaterThan(BANK / 2);
  });

  test("newest committed first, the head at [0]; every parent is in the history and older", () => {
    for (const { h } of histories) {
      for (let i = 1; i < h.length; i++) {
        expect(Date.parse(h[i - 1]?.committedDate ?? "")).toBeGreaterThanOrEqual(
          Date.parse(h[i]?.committedDate ?? ""),
        );
      }
      for (const c of h) {
        for (const pid of c.parentIds) {
          const parent = h.find((x) => x.id === pid);
          expect(parent).toBeDefined();
          expect(Date.parse(parent?.committedDate ?? "")).toBeLessThan(Date.parse(c.committedDate));
        }
      }
      expect(h.filter((c) => c.parentIds.length === 0)).toHaveLength(1);
    }
  });

  test("several authors; IAT's commits are committed by its service account, README edits by their author", () => {
    const authors = new Set(histories.flatMap(({ h }) => h.map((c) => c.authorName)));
    expect(authors.size).toBeGreaterThanOrEqual(8);
    expect(histories.some(({ h }) => new Set(h.map((c) => c.authorName)).size >= 3)).toBe(true);
    for (const { h } of histories) {
      for (const c of h) {
        expect(c.authorEmail).toContain("@");
        expect(c.committerEmail).toContain("@");
        expect(Date.parse(c.authoredDate)).toBeLessThanOrEqual(Date.parse(c.committedDate));
        if (c.title === "Update README.md") expect(c.committerName).toBe(c.authorName);
        if (c.files.has("item.json") && c.title.startsWith("Change workflow"))
          expect(c.committerName).toBe("IAT Service");
      }
    }
    // an edit saved hours before it was committed: the two dates differ
    expect(histories.some(({ h }) => h.some((c) => c.authoredDate !== c.committedDate))).toBe(true);
  });

  test("the workflow status changes along a history, and item.json changes without a status change too", () => {
    let moved = 0;
    let edits = 0;
    for (const { h } of histories) {
      const statuses = h.map(status).filter((s) => s !== undefined);
      if (new Set(statuses).size >= 3) moved++;
      for (const c of h) {
        const parent = parentOf(h, c);
        const mine = c.files.get("item.json");
        const theirs = parent?.files.get("item.json");
        if (
          parent &&
          mine !== undefined &&
          theirs !== undefined &&
          mine !== theirs &&
          status(c) === status(parent)
        ) {
          edits++;
        }
      }
    }
    expect(moved).toBeGreaterThan(BANK / 10);
    expect(edits).toBeGreaterThan(BANK / 10);
  });

  test("historyShape: every item takes the commits asked for (a merge adds one), with at most the workflow moves asked for", () => {
    const shaped = createSimState({
      projects: 300,
      noItemFraction: 0,
      historyShape: { commits: 10, statusMoves: 3 },
    });
    let atMost = 0;
    for (const p of shaped.projects) {
      const h = shaped.historyOf(p);
      const merges = h.filter((c) => c.parentIds.length > 1).length;
      expect(h.length - merges).toBe(10);
      // moves along the first-parent line, oldest first
      let moves = 0;
      for (const c of h) {
        const parent = parentOf(h, c);
        if (parent && c.parentIds.length === 1 && status(c) !== status(parent)) moves++;
      }
      expect(moves).toBeLessThanOrEqual(3);
      if (moves === 3) atMost++;
    }
    expect(atMost).toBeGreaterThan(300 / 2); // most heads are three or more steps from Draft
  });

  test("some commits leave item.json as it was: README edits, the removal of the create file", () => {
    const untouched = histories.flatMap(({ h }) =>
      h.filter((c) => {
        const parent = parentOf(h, c);
        return (
          parent !== undefined &&
          c.parentIds.length === 1 &&
          c.files.get("item.json") === parent.files.get("item.json")
        );
      }),
    );
    expect(untouched.some((c) => c.title === "Update README.md")).toBe(true);
    expect(untouched.some((c) => c.title.startsWith("Finish creating"))).toBe(true);
  });

  test("a create file at head marks an item still being created: only Draft items keep one", () => {
    const creating = histories.filter(({ h }) => h[0]?.files.has("create"));
    expect(creating.length).toBeGreaterThan(0);
    for (const { h } of creating) expect(status(h[0] as SimCommit)).toBe("Draft");
  });

  test("commit dates are whole seconds, as git stores them", () => {
    for (const { h } of histories) {
      for (const c of h) {
        expect(Date.parse(c.committedDate) % 1000).toBe(0);
        expect(Date.parse(c.authoredDate) % 1000).toBe(0);
      }
    }
  });

  test("histories end before the project's creation (imported): last_activity_at is never older than the head", () => {
    for (const { p, h } of histories) {
      expect(Date.parse(h[0]?.committedDate ?? "")).toBeLessThan(Date.parse(p.createdAt));
      expect(Date.parse(p.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(p.createdAt));
    }
  });

  test("some histories merge a side branch back: a commit with two parents", () => {
    const merges = histories.flatMap(({ h }) => h.filter((c) => c.parentIds.length === 2));
    expect(merges.length).toBeGreaterThan(0);
  });
});

describe("kept only once changed (100,000 projects stay cheap)", () => {
  test("reading heads stores nothing; commitsOf and pushCommit keep that project's history", () => {
    const t0 = performance.now();
    const big = createSimState({ projects: 100_000 });
    expect(performance.now() - t0).toBeLessThan(2_000);
    for (let id = 1; id <= 100_000; id += 97) big.historyOf(big.project(id)!)[0]?.files.get("item.json");
    expect(big.projects.filter((p) => p.commits !== undefined)).toHaveLength(0);
    const read = big.historyOf(big.project(5)!);
    const kept = big.commitsOf(big.project(5)!);
    expect(kept.map((c) => c.id)).toEqual(read.map((c) => c.id));
    expect(big.project(5)?.commits).toBe(kept);
    big.pushCommit(6, { files: { "README.md": "x" } });
    expect(big.projects.filter((p) => p.commits !== undefined).map((p) => p.id)).toEqual([5, 6]);
    // an array read before a push does not change under its reader
    const before = big.historyOf(big.project(7)!);
    const n = before.length;
    big.pushCommit(7);
    expect(before).toHaveLength(n);
  });
});

describe("changing histories", () => {
  test("pushCommit: author, committer, date and message as given; files replaced, added or deleted", () => {
    const s = createSimState({ projects: 10 });
    const events: SimEvent[] = [];
    s.onEvent((e) => events.push(e));
    const head = s.historyOf(s.project(3)!)[0]!;
    const c = s.pushCommit(3, {
      author: "editor1",
      committer: { name: "IAT Service", email: "iat@example.org" },
      date: "2019-05-01T10:00:00Z",
      title: "Edit",
      message: "Edit\n\nbody\n",
      files: { "notes.txt": "hello", "README.md": null },
    });
    expect(c).toMatchObject({
      authorName: "editor1",
      committerName: "IAT Service",
      committerEmail: "iat@example.org",
      committedDate: "2019-05-01T10:00:00.000Z",
      authoredDate: "2019-05-01T10:00:00.000Z",
      message: "Edit\n\nbody\n",
      parentIds: [head.id],
    });
    expect(c.authorEmail).toMatch(/^editor1@/);
    expect(c.files.get("notes.txt")).toBe("hello");
    expect(c.files.has("README.md")).toBe(false);
    expect(c.files.get("item.json")).toBe(head.files.get("item.json") as string);
    expect(s.commitsOf(s.project(3)!)[0]).toBe(c);
    expect(events).toEqual([
      { kind: "push", projectId: 3, ref: "refs/heads/main", before: head.id, after: c.id, commits: [c] },
    ]);
  });

  test("pushCommit without a date: now, in whole seconds, and never before its parent", () => {
    const s = createSimState({ projects: 3 });
    const a = s.pushCommit(1, { date: Date.now() + 60_000 });
    const b = s.pushCommit(1);
    expect(b.committedDate.endsWith(".000Z")).toBe(true);
    expect(Date.parse(b.committedDate)).toBe(Date.parse(a.committedDate) + 1000);
  });

  test("setWorkflowStatus: one commit that changes workflow.workflowStatusCode and nothing else", () => {
    const s = createSimState({ projects: 50 });
    const id = s.projects.find((p) => s.itemOf(p.id) !== null)!.id;
    const before = s.itemOf(id)!;
    const c = s.setWorkflowStatus(id, "Operational", { author: "admin", date: "2020-01-01T00:00:00Z" });
    const after = s.itemOf(id)!;
    expect(after.workflow).toEqual({ workflowStatusCode: "Operational" });
    expect({ ...after, workflow: before.workflow } as Record<string, unknown>).toEqual(before);
    expect(c).toMatchObject({
      authorName: "admin",
      committerName: "IAT Service",
      committedDate: "2020-01-01T00:00:00.000Z",
    });
    expect(c.title).toContain("to Operational");
  });

  test("editItem: a change in place or a returned document, committed by the given author", () => {
    const s = createSimState({ projects: 50 });
    const id = s.projects.find((p) => s.itemOf(p.id) !== null)!.id;
    s.editItem(
      id,
      (doc) => {
        (doc.core as { en: { updatedDate: string } }).en.updatedDate = "2021-02-03T04:05:06.000Z";
      },
      { author: "jdoe" },
    );
    expect((s.itemOf(id)!.core as { en: { updatedDate: string } }).en.updatedDate).toBe(
      "2021-02-03T04:05:06.000Z",
    );
    const c = s.editItem(id, () => ({ id: "1", type: "tut" }), { author: { name: "X", email: "x@y" } });
    expect(s.itemOf(id)).toEqual({ id: "1", type: "tut" });
    expect(c.authorName).toBe("X");
  });
});

describe("seedProject: explicit ids, documents and histories (§6.9)", () => {
  test("projects 501, 502 and 503 with their commit dates and authors, documents as given", () => {
    const s = createSimState({ projects: 10 });
    for (const spec of EXAMPLE_PROJECTS) s.seedProject(spec);
    const h501 = s.historyOf(s.project(501)!);
    expect(h501.map((c) => [c.committedDate, c.authorName])).toEqual([["2019-01-02T08:00:00.000Z", "jdoe"]]);
    expect(JSON.parse(h501[0]?.files.get("item.json") ?? "")).toEqual(EXAMPLE_STIM_501);
    const h502 = s.historyOf(s.project(502)!);
    expect(h502.map((c) => [c.committedDate, c.authorName])).toEqual([
      ["2019-03-06T02:00:00.000Z", "editor2"],
      ["2019-03-05T12:00:00.000Z", "editor1"],
      ["2019-01-10T09:00:00.000Z", "jdoe"],
    ]);
    expect(
      h502.every(
        (c) => JSON.parse(c.files.get("item.json") ?? "").workflow.workflowStatusCode === "FieldTest",
      ),
    ).toBe(true);
    const h503 = s.historyOf(s.project(503)!);
    expect(h503[0]?.files.get("create")).toBe("");
    expect(h503[0]?.authorName).toBe("kim");
    expect(s.project(501)).toMatchObject({
      createdAt: "2019-01-02T08:00:00.000Z",
      lastActivityAt: "2019-01-02T08:00:00.000Z",
    });
    expect(s.fullPathOf(s.project(502)!)).toBe("imrt/items/item-502");

    const c4 = s.pushCommit(502, EXAMPLE_502_C4);
    expect(c4).toMatchObject({
      committedDate: "2019-04-01T08:00:00.000Z",
      authorName: "admin",
      parentIds: [h502[0]?.id],
    });
    expect(s.itemOf(502)).toEqual(EXAMPLE_MC_502_HEAD);
    // ids go on above the seeded ones, as GitLab's do
    expect(s.addProject().id).toBe(504);
  });

  test("seeding an existing id replaces its history and keeps its hooks; merges take parents", () => {
    const s = createSimState({ projects: 10, monitoredFraction: 1 });
    const hooks = s.hooksOf(s.project(4)!);
    s.seedProject({
      id: 4,
      commits: [
        { date: "2020-01-01T00:00:00Z", author: "a", files: { "item.json": { id: "1" } } },
        { date: "2020-01-02T00:00:00Z", author: "b", files: { "README.md": "side" } },
        { date: "2020-01-03T00:00:00Z", author: "c", parents: [0], files: { "item.json": { id: "2" } } },
        { date: "2020-01-04T00:00:00Z", author: "d", parents: [2, 1], files: { "README.md": "side" } },
      ],
    });
    const h = s.historyOf(s.project(4)!);
    expect(h.map((c) => c.authorName)).toEqual(["d", "c", "b", "a"]);
    expect(h[0]?.parentIds).toEqual([h[1]!.id, h[2]!.id]);
    expect(JSON.parse(h[0]?.files.get("item.json") ?? "")).toEqual({ id: "2" });
    expect(s.hooksOf(s.project(4)!)).toBe(hooks);
    expect(() => s.seedProject({ id: 9, commits: [{ parents: [1] }] })).toThrow();
  });
});
