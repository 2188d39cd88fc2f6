/**
 * The repositories of the simulated projects: each project's commit history and the files at
 * each commit, and the operations a test uses to change them (push a commit, move an item's
 * workflow status, edit an item, seed a project with an exact history).
 *
 * Until something changes a project's history it is generated from the project id (iat-history.ts)
 * on every read, behind a small cache: a sync that reads the head of 100,000 projects keeps no
 * history in memory. A history that a test changes (or asks for through `commitsOf`) is kept on
 * the project from then on.
 */
import type { SimCommit, SimEvent, SimPerson, SimProject } from "./gitlab-model.ts";
import { itemJsonText } from "./iat-document.ts";
import { generateHistory } from "./iat-history.ts";
import { IAT_SERVICE, type ItemBankOptions, type ItemFacts, iatUser, itemFacts } from "./iat-items.ts";
import { fakeSha } from "./sim-random.ts";

/** A person as a test names one: a user name (its e-mail is derived) or a name and an e-mail. */
export type PersonSpec = string | SimPerson;

/** When, as an ISO 8601 string, a Date or milliseconds since the epoch. */
export type DateSpec = string | Date | number;

export interface CommitSpec {
  /** path -> new content; an object is written as item.json is (two-space JSON); null deletes */
  files?: Record<string, string | object | null>;
  title?: string;
  /** the whole message; default: the title and a newline */
  message?: string;
  /** default: "Item Author" <author@example.org> */
  author?: PersonSpec;
  /** default: the author */
  committer?: PersonSpec;
  /** committed date; default: now (at least a second after the parent's) */
  date?: DateSpec;
  /** default: the committed date */
  authoredDate?: DateSpec;
  /**
   * seedProject only: the commits (indexes into its `commits`, older ones) this one has as
   * parents, first parent first; default the one before. Two parents make a merge, whose tree is
   * its first parent's changed by `files`.
   */
  parents?: number[];
}

export const DEFAULT_AUTHOR: SimPerson = { name: "Item Author", email: "author@example.org" };

export const person = (p: PersonSpec): SimPerson => (typeof p === "string" ? iatUser(p) : p);

export function isoOf(d: DateSpec): string {
  const ms = d instanceof Date ? d.getTime() : typeof d === "number" ? d : Date.parse(d);
  if (Number.isNaN(ms)) throw new Error(`not a date: ${String(d)}`);
  return new Date(ms).toISOString();
}

const gitDate = (d: DateSpec) => new Date(Math.floor(Date.parse(isoOf(d)) / 1000) * 1000).toISOString();

const HISTORY_CACHE = 4096;

