/**
 * The GitLab client the rest of item-sync uses: group access check, the project stream, hook
 * check and creation, project lookup and the latest revision (default-branch commit and its
 * item.json). Built on gitbeaker's resources with our requester underneath (requester.ts), so
 * every call is paced, timed out and retried the same way.
 */
import { Commits, Groups, ProjectHooks, Projects, RepositoryFiles } from "@gitbeaker/rest";
import type { GitlabConfig } from "../config/config.ts";
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { accessErrorFor, GitlabError, isGitlabNotFound } from "./errors.ts";
import { isIgnoredProject } from "./ignore.ts";
import { createPacer, type Pacer } from "./pacer.ts";
import {
  createProjectSource,
  type GitlabProject,
  type ProjectSource,
  type RawPage,
} from "./project-source.ts";
import { createRepositoryReads, type RepositoryReads } from "./repository-reads.ts";
import { createRequesterFn } from "./requester.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";

/** A project as update-item reads it: GitLab's answer and where it stands with respect to the group. */
export interface ProjectReading {
  project: GitlabProject;
  /** What membership() says of the project, from the same lookup. */
  membership: "member" | "outside";
  /** The group's full path (IMRT's `item_git.project_path`). */
  groupPath: string;
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

/**
 * What GitLab's last answer to this process said (any call): `ok` — it answered and took the
 * token (2xx, or a 4xx about one thing, such as a 404); `refused` — 401/403; `unreachable` — no
 * answer (connection, timeout); `failing` — 5xx; `unknown` before the first call.
 */
export interface GitlabHealth {
  state: "ok" | "refused" | "unreachable" | "failing" | "unknown";
  /** when this state began */
  since: Date;
  /** the answer behind it, for the operator (never the token nor a password of GITLAB_URL) */
  detail: string;
}

export interface GitlabClient extends RepositoryReads {
  checkAccess(): Promise<void>;
  /** `prefetch`: pages requested ahead of the one being worked on (see project-source.ts). */
  projectSource(perPage?: number, opts?: { prefetch?: number }): ProjectSource;
  /**
   * True when the project has our hook (url exactly WEBHOOK_URL), GitLab has not disabled it,
   * and no hook of the replaced service (WEBHOOK_LEGACY_URLS) is left: a project with a legacy
   * or a disabled hook needs monitor-item.
   */
  isMonitored(projectId: number): Promise<boolean>;
  /** Our hook's health on the project, from the same one hooks listing as isMonitored. */
  checkHook(projectId: number): Promise<HookCheck>;
  /**
   * monitor-item's work: ours present and enabled → "exists"; ours disabled by GitLab → re-enabled
   * (see reenable) → "reenabled" or, when GitLab keeps it disabled, "still_disabled"; else a
   * legacy hook is edited in place to ours (url, token, push events, SSL verification; same hook
   * id) → "adopted"; else ours is added → "created". Every other legacy hook is deleted, so the
   * project ends with one hook of ours.
   */
  createHook(projectId: number): Promise<HookResult>;
  getProject(projectId: number): Promise<GitlabProject | null>;
  /** The project and its membership in one lookup; null when it is gone. */
  readProject(projectId: number): Promise<ProjectReading | null>;
  /**
   * Whether the project still belongs to what a sync scans: it exists, is not ignored, and lives
   * in the group (or a subgroup, with GITLAB_INCLUDE_SUBGROUPS), or is shared into it (with
   * GITLAB_WITH_SHARED). The delete-item handler asks this before removing an item.
   */
  membership(projectId: number, known?: RawProject): Promise<"member" | "outside" | "gone">;
  stats(): GitlabClientStats;
  health(): GitlabHealth;
}

export type HookOutcome = "created" | "exists" | "adopted" | "reenabled" | "still_disabled";

/** GitLab's alert_status of a hook it switched off after failed deliveries. */
export type DisabledKind = "temporarily_disabled" | "disabled";

/**
 * Our hook as GitLab lists it: `ok` (present, executable), `missing`, or `disabled` by GitLab
 * (either kind: `alertStatus` says which, `disabledUntil` until when for a temporary one).
 */
export interface HookCheck {
  state: "ok" | "missing" | "disabled";
  alertStatus?: DisabledKind;
  disabledUntil?: Date | null;
  /** A hook of the replaced service (WEBHOOK_LEGACY_URLS) is still on the project. */
  legacy: boolean;
}

export interface HookResult {
  outcome: HookOutcome;
  /** Set when our hook was found disabled by GitLab (reenabled or still_disabled). */
  disabled?: { alertStatus: DisabledKind; disabledUntil: Date | null };
  /** How it was re-enabled: a test request alone, or after editing it in place. */
  reenabledBy?: "test" | "edit";
  /** Why GitLab kept it disabled (still_disabled): the test request's answer. */
  reason?: string;
}

interface ListedHook {
  id: number;
  url?: string;
  alert_status?: string;
  disabled_until?: string | null;
}

const disabledKind = (h: ListedHook): DisabledKind | null =>
  h.alert_status === "disabled" || h.alert_status === "temporarily_disabled" ? h.alert_status : null;

/** Hook urls compare as URLs: scheme and host in any case, a default port written or not. */
function normalizeHookUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

export interface RawProject {
  id: number;
  name: string;
  path_with_namespace: string;
  default_branch?: string | null;
  last_activity_at?: string | null;
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
    lastActivityAt: raw.last_activity_at ?? null,
  };
}

