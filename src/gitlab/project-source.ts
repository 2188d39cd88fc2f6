/**
 * The group's projects as an async iterator of pages, ordered by id ascending. It prefetches the
 * next `prefetch` pages (default 1) while the caller works on the current one and never holds
 * more than those. A deeper prefetch is for scans that do little per project (incremental ones):
 * the listing's latency is then their whole duration; it costs up to 2 × (prefetch − 1) requests
 * past the end of the listing.
 *
 * Checkpoints are (page, last project id). GitLab's group-projects endpoint has only offset
 * pagination, so between two runs offsets move: projects removed before the checkpoint shift
 * later ones down, projects moved or shared in shift them up. Resuming therefore re-reads the
 * checkpoint page, steps back while that page's first id is still above the last id seen,
 * steps forward while a whole page is at or below it, and drops every id at or below it — so
 * no project of the group is read twice or skipped. (A project that joins the group with an id
 * below the checkpoint is first seen by the next full scan.)
 *
 * Within a scan the same shifts are caught at each seam: a removal by probing the project just
 * before the next page's offset, and — since prefetched pages are answered in any order — a page
 * answered before the one the caller held is kept only if its first project is still at its
 * offset (else projects moved in since shifted it, and it is read again from the seam).
 */

import { isIgnoredProject } from "./ignore.ts";

export interface GitlabProject {
  id: number;
  path: string; // path_with_namespace
  name: string;
  defaultBranch: string | null;
  namespaceFullPath: string;
  /** GitLab bumps it on pushes (lazily, up to an hour late), not on renames. */
  lastActivityAt?: string | null;
}

export interface ProjectCheckpoint {
  page: number;
  lastProjectId: number;
}

export interface ProjectPage {
  page: number;
  projects: GitlabProject[];
  checkpoint: ProjectCheckpoint;
  last: boolean;
  /** Projects in the whole listing when GitLab says (x-total; omitted past 10,000 rows). */
  total: number | null;
}

export interface ProjectSource {
  pages(opts?: { from?: ProjectCheckpoint; signal?: AbortSignal }): AsyncIterable<ProjectPage>;
}

/** One page as GitLab answered it: projects in id order and the next page number, if any. */
export interface RawPage {
  total?: number | null;
  projects: GitlabProject[];
  next: number | null;
}

export type FetchPage = (page: number, signal?: AbortSignal) => Promise<RawPage>;

export function createProjectSource(deps: {
  fetchPage: FetchPage;
  /**
   * The id of the project at a 0-based offset of the listing (null past its end). With it, each
   * page's seam with the previous one is checked: a project removed before the seam while the
   * scan runs shifts the offsets down, and the first project of the next page would otherwise
   * be skipped without a trace.
   */
  probe?: (offset: number, signal?: AbortSignal) => Promise<number | null>;
  perPage?: number;
  ignorePaths?: readonly string[];
  /** Pages fetched ahead of the one the caller holds (each with its seam probe). */
  prefetch?: number;
}): ProjectSource {
  const depth = Math.max(1, Math.floor(deps.prefetch ?? 1));
  const ignorePaths = deps.ignorePaths ?? [];

  /** The first page that may hold a project with id > lastId, per the current offsets. */
  async function locate(
    from: ProjectCheckpoint,
    signal?: AbortSignal,
  ): Promise<{ page: number; raw: RawPage }> {
    let page = Math.max(1, from.page);
    let raw = await deps.fetchPage(page, signal);
    // Removals before the checkpoint shifted projects we have not seen onto earlier pages.
    while (page > 1 && (raw.projects[0]?.id ?? Number.POSITIVE_INFINITY) > from.lastProjectId) {
      const previous = await deps.fetchPage(page - 1, signal);
      if ((previous.projects.at(-1)?.id ?? 0) <= from.lastProjectId) break; // the seam is here
      page--;
      raw = previous;
    }
    // Additions before the checkpoint pushed them onto later pages.
    while (raw.next !== null && (raw.projects.at(-1)?.id ?? 0) <= from.lastProjectId) {
      page = raw.next;
      raw = await deps.fetchPage(page, signal);
    }
    return { page, raw };
  }

  return {
    async *pages(opts = {}) {
      const { from, signal } = opts;
      let lastId = from?.lastProjectId ?? 0;
      // Answers are numbered as they arrive: a page answered before the page the caller held may
      // predate a shift that page already shows (see below).
      let answers = 0;
      const located = async (at: ProjectCheckpoint | null) => {
        const found = at ? await locate(at, signal) : { page: 1, raw: await deps.fetchPage(1, signal) };
        return { ...found, answer: ++answers };
      };
      let current = await located(from ?? null);
      // Pages requested ahead, in page order. Each is answered, then its seam is checked: the
      // project just before its offset must still be the last one seen on the page before it
      // (asked after the page, so a removal that shifted the page shows in the check too); all
      // of it runs while the caller works.
      let ahead: {
        page: number;
        result: Promise<{ next: RawPage; answer: number; atSeam: number | null }>;
      }[] = [];
      const request = (page: number) => {
        const result = deps.fetchPage(page, signal).then(async (next) => {
          const answer = ++answers;
          const atSeam =
            deps.probe && deps.perPage ? await deps.probe((page - 1) * deps.perPage - 1, signal) : null;
          return { next, answer, atSeam };
        });
        result.catch(() => {}); // observed below; this only keeps an abandoned prefetch quiet
        return { page, result };
      };
      /** Whether `raw`'s first project is still the one at its page's offset (asked now). */
      const stillAtOffset = async (page: number, raw: RawPage) => {
        if (!deps.probe || !deps.perPage) return false;
        return (await deps.probe((page - 1) * deps.perPage, signal)) === (raw.projects[0]?.id ?? null);
      };
      for (;;) {
        signal?.throwIfAborted();
        const { page, raw } = current;
        const nextPage = raw.next;
        if (nextPage === null) ahead = [];
        else {
          if (ahead[0]?.page !== nextPage) ahead = [];
          // Past the first, pages are requested on speculation: GitLab numbers them one by one.
          for (let p = (ahead.at(-1)?.page ?? nextPage - 1) + 1; ahead.length < depth; p++)
            ahead.push(request(p));
        }
        const fresh = raw.projects.filter((p) => p.id > lastId);
        for (const p of fresh) lastId = Math.max(lastId, p.id);
        yield {
          page,
          projects: fresh.filter((p) => !isIgnoredProject(ignorePaths, p.path)),
          checkpoint: { page, lastProjectId: lastId },
          last: nextPage === null,
          total: raw.total ?? null,
        };
        const head = ahead.shift();
        if (nextPage === null || !head) return;
        const { next, answer, atSeam } = await head.result;
        if (answer < current.answer && !(await stillAtOffset(nextPage, next))) {
          // Prefetched pages race: this one was answered before the page just held, and projects
          // moved in before the seam since then shifted the offsets up — its first projects
          // would sit unseen on the other side of the seam: re-read from the seam.
          ahead = [];
          current = await located({ page: nextPage, lastProjectId: lastId });
        } else if (atSeam !== null && atSeam > lastId) {
          // A project before the seam was removed: the offsets slid down, re-read from the seam.
          ahead = [];
          current = await located({ page: nextPage, lastProjectId: lastId });
        } else {
          current = { page: nextPage, raw: next, answer: Math.max(answer, current.answer) };
        }
      }
    },
  };
}
