/**
 * Git's answers over a project's commits, as GitLab's commits and repository-files APIs give
 * them (docs.gitlab.com/api/commits/, docs.gitlab.com/api/repository_files/):
 *
 * - which commit a ref names (the default branch, `HEAD`, a full or abbreviated sha);
 * - the log from a ref: every reachable commit, or the first-parent chain (`first_parent`); with
 *   `path`, only commits that changed that file, simplified as `git log -- <path>` does (a merge
 *   that kept one parent's version follows that parent alone); `since`/`until` on the committed
 *   date at second precision, both inclusive (git's --since/--until, which GitLab passes on);
 *   ordered newest committed first (`order=default`) or children before parents without mixing
 *   lines of history (`order=topo`, git's --topo-order);
 * - the last commit that changed a file at a ref (the files API's `last_commit_id`);
 * - what a commit changed against its first parent (stats, and a push event's added/modified/removed).
 */
import type { SimCommit } from "./gitlab-model.ts";

export type CommitIndex = Map<string, SimCommit>;

export function indexCommits(commits: readonly SimCommit[]): CommitIndex {
  return new Map(commits.map((c) => [c.id, c]));
}

/**
 * The commit `ref` names: the default branch (or HEAD, or nothing) is the head; a hex string of
 * 7 to 40 digits is a sha or its unambiguous prefix. Other branch and tag names do not exist here.
 */
export function resolveRef(
  commits: readonly SimCommit[],
  defaultBranch: string | null,
  ref: string | null,
): SimCommit | undefined {
  if (ref === null || ref === "" || ref === "HEAD" || ref === defaultBranch) return commits[0];
  if (!/^[0-9a-f]{7,40}$/.test(ref)) return undefined;
  const found = commits.filter((c) => c.id.startsWith(ref));
  return found.length === 1 ? found[0] : undefined;
}