export function createRepositories(deps: {
  bank: ItemBankOptions;
  activityThrottleMs: number;
  project: (id: number) => SimProject | undefined;
  touch: () => void;
  emit: (event: SimEvent) => void;
}) {
  const cache = new Map<number, SimCommit[]>(); // generated histories, least recently used first

  function facts(projectId: number): ItemFacts {
    return itemFacts(projectId, deps.bank);
  }

  function generated(p: SimProject): SimCommit[] {
    const hit = cache.get(p.id);
    if (hit) {
      cache.delete(p.id);
      cache.set(p.id, hit);
      return hit;
    }
    const history = generateHistory(facts(p.id), Date.parse(p.createdAt));
    cache.set(p.id, history);
    if (cache.size > HISTORY_CACHE) cache.delete(cache.keys().next().value ?? -1);
    return history;
  }

  /**
   * The project's commits as they are now, for reading: a copy, so a later push does not change
   * a reader's array under it. Generated histories are not stored.
   */
  function historyOf(p: SimProject): SimCommit[] {
    if (p.commits) return [...p.commits];
    if (p.defaultBranch === null) return []; // an empty repository
    return [...generated(p)];
  }

  /** The project's commits, kept on the project from now on: a test may change them in place. */
  function commitsOf(p: SimProject): SimCommit[] {
    if (!p.commits) {
      p.commits = historyOf(p);
      cache.delete(p.id);
    }
    return p.commits;
  }

  function mustProject(id: number): SimProject {
    const p = deps.project(id);
    if (!p) throw new Error(`no project ${id}`);
    return p;
  }

  function applyFiles(base: Map<string, string>, files: CommitSpec["files"]): Map<string, string> {
    const out = new Map(base);
    for (const [path, content] of Object.entries(files ?? {})) {
      if (content === null) out.delete(path);
      else out.set(path, typeof content === "string" ? content : itemJsonText(content));
    }
    return out;
  }

  function makeCommit(
    projectId: number,
    n: number,
    spec: CommitSpec,
    parent: SimCommit | undefined,
    defaultDate: () => string,
    otherParents: SimCommit[] = [],
  ): SimCommit {
    // git keeps whole seconds: a date given with milliseconds loses them, as in a real push
    const committedDate = spec.date !== undefined ? gitDate(spec.date) : defaultDate();
    const title = spec.title ?? `Update item (${n})`;
    const author = person(spec.author ?? DEFAULT_AUTHOR);
    const committer = spec.committer !== undefined ? person(spec.committer) : author;
    return {
      id: fakeSha(projectId, n, committedDate, title),
      title,
      message: spec.message ?? `${title}\n`,
      authorName: author.name,
      authorEmail: author.email,
      authoredDate: spec.authoredDate !== undefined ? gitDate(spec.authoredDate) : committedDate,
      committerName: committer.name,
      committerEmail: committer.email,
      committedDate,
      parentIds: [...(parent ? [parent] : []), ...otherParents].map((c) => c.id),
      files: applyFiles(parent?.files ?? new Map(), spec.files),
    };
  }

  /** Pushes one commit on the default branch, as `git push` of a single commit does. */
  function pushCommit(id: number, spec: CommitSpec = {}): SimCommit {
    const p = mustProject(id);
    const commits = commitsOf(p);
    const parent = commits[0];
    const commit = makeCommit(p.id, commits.length + 1, spec, parent, () => {
      // git stores seconds; a push never goes back in time from its parent
      const ms = Math.max(Date.now(), Date.parse(parent?.committedDate ?? "0") + 1000);
      return new Date(Math.floor(ms / 1000) * 1000).toISOString();
    });
    commits.unshift(commit);
    // Lazily, as GitLab does: only when the last bump is older than the throttle interval.
    if (Date.parse(p.lastActivityAt) <= Date.now() - deps.activityThrottleMs) {
      p.lastActivityAt = new Date().toISOString();
    }
    if (p.defaultBranch === null) p.defaultBranch = "main"; // the first push creates the branch
    deps.touch();
    deps.emit({
      kind: "push",
      projectId: p.id,
      ref: `refs/heads/${p.defaultBranch}`,
      before: parent?.id ?? "0000000000000000000000000000000000000000",
      after: commit.id,
      commits: [commit],
    });
    return commit;
  }

  /** item.json at the head of the default branch, parsed; null when the file is absent. */
  function itemOf(id: number): Record<string, unknown> | null {
    const text = historyOf(mustProject(id))[0]?.files.get("item.json");
    if (text === undefined) return null;
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`project ${id}: item.json at head is not JSON (${String(err)})`);
    }
  }

  interface ItemCommitOptions {
    author: PersonSpec;
    date?: DateSpec;
    title?: string;
    /** default: IAT's service account, as for every commit IAT makes */
    committer?: PersonSpec;
  }

  /** Commits a changed item.json, as IAT does when an item is saved. */
  function editItem(
    id: number,
    /** changes the document in place, or returns a new one */
    mutate: (doc: Record<string, unknown>) => unknown,
    opts: ItemCommitOptions,
  ): SimCommit {
    const current = itemOf(id);
    if (!current) throw new Error(`project ${id} has no item.json to edit`);
    const draft = structuredClone(current);
    const out = mutate(draft);
    const doc = out !== null && typeof out === "object" ? (out as Record<string, unknown>) : draft;
    const itemId = String(doc.id ?? id);
    return pushCommit(id, {
      files: { "item.json": doc },
      title: opts.title ?? `Update item ${itemId}`,
      author: opts.author,
      committer: opts.committer ?? IAT_SERVICE,
      date: opts.date,
    });
  }

  /**
   * A push that changes the item: item.json gets a `touched` note (a key the ingest ignores, so the
   * document stays valid); a project without item.json gets a README commit instead.
   */
  function touchItem(id: number, note: string, opts: Partial<ItemCommitOptions> = {}): SimCommit {
    if (!itemOf(id))
      return pushCommit(id, { files: { "README.md": `${note}\n` }, author: opts.author, date: opts.date });
    return editItem(
      id,
      (doc) => {
        doc.touched = note;
      },
      { author: opts.author ?? "editor", ...opts },
    );
  }

  /** Moves the item to another workflow status (§6.5) in one commit that changes only that code. */
  function setWorkflowStatus(id: number, code: string, opts: ItemCommitOptions): SimCommit {
    const before = itemOf(id);
    const workflow = before?.workflow as { workflowStatusCode?: string } | undefined;
    const from = workflow?.workflowStatusCode ?? "none";
    return editItem(
      id,
      (doc) => {
        doc.workflow = { ...(doc.workflow as object | undefined), workflowStatusCode: code };
      },
      {
        ...opts,
        title:
          opts.title ?? `Change workflow status of item ${String(before?.id ?? id)} from ${from} to ${code}`,
      },
    );
  }

  /**
   * Builds an explicit history from specs, oldest first: each commit changes the tree of its first
   * parent. Answers it newest committed first, the last spec (the branch head) at [0].
   */
  function buildHistory(projectId: number, specs: readonly CommitSpec[], start: string): SimCommit[] {
    const built: SimCommit[] = [];
    let last = Date.parse(start) - 60_000;
    specs.forEach((spec, i) => {
      const parents = (spec.parents ?? (i > 0 ? [i - 1] : [])).map((k) => {
        const c = built[k];
        if (!c || k >= i)
          throw new Error(`project ${projectId}: commit ${i} names parent ${k}, not an older commit`);
        return c;
      });
      const [first, ...others] = parents;
      const commit = makeCommit(
        projectId,
        i + 1,
        spec,
        first,
        () => new Date(last + 60_000).toISOString(),
        others,
      );
      last = Date.parse(commit.committedDate);
      built.push(commit);
    });
    const head = built.at(-1);
    const rest = built
      .slice(0, -1)
      .map((c, i) => ({ c, i }))
      .sort((a, b) => Date.parse(b.c.committedDate) - Date.parse(a.c.committedDate) || b.i - a.i)
      .map((x) => x.c);
    return head ? [head, ...rest] : [];
  }

  return {
    facts,
    historyOf,
    commitsOf,
    pushCommit,
    itemOf,
    editItem,
    setWorkflowStatus,
    touchItem,
    buildHistory,
    forget(projectId: number) {
      cache.delete(projectId);
    },
  };
}
