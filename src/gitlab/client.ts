/**
 * The GitLab client the rest of item-sync uses: group access check, the project stream, hook
 * check and creation, project lookup and the latest revision (default-branch commit and its
 * item.json). Built on gitbeaker's resources with our requester underneath (requester.ts), so
 * every call is paced, timed out and retried the same way.
 */
import { Commits, Groups, ProjectHooks, Projects, RepositoryFiles } from "@gitbeaker/rest";
import type { GitlabConfig } from "../config.ts";
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { accessErrorFor, GitlabError } from "./errors.ts";
import { createPacer, type Pacer } from "./pacer.ts";
import {
  createProjectSource,
  type GitlabProject,
  type ProjectSource,
  type RawPage,
} from "./project-source.ts";
import { createRequesterFn } from "./requester.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";

export interface LatestRevision {
  project: GitlabProject;
  commit: { id: string; committedDate: string } | null;
  itemJson: unknown | null;
}

export interface GitlabClientStats {
  requests: number;
  rateLimited: number;
  waitedMs: number;
  inFlight: number;
  /** requests waiting for a slot (concurrency, GITLAB_MAX_RPS or a Retry-After hold) */
  queued: number;
  retries: number;
}

export interface GitlabClient {
  checkAccess(): Promise<void>;
  projectSource(perPage?: number): ProjectSource;
  isMonitored(projectId: number): Promise<boolean>;
  createHook(projectId: number): Promise<"created" | "exists">;
  getProject(projectId: number): Promise<GitlabProject | null>;
  latestRevision(projectId: number): Promise<LatestRevision | null>;
  /**
   * Whether the project still belongs to what a sync scans: it exists, is not ignored, and lives
   * in the group (or a subgroup, with GITLAB_INCLUDE_SUBGROUPS), or is shared into it (with
   * GITLAB_WITH_SHARED). The delete-item handler asks this before removing an item.
   */
  membership(projectId: number): Promise<"member" | "outside" | "gone">;
  stats(): GitlabClientStats;
}

export const ITEM_FILE = "item.json";

interface RawProject {
  id: number;
  name: string;
  path_with_namespace: string;
  default_branch?: string | null;
  namespace?: { full_path?: string };
  shared_with_groups?: { group_id?: number }[];
}

export function toGitlabProject(raw: RawProject): GitlabProject {
  return {
    id: raw.id,
    path: raw.path_with_namespace,
    name: raw.name,
    defaultBranch: raw.default_branch ?? null,
    namespaceFullPath: raw.namespace?.full_path ?? raw.path_with_namespace.split("/").slice(0, -1).join("/"),
  };
}

const isNotFound = (err: unknown, what?: string) =>
  err instanceof GitlabError &&
  err.upstreamStatus === 404 &&
  (what === undefined || err.message.includes(what));

