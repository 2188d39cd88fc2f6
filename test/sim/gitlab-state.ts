/**
 * The simulator's data: namespaces (the item group, its subgroups, an outside namespace whose
 * projects are shared into the group), projects kept sorted by id, project hooks, system hooks,
 * and each project's repository (gitlab-repository.ts: an IAT item's history, generated from the
 * project id). Sized for 100,000 projects: hooks and histories of a project are only
 * materialised when something changes them, and the filtered, ordered views that list
 * endpoints page through are cached until the next mutation (gitlab-state-listing.ts).
 *
 * Changes that GitLab announces (a push, a project created, destroyed, renamed or transferred)
 * are emitted to `onEvent` listeners: gitlab.ts turns them into hook deliveries.
 */
import type { ProjectSnapshot, SimEvent, SimNamespace, SimProject } from "./gitlab-model.ts";
import { type CommitSpec, createRepositories, isoOf } from "./gitlab-repository.ts";
import { createHookStore, LEGACY_HOOK_URL, type SimSystemHook } from "./gitlab-state-hooks.ts";
import { createGroupListing } from "./gitlab-state-listing.ts";
import { fakeSha, unit } from "./sim-random.ts";

export type { SimCommit, SimEvent, SimHook, SimNamespace, SimProject } from "./gitlab-model.ts";
export type { CommitSpec, DateSpec, PersonSpec } from "./gitlab-repository.ts";
export type { SimSystemHook };
export { fakeSha };

export interface SeedOptions {
  projects: number;
  groupPath: string;
  subgroups: number; // projects are spread over the group and this many subgroups
  subgroupFraction: number; // share of projects living in a subgroup
  sharedFraction: number; // share of projects living outside and shared into the group
  archivedFraction: number;
  monitoredFraction: number; // share of projects with a hook pointing at webhookUrl
  otherHookFraction: number; // share of projects with a hook pointing elsewhere
  webhookUrl: string;
  /** Share of projects with a hook of the replaced service (legacyHookUrl), before ours if any. */
  legacyHookFraction?: number;
  legacyHookUrl?: string;
  /**
   * GitLab bumps a project's `last_activity_at` on a push only when the stored value is older
   * than this (Event::RESET_PROJECT_ACTIVITY_INTERVAL, one hour): a push within the hour after
   * the last bump leaves it as it was. Renames never bump it.
   */
  activityThrottleMs: number;
  /** share of projects whose repository has no item.json (README commits only) */
  noItemFraction: number;
  /** share of projects whose item.json at head cannot be read as an item (§4.6) */
  invalidItemFraction: number;
  /**
   * Histories of one shape instead of the bank's mix of 1 to 12 commits (benchmarks): every item
   * takes `commits` commits, at most `statusMoves` of them workflow moves (fewer when its head
   * status is fewer steps from Draft).
   */
  historyShape?: { commits: number; statusMoves: number };
}

export const DEFAULT_SEED: SeedOptions = {
  projects: 100,
  groupPath: "imrt/items",
  subgroups: 3,
  subgroupFraction: 0.2,
  sharedFraction: 0.05,
  archivedFraction: 0,
  monitoredFraction: 0.5,
  otherHookFraction: 0.2,
  webhookUrl: "https://item-sync.example.org/webhooks/gitlab",
  activityThrottleMs: 60 * 60_000,
  noItemFraction: 0.02,
  invalidItemFraction: 0,
};

export { LEGACY_HOOK_URL };

const BASE_TIME = Date.UTC(2024, 0, 1);

/** A project of an explicit seed (`seedProject`): its id, history and files are the test's. */
export interface ProjectSpec {
  id: number;
  name?: string;
  path?: string;
  /** default: the group itself */
  namespaceId?: number;
  shared?: boolean;
  archived?: boolean;
  defaultBranch?: string;
  /** default: the first commit's date */
  createdAt?: string;
  /** default: the last commit's date */
  lastActivityAt?: string;
  /** oldest first; each commit's `files` change the tree of the one before (null deletes) */
  commits: CommitSpec[];
}