export interface LogOptions {
  /** seconds since epoch; commits committed at or after */
  since?: number;
  /** seconds since epoch; commits committed at or before */
  until?: number;
  path?: string;
  firstParent?: boolean;
  order?: "default" | "topo";
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Whether `a` and `b` hold the same version of `path` (both without it counts as the same). */
export function sameFile(a: SimCommit, b: SimCommit, path: string): boolean {
  const ka = a.contentKey?.(path);
  const kb = b.contentKey?.(path);
  if (ka !== undefined && kb !== undefined) return ka === kb;
  return a.files.get(path) === b.files.get(path);
}

/** Parses an ISO 8601 date the way GitLab's API does; null when it is not one. */
export function parseApiDate(v: string | null): number | null {
  if (v === null || v === "") return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/** The commits `git log` would show from `tip` (see the module header). */
export function log(tip: SimCommit, index: CommitIndex, opts: LogOptions = {}): SimCommit[] {
  const shown = new Set<string>();
  const seen = new Set<string>();
  const stack: SimCommit[] = [tip];
  const path = opts.path;
  while (stack.length > 0) {
    const c = stack.pop();
    if (!c || seen.has(c.id)) continue;
    seen.add(c.id);
    const parents = (opts.firstParent ? c.parentIds.slice(0, 1) : c.parentIds)
      .map((id) => index.get(id))
      .filter((p): p is SimCommit => p !== undefined);
    if (path === undefined) {
      shown.add(c.id);
      stack.push(...parents);
      continue;
    }
    const same = parents.find((p) => sameFile(c, p, path));
    if (parents.length === 0) {
      const key = c.contentKey?.(path);
      if (key === undefined ? c.files.has(path) : key !== null) shown.add(c.id); // a root commit adding it
    } else if (same) {
      stack.push(same); // TREESAME to a parent: follow only that one, the commit is not shown
    } else {
      shown.add(c.id);
      stack.push(...parents);
    }
  }
  const ordered = (
    opts.order === "topo" ? topoOrder(tip, index, opts.firstParent ?? false) : byDate(tip, index)
  )
    .filter((c) => shown.has(c.id))
    .filter((c) => {
      const s = seconds(c.committedDate);
      return (opts.since === undefined || s >= opts.since) && (opts.until === undefined || s <= opts.until);
    });
  return ordered;
}

function reachable(tip: SimCommit, index: CommitIndex, firstParent: boolean): SimCommit[] {
  const out: SimCommit[] = [];
  const seen = new Set<string>();
  const stack = [tip];
  while (stack.length > 0) {
    const c = stack.pop();
    if (!c || seen.has(c.id)) continue;
    seen.add(c.id);
    out.push(c);
    for (const id of firstParent ? c.parentIds.slice(0, 1) : c.parentIds) {
      const p = index.get(id);
      if (p) stack.push(p);
    }
  }
  return out;
}

/** git log's default order: newest committed first (ties keep the walk's order). */
function byDate(tip: SimCommit, index: CommitIndex): SimCommit[] {
  return reachable(tip, index, false)
    .map((c, i) => ({ c, i, s: seconds(c.committedDate) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((x) => x.c);
}

/**
 * git's --topo-order: no parent before all its children, and a merged line shown whole before
 * the line it was merged into (parents are taken last-in, first-out).
 */
function topoOrder(tip: SimCommit, index: CommitIndex, firstParent: boolean): SimCommit[] {
  const all = reachable(tip, index, firstParent);
  const children = new Map<string, number>();
  const parentsOf = (c: SimCommit) => (firstParent ? c.parentIds.slice(0, 1) : c.parentIds);
  for (const c of all) for (const p of parentsOf(c)) children.set(p, (children.get(p) ?? 0) + 1);
  const out: SimCommit[] = [];
  const stack = [tip];
  while (stack.length > 0) {
    const c = stack.pop();
    if (!c) break;
    out.push(c);
    for (const id of parentsOf(c)) {
      const left = (children.get(id) ?? 1) - 1;
      children.set(id, left);
      const p = index.get(id);
      if (left === 0 && p) stack.push(p);
    }
  }
  return out;
}

/** The files API's `last_commit_id`: the newest commit at `tip` that changed `path`. */
export function lastCommitChanging(tip: SimCommit, index: CommitIndex, path: string): SimCommit | undefined {
  return log(tip, index, { path })[0];
}

export interface Changes {
  added: string[];
  modified: string[];
  removed: string[];
}

/** What `c` changed against its first parent (everything is added in a root commit). */
export function changesOf(c: SimCommit, index: CommitIndex): Changes {
  const before = index.get(c.parentIds[0] ?? "")?.files ?? new Map<string, string>();
  const out: Changes = { added: [], modified: [], removed: [] };
  for (const [path, content] of c.files) {
    if (!before.has(path)) out.added.push(path);
    else if (before.get(path) !== content) out.modified.push(path);
  }
  for (const path of before.keys()) if (!c.files.has(path)) out.removed.push(path);
  return out;
}

/** Line counts of `c`'s diff against its first parent, as the single-commit API's `stats`. */
export function statsOf(
  c: SimCommit,
  index: CommitIndex,
): { additions: number; deletions: number; total: number } {
  const before = index.get(c.parentIds[0] ?? "")?.files ?? new Map<string, string>();
  let additions = 0;
  let deletions = 0;
  const lines = (s: string | undefined) =>
    s === undefined || s === "" ? [] : s.replace(/\n$/, "").split("\n");
  for (const path of new Set([...before.keys(), ...c.files.keys()])) {
    const a = lines(before.get(path));
    const b = lines(c.files.get(path));
    if (before.get(path) === c.files.get(path)) continue;
    const left = new Map<string, number>();
    for (const l of a) left.set(l, (left.get(l) ?? 0) + 1);
    for (const l of b) {
      const n = left.get(l) ?? 0;
      if (n > 0) left.set(l, n - 1);
      else additions++;
    }
    for (const n of left.values()) deletions += n;
  }
  return { additions, deletions, total: additions + deletions };
}
