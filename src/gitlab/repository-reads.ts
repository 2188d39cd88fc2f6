/**
 * What update-item reads of a project's repository: pages of the default branch's commits (since
 * a date, with their authors), item.json at any ref together with the last commit that changed
 * it, and whether a file exists at a ref (the authoring tool's `create` marker). Each call is one
 * GitLab request through the client's requester (paced, timed out, retried). A 404 that means
 * "not there" (no such file, no such branch yet) is an answer, not an error; a 404 for the
 * project itself is thrown, for the caller to treat as the project gone.
 */
import type { Commits, RepositoryFiles } from "@gitbeaker/rest";
import { GitlabError, isGitlabNotFound } from "./errors.ts";

export const ITEM_FILE = "item.json";
/** A file at the repository root that marks an item still being created in the authoring tool. */
export const CREATE_MARKER_FILE = "create";

/** GitLab's largest page: a first ingest of a long history costs one request per 100 commits. */
const COMMITS_PER_PAGE = 100;

/** A commit of the default branch, as the item history needs it. */
export interface GitCommit {
  id: string;
  committedDate: Date;
  authorName: string;
}

/** item.json at a ref, and the last commit (at or before that ref) that changed it. */
export interface ItemFile {
  text: string;
  lastCommitId: string;
}

export interface RepositoryReads {
  /** One page of the commits of `ref` committed at or after `since` (all when null), newest first. */
  commitsPage(
    projectId: number,
    ref: string,
    since: Date | null,
    page: number,
  ): Promise<{ commits: GitCommit[]; nextPage: number | null }>;
  /** item.json at `ref`, or null when the file is not there. */
  itemFileAt(projectId: number, ref: string): Promise<ItemFile | null>;
  fileExists(projectId: number, path: string, ref: string): Promise<boolean>;
}

interface RawCommit {
  id: string;
  committed_date: string;
  author_name?: string | null;
}

interface RawFile {
  content: string;
  encoding: string;
  last_commit_id: string;
}

export function createRepositoryReads(deps: {
  commits: Commits;
  files: RepositoryFiles;
  /** Runs a per-project call, attributing any failure to the project (client.ts). */
  forProject<T>(projectId: number, fn: () => Promise<T>): Promise<T>;
}): RepositoryReads {
  const { commits, files, forProject } = deps;

  /** A file's content at a ref; null when GitLab says the file (or the ref) is not there. */
  async function showFile(projectId: number, path: string, ref: string): Promise<RawFile | null> {
    try {
      return (await forProject(projectId, () => files.show(projectId, path, ref))) as unknown as RawFile;
    } catch (err) {
      if (isGitlabNotFound(err) && !isGitlabNotFound(err, "Project")) return null;
      throw err;
    }
  }

  return {
    async commitsPage(projectId, ref, since, page) {
      try {
        const res = await forProject(projectId, () =>
          commits.all(projectId, {
            refName: ref,
            ...(since ? { since: since.toISOString() } : {}),
            perPage: COMMITS_PER_PAGE,
            page,
            showExpanded: true,
          }),
        );
        const raw = res.data as unknown as RawCommit[];
        return {
          commits: raw.map((c) => ({
            id: c.id,
            committedDate: new Date(c.committed_date),
            authorName: c.author_name ?? "",
          })),
          nextPage: res.paginationInfo.next ?? null,
        };
      } catch (err) {
        // a branch that does not exist (yet): no commits
        if (isGitlabNotFound(err) && !isGitlabNotFound(err, "Project"))
          return { commits: [], nextPage: null };
        throw err;
      }
    },

    async itemFileAt(projectId, ref) {
      const file = await showFile(projectId, ITEM_FILE, ref);
      if (!file) return null;
      const text =
        file.encoding === "base64" ? Buffer.from(file.content, "base64").toString("utf8") : file.content;
      if (typeof file.last_commit_id !== "string" || file.last_commit_id === "") {
        throw new GitlabError(`project ${projectId}: ${ITEM_FILE} at ${ref} came without last_commit_id`, {
          retryable: false,
          projectId,
        });
      }
      return { text, lastCommitId: file.last_commit_id };
    },

    async fileExists(projectId, path, ref) {
      return (await showFile(projectId, path, ref)) !== null;
    },
  };
}