const isNotFound = isGitlabNotFound;

export function createGitlabClient(
  config: GitlabConfig,
  deps: { logger: Logger; pacer?: Pacer; retry?: Partial<RetryPolicy> },
): GitlabClient {
  const logger = deps.logger.child({ component: "gitlab" });
  const pacer = deps.pacer ?? createPacer({ concurrency: config.concurrency, maxRps: config.maxRps, logger });
  const counters = { retries: 0 };
  let health: GitlabHealth = { state: "unknown", since: new Date(), detail: "no request yet" };
  const onAnswer = (answer: { status: number } | { error: string }) => {
    const [state, detail]: [GitlabHealth["state"], string] =
      "error" in answer
        ? ["unreachable", answer.error]
        : answer.status === 401 || answer.status === 403
          ? ["refused", `answered ${answer.status}`]
          : answer.status >= 500
            ? ["failing", `answered ${answer.status}`]
            : ["ok", ""];
    if (state !== health.state || detail !== health.detail)
      health = { state, since: state === health.state ? health.since : new Date(), detail };
  };
  const requesterFn = createRequesterFn({
    pacer,
    timeoutMs: config.timeoutMs,
    retry: { ...DEFAULT_RETRY, ...deps.retry },
    logger,
    counters,
    onAnswer,
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

  const legacyUrls = new Set((config.webhookLegacyUrls ?? []).map(normalizeHookUrl));
  const isLegacy = (url: string | undefined) => url !== undefined && legacyUrls.has(normalizeHookUrl(url));

  async function listHooks(projectId: number): Promise<ListedHook[]> {
    return forProject(
      projectId,
      async () => (await hooks.all(projectId, { perPage: 100 })) as unknown as ListedHook[],
    );
  }

  /** Our hooks: an enabled one first (a project may hold two of ours; one that works is enough). */
  const oursOf = (all: ListedHook[]) =>
    all
      .filter((h) => h.url === config.webhookUrl)
      .sort((a, b) => Number(disabledKind(a) !== null) - Number(disabledKind(b) !== null));

  function hookCheckOf(all: ListedHook[]): HookCheck {
    const legacy = all.some((h) => isLegacy(h.url));
    const ours = oursOf(all)[0];
    if (!ours) return { state: "missing", legacy };
    const kind = disabledKind(ours);
    if (kind === null) return { state: "ok", legacy };
    const until = ours.disabled_until ? new Date(ours.disabled_until) : null;
    return { state: "disabled", alertStatus: kind, disabledUntil: until, legacy };
  }

  async function checkHook(projectId: number): Promise<HookCheck> {
    return hookCheckOf(await listHooks(projectId));
  }

  async function isMonitored(projectId: number): Promise<boolean> {
    const check = await checkHook(projectId);
    return check.state === "ok" && !check.legacy;
  }

  /** "Trigger a test project webhook": true when GitLab answers 201 (our receiver said 2xx). */
  async function testHook(projectId: number, hookId: number): Promise<{ ok: boolean; reason: string }> {
    try {
      await forProject(projectId, () =>
        // the resource is rooted at /projects/
        hooks.requester.post(`${projectId}/hooks/${hookId}/test/push_events`, {}),
      );
      return { ok: true, reason: "" };
    } catch (err) {
      // 422: the receiver did not answer 2xx (GitLab's message says what it got instead)
      if (err instanceof GitlabError && err.upstreamStatus === 422) return { ok: false, reason: err.message };
      throw err;
    }
  }

  /**
   * GitLab's documented way back for a hook it disabled: a test request, which re-enables the
   * hook when our receiver answers 2xx. When it does not (a wrong secret token, push events
   * switched off…), the hook is edited in place to our settings (same id: an edit alone does not
   * re-enable it) and tested once more.
   */
  async function reenable(
    projectId: number,
    hook: ListedHook,
  ): Promise<Pick<HookResult, "outcome" | "reenabledBy" | "reason">> {
    const first = await testHook(projectId, hook.id);
    if (first.ok) return { outcome: "reenabled", reenabledBy: "test" };
    await forProject(projectId, () => hooks.edit(projectId, hook.id, config.webhookUrl, hookSettings()));
    const second = await testHook(projectId, hook.id);
    if (second.ok) return { outcome: "reenabled", reenabledBy: "edit" };
    return { outcome: "still_disabled", reason: second.reason };
  }

  const hookSettings = () => ({
    pushEvents: true,
    enableSslVerification: true,
    ...(config.webhookSecret !== "" ? { token: config.webhookSecret } : {}),
  });

  async function createHook(projectId: number): Promise<HookResult> {
    const all = await listHooks(projectId);
    const legacy = all.filter((h) => isLegacy(h.url));
    let result: HookResult = { outcome: "exists" };
    let adoptedId: number | undefined;
    const ours = oursOf(all)[0];
    const kind = ours ? disabledKind(ours) : null;
    if (ours && kind !== null) {
      const disabled = {
        alertStatus: kind,
        disabledUntil: ours.disabled_until ? new Date(ours.disabled_until) : null,
      };
      result = { ...(await reenable(projectId, ours)), disabled };
      logger.debug("disabled webhook found", { projectId, hookId: ours.id, ...disabled, ...result });
    } else if (!ours) {
      const first = legacy[0];
      if (first) {
        // The url changes, so GitLab resets the token unless we send ours with it.
        await forProject(projectId, () => hooks.edit(projectId, first.id, config.webhookUrl, hookSettings()));
        adoptedId = first.id;
        result = { outcome: "adopted" };
        logger.info("legacy webhook adopted", { projectId, hookId: first.id });
      } else {
        await forProject(projectId, () => hooks.add(projectId, config.webhookUrl, hookSettings()));
        result = { outcome: "created" };
        logger.debug("webhook created", { projectId }); // the handler logs it at info, with the message
      }
    }
    for (const h of legacy) {
      if (h.id === adoptedId) continue;
      try {
        await forProject(projectId, () => hooks.remove(projectId, h.id));
        logger.info("legacy webhook deleted", { projectId, hookId: h.id });
      } catch (err) {
        if (!isNotFound(err)) throw err; // already gone: what we wanted
      }
    }
    return result;
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

  /** GET /projects/:id as GitLab answers it; null when the project does not exist. */
  async function showProject(projectId: number): Promise<RawProject | null> {
    try {
      return await forProject(
        projectId,
        async () => (await projects.show(projectId)) as unknown as RawProject,
      );
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** `known`: the project as just read from GitLab, so the caller's lookup is not repeated. */
  async function membership(projectId: number, known?: RawProject): Promise<"member" | "outside" | "gone"> {
    const raw = known ?? (await showProject(projectId));
    if (raw === null) return "gone";
    const g = await resolveGroup();
    const project = toGitlabProject(raw);
    if (isIgnoredProject(config.ignoreProjects, project.path)) return "outside";
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

    projectSource(perPage = 100, sourceOpts = {}) {
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
        prefetch: sourceOpts.prefetch,
      });
    },

    isMonitored,

    checkHook,

    createHook,

    getProject,

    async readProject(projectId) {
      const raw = await showProject(projectId);
      if (!raw) return null;
      const member = await membership(projectId, raw);
      if (member === "gone") return null;
      return {
        project: toGitlabProject(raw),
        membership: member,
        groupPath: (await resolveGroup()).fullPath,
      };
    },

    ...createRepositoryReads({ commits, files, forProject }),

    health: () => ({ ...health }),

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