export function createSimState(seedInput: Partial<SeedOptions> = {}) {
  const seed: SeedOptions = { ...DEFAULT_SEED, ...seedInput };
  const namespaces = new Map<number, SimNamespace>();
  const projects: SimProject[] = []; // sorted by id ascending
  const listeners: Array<(event: SimEvent) => void> = [];
  let nextNamespaceId = 1000;
  let nextProjectId = 1;
  let version = 0;

  function addNamespace(fullPath: string, parentId: number | null): SimNamespace {
    const path = fullPath.split("/").at(-1) ?? fullPath;
    const ns = { id: nextNamespaceId++, name: path, path, fullPath, parentId };
    namespaces.set(ns.id, ns);
    return ns;
  }
  const parentPath = seed.groupPath.includes("/")
    ? seed.groupPath.slice(0, seed.groupPath.lastIndexOf("/"))
    : null;
  const root = parentPath ? addNamespace(parentPath, null) : null;
  const group = addNamespace(seed.groupPath, root?.id ?? null);
  const subgroups = Array.from({ length: seed.subgroups }, (_, i) =>
    addNamespace(`${seed.groupPath}/sub-${i + 1}`, group.id),
  );
  const outside = addNamespace("elsewhere/shared-items", null);

  function touch() {
    version++;
  }

  function emit(event: SimEvent) {
    for (const fn of listeners) fn(event);
  }

  function snapshot(p: SimProject): ProjectSnapshot {
    return {
      id: p.id,
      name: p.name,
      path: p.path,
      pathWithNamespace: fullPathOf(p),
      namespaceId: p.namespaceId,
      namespaceName: namespaces.get(p.namespaceId)?.name ?? "",
      createdAt: p.createdAt,
    };
  }

  function insertSorted(p: SimProject) {
    let i = projects.length;
    while (i > 0 && (projects[i - 1]?.id ?? 0) > p.id) i--;
    projects.splice(i, 0, p);
  }

  function createProject(
    opts: { namespaceId?: number; shared?: boolean; archived?: boolean } = {},
  ): SimProject {
    const id = nextProjectId++;
    const shared = opts.shared ?? false;
    const namespaceId = opts.namespaceId ?? (shared ? outside.id : group.id);
    const created = new Date(BASE_TIME + id * 60_000).toISOString();
    const project: SimProject = {
      id,
      name: `Item ${id}`,
      path: `item-${id}`,
      namespaceId,
      sharedWith: shared ? [group.id] : [],
      archived: opts.archived ?? false,
      defaultBranch: "main",
      createdAt: created,
      lastActivityAt: created,
    };
    projects.push(project);
    touch();
    return project;
  }

  /** Where the seed puts project `id`: shared in from outside, in a subgroup, or in the group. */
  function seededPlace(id: number): "shared" | "subgroup" | "group" {
    const r = unit(id, 1);
    if (r < seed.sharedFraction) return "shared";
    if (subgroups.length > 0 && r < seed.sharedFraction + seed.subgroupFraction) return "subgroup";
    return "group";
  }

  for (let i = 0; i < seed.projects; i++) {
    const id = nextProjectId;
    const place = seededPlace(id);
    const sub = subgroups[Math.floor(unit(id, 2) * subgroups.length)];
    createProject({
      shared: place === "shared",
      namespaceId: place === "subgroup" && sub ? sub.id : undefined,
      archived: unit(id, 3) < seed.archivedFraction,
    });
  }

  function indexOf(id: number): number {
    let lo = 0;
    let hi = projects.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = projects[mid]?.id ?? 0;
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  function project(id: number): SimProject | undefined {
    const i = indexOf(id);
    return i < 0 ? undefined : projects[i];
  }

  function mustProject(id: number): SimProject {
    const p = project(id);
    if (!p) throw new Error(`no project ${id}`);
    return p;
  }

  function fullPathOf(p: SimProject): string {
    return `${namespaces.get(p.namespaceId)?.fullPath ?? "unknown"}/${p.path}`;
  }

  function findNamespace(idOrPath: string): SimNamespace | undefined {
    if (/^\d+$/.test(idOrPath)) return namespaces.get(Number(idOrPath));
    for (const ns of namespaces.values()) if (ns.fullPath === idOrPath) return ns;
    return undefined;
  }

  function findProject(idOrPath: string): SimProject | undefined {
    if (/^\d+$/.test(idOrPath)) return project(Number(idOrPath));
    return projects.find((p) => fullPathOf(p) === idOrPath);
  }

  const listing = createGroupListing(namespaces, projects, () => version);

  const hooks = createHookStore(seed);

  const repos = createRepositories({
    bank: {
      seededProjects: seed.projects,
      linkable: (id) => seededPlace(id) === "group",
      noItemFraction: seed.noItemFraction,
      invalidItemFraction: seed.invalidItemFraction,
      historyShape: seed.historyShape,
    },
    activityThrottleMs: seed.activityThrottleMs,
    project,
    touch,
    emit,
  });

  /** Moves a project to another namespace, as PUT /projects/:id/transfer does. */
  function transferProject(id: number, namespaceId: number, sharedWith: number[] = []): boolean {
    const p = project(id);
    if (!p) return false;
    const old = fullPathOf(p);
    p.namespaceId = namespaceId;
    p.sharedWith = sharedWith;
    touch();
    emit({ kind: "project_transfer", project: snapshot(p), oldPathWithNamespace: old });
    return true;
  }

  return {
    seed,
    group,
    subgroups,
    outside,
    namespaces,
    projects,
    /** System hooks of the instance: project events go to each (see gitlab-system-hooks.ts). */
    systemHooks: hooks.systemHooks,
    project,
    findNamespace,
    findProject,
    fullPathOf,
    /** The group's projects as GitLab's finder selects them, sorted; cached until a mutation. */
    groupProjects: listing.groupProjects,
    hooksOf: hooks.hooksOf,
    /** The decisions behind a project's generated item (type, item id, stimulus, status…). */
    itemFacts: repos.facts,
    /** A project's commits for reading (generated ones are not stored). */
    historyOf: repos.historyOf,
    /** A project's commits, newest first, kept on the project: a test may change them in place. */
    commitsOf: repos.commitsOf,
    /** Pushes a commit on the default branch; `files` replaces, adds (or with null, deletes) paths. */
    pushCommit: repos.pushCommit,
    /** item.json at the head of the default branch, parsed; null when absent. */
    itemOf: repos.itemOf,
    /** Commits the item.json `mutate` changed (in place or by returning a new document). */
    editItem: repos.editItem,
    /** Commits a change of `workflow.workflowStatusCode` alone (§6.5). */
    setWorkflowStatus: repos.setWorkflowStatus,
    touchItem: repos.touchItem,
    /** Called with every change GitLab announces by hooks; returns the unsubscribe. */
    onEvent(fn: (event: SimEvent) => void): () => void {
      listeners.push(fn);
      return () => {
        const i = listeners.indexOf(fn);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    addHook: hooks.addHook,
    editHook: hooks.editHook,
    removeHook: hooks.removeHook,
    addSystemHook: hooks.addSystemHook,
    removeSystemHook: hooks.removeSystemHook,
    /** New projects get ids above every existing one, as in GitLab (emits project_create). */
    addProject(opts: { namespaceId?: number; shared?: boolean; archived?: boolean } = {}): SimProject {
      const p = createProject(opts);
      emit({ kind: "project_create", project: snapshot(p) });
      return p;
    },
    /**
     * Seeds a project with an explicit id, documents and history (oldest commit first), replacing
     * the project of that id if there is one (its hooks stay). No event: the project was there.
     */
    seedProject(spec: ProjectSpec): SimProject {
      if (spec.commits.length === 0) throw new Error(`project ${spec.id}: a seeded project needs a commit`);
      const firstDate = isoOf(spec.commits[0]?.date ?? spec.createdAt ?? BASE_TIME);
      const commits = repos.buildHistory(spec.id, spec.commits, spec.createdAt ?? firstDate);
      const createdAt = spec.createdAt ?? commits.at(-1)?.committedDate ?? firstDate;
      const fields = {
        name: spec.name ?? `Item ${spec.id}`,
        path: spec.path ?? `item-${spec.id}`,
        namespaceId: spec.namespaceId ?? (spec.shared ? outside.id : group.id),
        sharedWith: spec.shared ? [group.id] : [],
        archived: spec.archived ?? false,
        defaultBranch: spec.defaultBranch ?? "main",
        createdAt,
        lastActivityAt: spec.lastActivityAt ?? commits[0]?.committedDate ?? createdAt,
        commits,
      };
      const existing = project(spec.id);
      if (existing) {
        Object.assign(existing, fields);
        repos.forget(spec.id);
        touch();
        return existing;
      }
      const p: SimProject = { id: spec.id, ...fields };
      insertSorted(p);
      nextProjectId = Math.max(nextProjectId, spec.id + 1);
      touch();
      return p;
    },
    /** Deletes a project (emits project_destroy). */
    removeProject(id: number): boolean {
      const i = indexOf(id);
      const p = projects[i];
      if (i < 0 || !p) return false;
      const gone = snapshot(p);
      projects.splice(i, 1);
      repos.forget(id);
      touch();
      emit({ kind: "project_destroy", project: gone });
      return true;
    },
    transferProject,
    /** Transfers a project to the outside namespace: it leaves the group but keeps its id. */
    moveOut(id: number): boolean {
      return transferProject(id, outside.id);
    },
    /**
     * Transfers a project into the group (as PUT /projects/:id/transfer does): it keeps its id,
     * so in the id-ordered listing it can land at any offset, before a running scan's position.
     */
    moveIn(id: number): boolean {
      return transferProject(id, group.id);
    },
    setArchived(id: number, archived: boolean): void {
      const p = project(id);
      if (p) {
        p.archived = archived;
        touch();
      }
    },
    /**
     * Renames a project (its name, its path or both), as GitLab's project settings do: no
     * activity. A changed path is a `project_rename` system event; a name alone is a
     * `project_update` (docs.gitlab.com/administration/system_hooks/).
     */
    renameProject(id: number, changes: { name?: string; path?: string }): void {
      const p = mustProject(id);
      const old = fullPathOf(p);
      const pathChanged = changes.path !== undefined && changes.path !== p.path;
      if (changes.name !== undefined) p.name = changes.name;
      if (changes.path !== undefined) p.path = changes.path;
      touch();
      if (pathChanged) emit({ kind: "project_rename", project: snapshot(p), oldPathWithNamespace: old });
      else emit({ kind: "project_update", project: snapshot(p) });
    },
    /** Points the default branch at another name for the same history (no activity either). */
    setDefaultBranch(id: number, branch: string): void {
      mustProject(id).defaultBranch = branch;
      touch();
    },
  };
}

export type SimState = ReturnType<typeof createSimState>;