export function createGitlabClient(
  config: GitlabConfig,
  deps: { logger: Logger; pacer?: Pacer; retry?: Partial<RetryPolicy> },
): GitlabClient {
  const logger = deps.logger.child({ component: "gitlab" });
  const pacer = deps.pacer ?? createPacer({ concurrency: config.concurrency, maxRps: config.maxRps, logger });
  const counters = { retries: 0 };
  const requesterFn = createRequesterFn({
    pacer,
    timeoutMs: config.timeoutMs,
    retry: { ...DEFAULT_RETRY, ...deps.retry },
    logger,
    counters,
  });
  // queryTimeout null: the timeout is per request (ours), not per paginated call. rateLimits
  // are only read by gitbeaker's own requester factory, which ours replaces.
  const options = { host: config.url, token: config.token, requesterFn, queryTimeout: null, rateLimits: {} };
  const groups = new Groups(options);
  const projects = new Projects(options);
  const hooks = new ProjectHooks(options);
  const commits = new Commits(options);
  const files = new RepositoryFiles(options);
  const group = /^\d+$/.test(config.group) ? Number(config.group) : config.group;

  /** Runs a per-project call, attributing any GitLab failure to the project. */
  async function forProject<T>(projectId: number, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (thrown) {
      const err = coerceError(thrown);
      if (err instanceof GitlabError) throw err.forProject(projectId);
      throw new GitlabError(`project ${projectId}: ${err.message}`, {
        retryable: false,
        projectId,
        cause: err,
      });
    }
  }

  async function isMonitored(projectId: number): Promise<boolean> {
    return forProject(projectId, async () => {
      const all = (await hooks.all(projectId, { perPage: 100 })) as Array<{ url?: string }>;
      return all.some((h) => h.url === config.webhookUrl);
    });
  }

  async function getProject(projectId: number): Promise<GitlabProject | null> {
    try {
      return await forProject(projectId, async () =>
        toGitlabProject((await projects.show(projectId)) as unknown as RawProject),
      );
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  let groupInfo: Promise<{ id: number; fullPath: string }> | undefined;
  const resolveGroup = () => {
    groupInfo ??= (async () => {
      const g = (await groups.show(group, { withProjects: false })) as unknown as {
        id: number;
        full_path: string;
      };
      return { id: g.id, fullPath: g.full_path };
    })();
    groupInfo.catch(() => {
      groupInfo = undefined; // retry the lookup next time
    });
    return groupInfo;
  };

  async function membership(projectId: number): Promise<"member" | "outside" | "gone"> {
    let raw: RawProject;
    try {
      raw = await forProject(
        projectId,
        async () => (await projects.show(projectId)) as unknown as RawProject,
      );
    } catch (err) {
      if (isNotFound(err)) return "gone";
      throw err;
    }
    const g = await resolveGroup();
    const project = toGitlabProject(raw);
    if (config.ignoreProjects.includes(project.path)) return "outside";
    const ns = project.namespaceFullPath;
    if (ns === g.fullPath) return "member";
    if (config.includeSubgroups && ns.startsWith(`${g.fullPath}/`)) return "member";
    if (config.withShared && (raw.shared_with_groups ?? []).some((s) => s.group_id === g.id)) return "member";
    return "outside";
  }

  return {
    membership,

    async checkAccess() {
      try {
        await groups.show(group, { withProjects: false });
      } catch (err) {
        throw accessErrorFor(err, config.url, config.group) ?? err;
      }
    },

    projectSource(perPage = 100) {
      const list = async (page: number, size: number): Promise<RawPage> => {
        try {
          const res = await groups.allProjects(group, {
            page,
            perPage: size,
            orderBy: "id",
            sort: "asc",
            // GitLab's default for with_shared is true: always say what the config wants.
            withShared: config.withShared,
            includeSubgroups: config.includeSubgroups,
            simple: true,
            showExpanded: true,
          });
          return {
            projects: (res.data as unknown as RawProject[]).map(toGitlabProject),
            next: res.paginationInfo.next,
            total: typeof res.paginationInfo.total === "number" ? res.paginationInfo.total : null,
          };
        } catch (err) {
          throw accessErrorFor(err, config.url, config.group) ?? err;
        }
      };
      return createProjectSource({
        fetchPage: (page) => list(page, perPage),
        // the project at a 0-based offset: page offset+1 of pages of one
        probe: async (offset) => (await list(offset + 1, 1)).projects[0]?.id ?? null,
        perPage,
        ignorePaths: config.ignoreProjects,
      });
    },

    isMonitored,

    async createHook(projectId) {
      if (await isMonitored(projectId)) return "exists";
      await forProject(projectId, () =>
        hooks.add(projectId, config.webhookUrl, {
          pushEvents: true,
          enableSslVerification: true,
          ...(config.webhookSecret !== "" ? { token: config.webhookSecret } : {}),
        }),
      );
      logger.info("webhook created", { projectId });
      return "created";
    },

    getProject,

    async latestRevision(projectId) {
      const project = await getProject(projectId);
      if (!project) return null;
      if (project.defaultBranch === null) return { project, commit: null, itemJson: null }; // empty repository
      const branch = project.defaultBranch;
      try {
        const list = await forProject(projectId, async () => {
          try {
            const res = await commits.all(projectId, {
              refName: branch,
              perPage: 1,
              page: 1,
              showExpanded: true,
            });
            return res.data as unknown as Array<{ id: string; committed_date: string }>;
          } catch (err) {
            if (isNotFound(err) && !isNotFound(err, "Project")) return []; // no such branch yet
            throw err;
          }
        });
        const head = list[0];
        if (!head) return { project, commit: null, itemJson: null };
        const commit = { id: head.id, committedDate: head.committed_date };
        let content: string | null = null;
        try {
          const file = await forProject(projectId, () => files.show(projectId, ITEM_FILE, commit.id));
          const raw = file as unknown as { content: string; encoding: string };
          content =
            raw.encoding === "base64" ? Buffer.from(raw.content, "base64").toString("utf8") : raw.content;
        } catch (err) {
          if (!isNotFound(err, "File")) throw err;
        }
        if (content === null) return { project, commit, itemJson: null };
        try {
          return { project, commit, itemJson: JSON.parse(content) as unknown };
        } catch (err) {
          throw new GitlabError(
            `project ${projectId}: ${ITEM_FILE} at ${commit.id.slice(0, 8)} is not valid JSON: ${coerceError(err).message}`,
            { retryable: false, projectId, code: "GITLAB_INVALID_ITEM_JSON" },
          );
        }
      } catch (err) {
        // The project went away between our calls.
        if (isNotFound(err, "Project")) return null;
        throw err;
      }
    },

    stats() {
      const s = pacer.stats();
      return {
        requests: s.requests,
        rateLimited: s.rateLimited,
        waitedMs: s.waitedMs,
        inFlight: s.inFlight,
        queued: s.queued,
        retries: counters.retries,
      };
    },
  };
}
