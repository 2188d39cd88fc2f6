/**
 * The group's projects as an async iterator of pages, ordered by id ascending. It prefetches the
 * next page while the caller works on the current one and never holds more than those two.
 *
 * Checkpoints are (page, last project id). GitLab's group-projects endpoint has only offset
 * pagination, so between two runs offsets move: projects removed before the checkpoint shift
 * later ones down, projects moved or shared in shift them up. Resuming therefore re-reads the
 * checkpoint page, steps back while that page's first id is still above the last id seen,
 * steps forward while a whole page is at or below it, and drops every id at or below it — so
 * no project of the group is read twice or skipped. (A project that joins the group with an id
 * below the checkpoint is first seen by the next full scan.)
 */

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
}): ProjectSource {
  const ignored = new Set((deps.ignorePaths ?? []).map((p) => p.toLowerCase()));

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
      let current = from ? await locate(from, signal) : { page: 1, raw: await deps.fetchPage(1, signal) };
      for (;;) {
        signal?.throwIfAborted();
        const { page, raw } = current;
        // Start the next request now, so it runs while the caller handles this page. As soon as
        // it is answered, the seam is checked: the project just before the next page's offset
        // must still be the last one seen here (asked after the page, so a removal that shifted
        // the page shows in the check too); all of it runs while the caller works.
        const nextPage = raw.next;
        const pending =
          nextPage === null
            ? null
            : deps.fetchPage(nextPage, signal).then(async (next) => {
                const atSeam =
                  deps.probe && deps.perPage
                    ? await deps.probe((nextPage - 1) * deps.perPage - 1, signal)
                    : null;
                return { next, atSeam };
              });
        pending?.catch(() => {}); // observed below; this only keeps an abandoned prefetch quiet
        const fresh = raw.projects.filter((p) => p.id > lastId);
        for (const p of fresh) lastId = Math.max(lastId, p.id);
        yield {
          page,
          projects: fresh.filter((p) => !ignored.has(p.path.toLowerCase())),
          checkpoint: { page, lastProjectId: lastId },
          last: pending === null,
          total: raw.total ?? null,
        };
        if (pending === null || nextPage === null) return;
        const { next, atSeam } = await pending;
        // A project before the seam was removed: the offsets slid down, re-read from the seam.
        current =
          atSeam !== null && atSeam > lastId
            ? await locate({ page: nextPage, lastProjectId: lastId }, signal)
            : { page: nextPage, raw: next };
      }
    },
  };
}
