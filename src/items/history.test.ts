import { describe, expect, test } from "bun:test";
import {
  countingHistory,
  type GitCommit,
  type HistoryGitlab,
  newCommits,
  statusRunStart,
  workflowStatusOf,
} from "./history.ts";

/** A branch as a list of commits, oldest first; `status` undefined = the commit leaves item.json alone. */
function branch(spec: Array<{ status?: string; date: string }>) {
  const commits: Array<GitCommit & { text: string; changedBy: string }> = [];
  let text = "";
  let changedBy = "";
  spec.forEach((s, i) => {
    const id = `c${i + 1}`;
    if (s.status !== undefined) {
      text = JSON.stringify({ id: "1", type: "mc", workflow: { workflowStatusCode: s.status }, rev: i });
      changedBy = id;
    }
    commits.push({ id, committedDate: new Date(s.date), authorName: `author${i % 3}`, text, changedBy });
  });
  const newestFirst = [...commits].reverse();
  const gitlab: HistoryGitlab = {
    async commitsPage(_p, _ref, since, page) {
      const listed = newestFirst.filter(
        (c) =>
          since === null ||
          Math.floor(c.committedDate.getTime() / 1000) >= Math.floor(since.getTime() / 1000),
      );
      const size = 2; // small pages, so paging is exercised
      const slice = listed.slice((page - 1) * size, page * size);
      return { commits: slice, nextPage: page * size < listed.length ? page + 1 : null };
    },
    async itemFileAt(_p, ref) {
      const c = commits.find((x) => x.id === ref);
      return c && c.text !== "" ? { text: c.text, lastCommitId: c.changedBy } : null;
    },
  };
  const byId = (id: string) => {
    const c = commits.find((x) => x.id === id);
    if (!c) throw new Error(id);
    return c;
  };
  return { commits, gitlab, byId };
}

const day = (n: number) => `2019-01-${String(n).padStart(2, "0")}T10:00:00Z`;

async function walk(
  b: ReturnType<typeof branch>,
  stored:
    | (Parameters<typeof newCommits>[3] & {
        workflowStatus?: string | null;
        workflowStatusSetAt?: Date | null;
      })
    | null,
) {
  const counted = countingHistory(b.gitlab);
  const listed = await newCommits(counted, 1, "main", stored);
  const head = listed.head;
  if (!head) throw new Error("empty branch");
  const headFile = await b.gitlab.itemFileAt(1, head.id); // the caller's own read, not the walk's
  if (!headFile) throw new Error("no item.json");
  const listingRequests = counted.requests();
  const start = await statusRunStart(counted, 1, {
    commits: listed.commits,
    headFile,
    current: workflowStatusOf(headFile.text) ?? null,
    statusOf: workflowStatusOf,
    stored: stored && {
      workflowStatus: stored.workflowStatus ?? null,
      workflowStatusSetAt: stored.workflowStatusSetAt ?? null,
    },
    continuesStored: stored !== null && !listed.fromRoot,
  });
  return { listed, start, listingRequests, walkRequests: counted.requests() - listingRequests };
}

describe("newCommits", () => {
  test("first ingest: the whole branch, newest first, every page read", async () => {
    const b = branch([
      { status: "Draft", date: day(1) },
      { date: day(2) },
      { status: "Draft", date: day(3) },
    ]);
    const { listed, listingRequests } = await walk(b, null);
    expect(listed.fromRoot).toBe(true);
    expect(listed.commits.map((c) => c.id)).toEqual(["c3", "c2", "c1"]);
    expect(listed.head?.id).toBe("c3");
    expect(listingRequests).toBe(2); // pages of 2
  });

  test("the stored commit and what is listed after it (same second) are dropped", async () => {
    const b = branch([
      { status: "Draft", date: "2019-01-01T10:00:00Z" },
      { status: "Draft", date: "2019-01-01T10:00:00.400Z" },
      { status: "Draft", date: "2019-01-02T10:00:00Z" },
    ]);
    const stored = { commitHash: "c2", commitDate: new Date("2019-01-01T10:00:00.400Z") };
    const listed = await newCommits(b.gitlab, 1, "main", stored);
    expect(listed.fromRoot).toBe(false);
    expect(listed.commits.map((c) => c.id)).toEqual(["c3"]);
  });

  test("nothing new: no commits, the head is the stored one", async () => {
    const b = branch([{ status: "Draft", date: day(1) }]);
    const listed = await newCommits(b.gitlab, 1, "main", { commitHash: "c1", commitDate: new Date(day(1)) });
    expect(listed.commits).toEqual([]);
    expect(listed.head?.id).toBe("c1");
  });

  test("a stored commit no longer on the branch (rewritten history): the whole branch again", async () => {
    const b = branch([
      { status: "Draft", date: day(1) },
      { status: "Draft", date: day(2) },
    ]);
    const listed = await newCommits(b.gitlab, 1, "main", {
      commitHash: "gone",
      commitDate: new Date(day(1)),
    });
    expect(listed.fromRoot).toBe(true);
    expect(listed.commits.map((c) => c.id)).toEqual(["c2", "c1"]);
  });
});

