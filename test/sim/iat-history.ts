/**
 * The commit history of a project of the simulated item bank: 1 to 12 commits on the default
 * branch (sometimes a short side branch merged back) by the IAT users who wrote, reviewed,
 * translated and moved the item through its workflow, ending at the head revision of
 * iat-items.ts. Commits change item.json (status moves, content and translation edits, uploads,
 * content update needs) or not (README edits, the removal of the `create` file), as IMRT-ITEMS.md
 * §4.3 expects a history to look: every commit of the branch is a revision, item.json or not.
 *
 * Generated from the project id alone and rendered lazily: a commit's files are built on first
 * access, so asking for a history costs a few hashes, not a few documents.
 */
import type { SimCommit } from "./gitlab-model.ts";
import { brokenItemJson, itemJsonText, renderItem } from "./iat-document.ts";
import { plan, type TreeState } from "./iat-history-plan.ts";
import type { ItemFacts } from "./iat-items.ts";
import { fakeSha } from "./sim-random.ts";

/** README.md of the project at README revision `k`. */
export function readmeText(f: ItemFacts, k: number): string {
  const head =
    f.presence === "none"
      ? `# Item project ${f.projectId}\n\nNo item has been saved here yet.\n`
      : `# Item ${f.itemId}\n\nItem ${f.itemId} (${f.type}, ${f.subject} grade ${f.grade}) of the IMRT item bank, authored in IAT.\n`;
  const notes = Array.from({ length: k }, (_, i) => `- Note ${i + 1}: reviewed for the ${2018 + i} bank.\n`);
  return notes.length > 0 ? `${head}\n${notes.join("")}` : head;
}

/** A Map that remembers being changed after it was built (a test editing a commit's tree). */
class FileMap extends Map<string, string> {
  changed = false; // initialised after the constructor's own set() calls
  override set(k: string, v: string) {
    this.changed = true;
    return super.set(k, v);
  }
  override delete(k: string) {
    this.changed = true;
    return super.delete(k);
  }
  override clear() {
    this.changed = true;
    super.clear();
  }
}

/** A generated commit: metadata now, files rendered on first access (then kept). */
class GeneratedCommit implements SimCommit {
  #render: () => Map<string, string>;
  #files: FileMap | undefined;
  #keys: (path: string) => string | null;
  constructor(
    readonly id: string,
    readonly title: string,
    readonly message: string,
    readonly authorName: string,
    readonly authorEmail: string,
    readonly authoredDate: string,
    readonly committerName: string,
    readonly committerEmail: string,
    readonly committedDate: string,
    readonly parentIds: string[],
    render: () => Map<string, string>,
    keys: (path: string) => string | null,
  ) {
    this.#render = render;
    this.#keys = keys;
  }
  get files(): Map<string, string> {
    this.#files ??= new FileMap(this.#render());
    return this.#files;
  }
  contentKey(path: string): string | null | undefined {
    return this.#files?.changed ? undefined : this.#keys(path);
  }
}

/** The content identity of each file of a tree (see SimCommit.contentKey). */
function treeKey(tree: TreeState, path: string): string | null {
  switch (path) {
    case "item.json":
      return tree.rev ? `${tree.broken ? "broken:" : ""}${JSON.stringify(tree.rev)}` : null;
    case "README.md":
      return `readme:${tree.readme}`;
    case "create":
      return tree.create ? "" : null;
    default:
      return null;
  }
}

function treeFiles(f: ItemFacts, tree: TreeState): Map<string, string> {
  const files = new Map<string, string>();
  if (tree.rev) {
    const doc = renderItem(f, tree.rev);
    files.set("item.json", tree.broken ? brokenItemJson(f, doc) : itemJsonText(doc));
  }
  files.set("README.md", readmeText(f, tree.readme));
  if (tree.create) files.set("create", "");
  return files;
}

/**
 * The project's history, newest committed first (the head of the default branch first).
 * `endBy`: the project's creation time; the history ends before it, as an imported repository's.
 */
export function generateHistory(f: ItemFacts, endBy: number): SimCommit[] {
  const planned = plan(f, endBy);
  const ids: string[] = [];
  const commits = planned.map((c, n) => {
    const iso = new Date(c.at).toISOString();
    const authored = new Date(c.authoredAt ?? c.at).toISOString();
    const id = fakeSha(f.projectId, "commit", n, c.at);
    ids.push(id);
    const body = c.kind === "merge" ? `\n\nSee merge request ${f.itemId}!${n}\n` : "\n";
    return new GeneratedCommit(
      id,
      c.title,
      `${c.title}${body}`,
      c.author.name,
      c.author.email,
      authored,
      c.committer.name,
      c.committer.email,
      iso,
      c.parents.map((p) => ids[p] ?? ""),
      () => treeFiles(f, c.tree),
      (path) => treeKey(c.tree, path),
    );
  });
  return commits.reverse();
}
