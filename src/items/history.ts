/**
 * The git history an update-item needs, read with as few GitLab requests as the answer allows:
 * - the commits of the default branch since the one the tables hold (GitLab's commits API, paged;
 *   every commit, since each gets its `item_log` row), and the head among them;
 * - when the current workflow status began: the committed date of the first commit of the latest
 *   unbroken run of commits whose item.json has the current status (our decision on
 *   IMRT-ITEMS.md §4.5: the true date, where the replaced service dated it to its batch's first
 *   commit). item.json is read at older commits only as far back as that run reaches, hopping from
 *   change to change with the files API's `last_commit_id`; a run that reaches back past the
 *   stored commit keeps the stored date without reading further.
 * An update of one new commit therefore costs the commits page and nothing else here.
 */

import type { GitCommit, ItemFile, RepositoryReads } from "../gitlab/repository-reads.ts";
import { asText, isObject } from "./mapping/json-values.ts";

export type { GitCommit, ItemFile };

/** The narrow view of GitLab the history needs: commit pages and item.json at a ref. */
export type HistoryGitlab = Pick<RepositoryReads, "commitsPage" | "itemFileAt">;

/** The commit the tables hold for the project, and the status facts stored with it. */
export interface StoredRevision {
  commitHash: string;
  commitDate: Date;
  /** `item.workflow_status`: the status in item.json at that commit. */
  workflowStatus: string | null;
  workflowStatusSetAt: Date | null;
}

export interface NewCommits {
  /** Newest first; the head is the first. Empty: nothing new (or an empty branch, when `head` is null). */
  commits: GitCommit[];
  head: GitCommit | null;
  /**
   * true when the list is the branch's whole history (first ingest, or the stored commit is no
   * longer on the branch — a rewritten history — so everything is read again).
   */
  fromRoot: boolean;
}

/**
 * The commits after the stored one. GitLab's `since` is inclusive and has second precision, so the
 * stored commit is listed too (Q12); it and whatever is listed after it (same second, already
 * ingested) are dropped. A stored commit missing from the list means the branch was rewritten:
 * the whole history is read again.
 */
export async function newCommits(
  gitlab: HistoryGitlab,
  projectId: number,
  branch: string,
  stored: Pick<StoredRevision, "commitHash" | "commitDate"> | null,
): Promise<NewCommits> {
  if (stored) {
    const listed = await commitsSince(gitlab, projectId, branch, stored.commitDate);
    const at = listed.findIndex((c) => c.id === stored.commitHash);
    if (at >= 0) return { commits: listed.slice(0, at), head: listed[0] ?? null, fromRoot: false };
  }
  const all = await commitsSince(gitlab, projectId, branch, null);
  return { commits: all, head: all[0] ?? null, fromRoot: true };
}

async function commitsSince(
  gitlab: HistoryGitlab,
  projectId: number,
  branch: string,
  since: Date | null,
): Promise<GitCommit[]> {
  const all: GitCommit[] = [];
  for (let page: number | null = 1; page !== null; ) {
    const res = await gitlab.commitsPage(projectId, branch, since, page);
    all.push(...res.commits);
    page = res.nextPage;
  }
  return all;
}

/** Where the current status's run begins: a commit's date, or the stored date kept. */
export type StatusRunStart = { kind: "commit"; commit: GitCommit } | { kind: "stored" };

/**
 * Walks back from the head's item.json (already read) through the commits that changed it until
 * one had another status. `statusOf` reads a document's status (undefined when unreadable, which
 * counts as another status). `stored` is the row's status before this revision (null for a new
 * row); `continuesStored` says whether its date is a true one that the commits before `commits`
 * lead up to (false when `commits` is the whole history, or the replaced service wrote the row).
 */
export async function statusRunStart(
  gitlab: HistoryGitlab,
  projectId: number,
  input: {
    commits: GitCommit[];
    headFile: ItemFile;
    current: string | null;
    statusOf: (text: string) => string | null | undefined;
    stored: Pick<StoredRevision, "workflowStatus" | "workflowStatusSetAt"> | null;
    continuesStored: boolean;
  },
): Promise<StatusRunStart> {
  const { commits, current, stored } = input;
  const oldest = commits.at(-1);
  if (!oldest) return { kind: "stored" }; // nothing new: nothing can have changed
  // An item.json without `workflow` leaves the status as stored (§3.3 #5), and so its date, true
  // or not: a walk would date the commit that dropped `workflow`, which set no status.
  if (current === null && stored !== null && stored.workflowStatusSetAt !== null) return { kind: "stored" };
  // Before the oldest new commit lies the stored commit, whose status the row holds.
  const continuesFromStored = () =>
    input.continuesStored &&
    stored !== null &&
    stored.workflowStatusSetAt !== null &&
    stored.workflowStatus === current;
  let changedAt = input.headFile.lastCommitId;
  for (;;) {
    const i = commits.findIndex((c) => c.id === changedAt);
    const changed = commits[i];
    if (i < 0 || !changed) {
      // item.json last changed at or before the stored commit: the status is the stored one
      return continuesFromStored() ? { kind: "stored" } : { kind: "commit", commit: oldest };
    }
    const before = commits[i + 1];
    if (!before) {
      // `changed` is the oldest new commit: before it is the stored commit, or nothing at all
      return continuesFromStored() ? { kind: "stored" } : { kind: "commit", commit: changed };
    }
    const file = await gitlab.itemFileAt(projectId, before.id);
    if (file === null || input.statusOf(file.text) !== current) return { kind: "commit", commit: changed };
    changedAt = file.lastCommitId;
  }
}

/** `workflow.workflowStatusCode` of an item.json text (dflt ""); null without `workflow`; undefined when unreadable. */
export function workflowStatusOf(text: string): string | null | undefined {
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
    // read as the mapping reads the head's (read-document.ts): a number is its text
    const workflow = (doc as { workflow?: unknown }).workflow;
    if (!isObject(workflow)) return null;
    return asText(workflow.workflowStatusCode) ?? "";
  } catch {
    return undefined;
  }
}

/** Wraps a HistoryGitlab to count the requests made through it (the walk's budget, reported). */
export function countingHistory(gitlab: HistoryGitlab): HistoryGitlab & { requests(): number } {
  let n = 0;
  return {
    commitsPage: (...args) => {
      n++;
      return gitlab.commitsPage(...args);
    },
    itemFileAt: (...args) => {
      n++;
      return gitlab.itemFileAt(...args);
    },
    requests: () => n,
  };
}