describe("statusRunStart", () => {
  test("first ingest: the first commit of the latest run of the current status, read only that far back", async () => {
    const b = branch([
      { status: "Draft", date: day(1) },
      { status: "Draft", date: day(2) },
      { status: "InitialReview", date: day(3) },
      { date: day(4) },
      { status: "Draft", date: day(5) },
      { status: "FieldTest", date: day(6) },
      { date: day(7) },
      { status: "FieldTest", date: day(8) },
      { date: day(9) },
      { status: "FieldTest", date: day(10) },
    ]);
    const { start, walkRequests } = await walk(b, null);
    expect(start).toEqual({ kind: "commit", commit: expect.objectContaining({ id: "c6" }) });
    // reads at c9 (→ c8 changed it), at c7 (→ c6), at c5 (Draft): three, not ten
    expect(walkRequests).toBe(3);
  });

  test("a status held since the first commit dates from the first commit", async () => {
    const b = branch([
      { status: "Draft", date: day(1) },
      { date: day(2) },
      { status: "Draft", date: day(3) },
    ]);
    const { start } = await walk(b, null);
    expect(start).toEqual({ kind: "commit", commit: expect.objectContaining({ id: "c1" }) });
  });

  test("one new commit that changes the status: that commit, without reading anything", async () => {
    const b = branch([
      { status: "FieldTest", date: day(1) },
      { status: "Operational", date: day(2) },
    ]);
    const stored = {
      commitHash: "c1",
      commitDate: new Date(day(1)),
      workflowStatus: "FieldTest",
      workflowStatusSetAt: new Date(day(1)),
    };
    const { start, walkRequests, listingRequests } = await walk(b, stored);
    expect(start).toEqual({ kind: "commit", commit: expect.objectContaining({ id: "c2" }) });
    expect(walkRequests).toBe(0);
    expect(listingRequests).toBe(1);
  });

  test("one new commit that leaves item.json alone keeps the stored date, without reading anything", async () => {
    const b = branch([{ status: "Draft", date: day(1) }, { date: day(2) }]);
    const stored = {
      commitHash: "c1",
      commitDate: new Date(day(1)),
      workflowStatus: "Draft",
      workflowStatusSetAt: new Date("2018-06-01T00:00:00Z"),
    };
    const { start, walkRequests } = await walk(b, stored);
    expect(start).toEqual({ kind: "stored" });
    expect(walkRequests).toBe(0);
  });

  for (const [whose, continuesStored] of [
    ["item-sync's own", true],
    ["the replaced service's", false],
  ] as const) {
    test(`a head item.json without workflow leaves the stored status and ${whose} date (§3.3 #5), reading nothing`, async () => {
      const head: GitCommit = { id: "c2", committedDate: new Date(day(2)), authorName: "a" };
      let reads = 0;
      const gitlab: HistoryGitlab = {
        async commitsPage() {
          throw new Error("the walk lists nothing");
        },
        async itemFileAt() {
          reads++;
          return {
            text: JSON.stringify({ id: "1", type: "mc", workflow: { workflowStatusCode: "Operational" } }),
            lastCommitId: "c1",
          };
        },
      };
      const first: GitCommit = { id: "c1", committedDate: new Date(day(1)), authorName: "a" };
      const start = await statusRunStart(gitlab, 1, {
        commits: continuesStored ? [head] : [head, first], // a row not ours walks the whole branch
        headFile: { text: JSON.stringify({ id: "1", type: "mc" }), lastCommitId: "c2" },
        current: null,
        statusOf: workflowStatusOf,
        stored: { workflowStatus: "Operational", workflowStatusSetAt: new Date("2018-06-01T00:00:00Z") },
        continuesStored,
      });
      expect(start).toEqual({ kind: "stored" });
      expect(reads).toBe(0);
    });
  }

  test("new commits in the stored status keep the stored date (the run reaches back past them)", async () => {
    const b = branch([
      { status: "Draft", date: day(1) },
      { status: "Draft", date: day(2) },
      { status: "Draft", date: day(3) },
    ]);
    const stored = {
      commitHash: "c1",
      commitDate: new Date(day(1)),
      workflowStatus: "Draft",
      workflowStatusSetAt: new Date(day(1)),
    };
    const { start, walkRequests } = await walk(b, stored);
    expect(start).toEqual({ kind: "stored" });
    expect(walkRequests).toBe(1); // at c2: still Draft, and c2 is the oldest new commit
  });

  test("a status changed, then changed back, within new commits: the latest run only", async () => {
    const b = branch([
      { status: "Draft", date: day(1) },
      { status: "Rejected", date: day(2) },
      { status: "Draft", date: day(3) },
      { date: day(4) },
    ]);
    const stored = {
      commitHash: "c1",
      commitDate: new Date(day(1)),
      workflowStatus: "Draft",
      workflowStatusSetAt: new Date(day(1)),
    };
    const { start } = await walk(b, stored);
    expect(start).toEqual({ kind: "commit", commit: expect.objectContaining({ id: "c3" }) });
  });

  test("an unreadable older item.json counts as another status", async () => {
    const b = branch([
      { status: "Draft", date: day(1) },
      { status: "Draft", date: day(2) },
    ]);
    const first = b.byId("c1");
    first.text = "{ not json";
    const { start } = await walk(b, null);
    expect(start).toEqual({ kind: "commit", commit: expect.objectContaining({ id: "c2" }) });
  });
});

test("workflowStatusOf: the code (a number as its text, as the mapping reads it), '' when missing, null without workflow, undefined when unreadable", () => {
  expect(workflowStatusOf('{"workflow":{"workflowStatusCode":"Draft"}}')).toBe("Draft");
  expect(workflowStatusOf('{"workflow":{"workflowStatusCode":7}}')).toBe("7");
  expect(workflowStatusOf('{"workflow":[]}')).toBeNull();
  expect(workflowStatusOf('{"workflow":{}}')).toBe("");
  expect(workflowStatusOf('{"id":"1"}')).toBeNull();
  expect(workflowStatusOf("[1]")).toBeUndefined();
  expect(workflowStatusOf("nope")).toBeUndefined();
});
