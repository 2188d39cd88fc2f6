/**
 * The simulator's data: namespaces (the item group, its subgroups, an outside namespace whose
 * projects are shared into the group), projects kept sorted by id, hooks, commits and one
 * `item.json` per project. Sized for 100,000 projects: hooks and commits of a project are only
 * materialised when something reads or changes them, and the filtered, ordered views that list
 * endpoints page through are cached until the next mutation.
 */

export interface SimNamespace {
  id: number;
  name: string;
  path: string;
  fullPath: string;
  parentId: number | null;
}

export interface SimHook {
  id: number;
  url: string;
  projectId: number;
  pushEvents: boolean;
  enableSslVerification: boolean;
  token: string;
  createdAt: string;
}

export interface SimCommit {
  id: string;
  title: string;
  message: string;
  committedDate: string;
  parentIds: string[];
  files: Map<string, string>; // the tree at this commit: path -> content
}

export interface SimProject {
  id: number;
  name: string;
  path: string;
  namespaceId: number;
  sharedWith: number[]; // group ids this project is shared into
  archived: boolean;
  defaultBranch: string | null;
  createdAt: string;
  lastActivityAt: string;
  hooks?: SimHook[];
  commits?: SimCommit[]; // newest first, all on the default branch
}

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
};

/** The replaced service's hook url (its in-cluster Service), as the seed's hooks point at it. */
export const LEGACY_HOOK_URL = "http://ap-imrt-iis-service/webHook";

const BASE_TIME = Date.UTC(2024, 0, 1);

/** A deterministic value in [0, 1) per (id, salt): the seed decides the same way every run. */
function unit(id: number, salt: number): number {
  let h = (id * 2654435761) ^ (salt * 40503);
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

export function fakeSha(...parts: Array<string | number>): string {
  const hasher = new Bun.CryptoHasher("sha1");
  hasher.update(parts.join(":"));
  return hasher.digest("hex");
}

export function createSimState(seedInput: Partial<SeedOptions> = {}) {
  const seed: SeedOptions = { ...DEFAULT_SEED, ...seedInput };
  const namespaces = new Map<number, SimNamespace>();
  const projects: SimProject[] = []; // sorted by id ascending
  let nextNamespaceId = 1000;
  let nextProjectId = 1;
  let nextHookId = 1;
  let version = 0;
  const views = new Map<string, { version: number; rows: SimProject[] }>();

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

  for (let i = 0; i < seed.projects; i++) {
    const id = nextProjectId;
    const r = unit(id, 1);
    const shared = r < seed.sharedFraction;
    const inSub = !shared && subgroups.length > 0 && r < seed.sharedFraction + seed.subgroupFraction;
    const sub = subgroups[Math.floor(unit(id, 2) * subgroups.length)];
    createProject({
      shared,
      namespaceId: inSub && sub ? sub.id : undefined,
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

  function descendants(groupId: number): Set<number> {
    const out = new Set([groupId]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const ns of namespaces.values()) {
        if (ns.parentId !== null && out.has(ns.parentId) && !out.has(ns.id)) {
          out.add(ns.id);
          grew = true;
        }
      }
    }
    return out;
  }

  /** The group's projects as GitLab's finder selects them, sorted; cached until a mutation. */
  function groupProjects(
    groupId: number,
    f: {
      includeSubgroups: boolean;
      withShared: boolean;
      archived: boolean | null;
      orderBy: string;
      sort: string;
    },
  ): SimProject[] {
    const key = JSON.stringify([groupId, f]);
    const cached = views.get(key);
    if (cached && cached.version === version) return cached.rows;
    const owners = f.includeSubgroups ? descendants(groupId) : new Set([groupId]);
    const rows = projects.filter(
      (p) =>
        (owners.has(p.namespaceId) || (f.withShared && p.sharedWith.some((g) => owners.has(g)))) &&
        (f.archived === null || p.archived === f.archived),
    );
    const dir = f.sort === "asc" ? 1 : -1;
    if (f.orderBy !== "id" || dir === -1) {
      const field = (p: SimProject): string | number =>
        f.orderBy === "name"
          ? p.name
          : f.orderBy === "path"
            ? p.path
            : f.orderBy === "last_activity_at" || f.orderBy === "updated_at"
              ? p.lastActivityAt
              : f.orderBy === "created_at"
                ? p.createdAt
                : p.id;
      rows.sort((a, b) => {
        const x = field(a);
        const y = field(b);
        return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.id - b.id) * dir;
      });
    }
    views.set(key, { version, rows });
    return rows;
  }

  function hooksOf(p: SimProject): SimHook[] {
    if (!p.hooks) {
      p.hooks = [];
      const createdAt = p.createdAt;
      if (unit(p.id, 6) < (seed.legacyHookFraction ?? 0)) {
        p.hooks.push(newHook(p.id, seed.legacyHookUrl ?? LEGACY_HOOK_URL, createdAt));
      }
      if (unit(p.id, 5) < seed.otherHookFraction) {
        p.hooks.push(newHook(p.id, "https://ci.example.org/hook", createdAt));
      }
      if (unit(p.id, 4) < seed.monitoredFraction) {
        p.hooks.push(newHook(p.id, seed.webhookUrl, createdAt));
      }
    }
    return p.hooks;
  }

  function newHook(projectId: number, url: string, createdAt: string, extra: Partial<SimHook> = {}): SimHook {
    return {
      id: nextHookId++,
      url,
      projectId,
      pushEvents: true,
      enableSslVerification: true,
      token: "",
      createdAt,
      ...extra,
    };
  }

  function commitsOf(p: SimProject): SimCommit[] {
    if (!p.commits) {
      const item = { id: p.id, title: p.name, version: 1 };
      p.commits = [
        {
          id: fakeSha(p.id, 1),
          title: "Initial item",
          message: "Initial item\n",
          committedDate: p.createdAt,
          parentIds: [],
          files: new Map([
            ["item.json", `${JSON.stringify(item, null, 2)}\n`],
            ["README.md", `# ${p.name}\n`],
          ]),
        },
      ];
    }
    return p.commits;
  }

  return {
    seed,
    group,
    subgroups,
    outside,
    namespaces,
    projects,
    project,
    findNamespace,
    findProject,
    fullPathOf,
    groupProjects,
    hooksOf,
    commitsOf,
    /** Adds a hook as POST /hooks does. */
    addHook(p: SimProject, fields: Partial<SimHook> & { url: string }): SimHook {
      const hook = newHook(p.id, fields.url, new Date().toISOString(), fields);
      hooksOf(p).push(hook);
      return hook;
    },
    /** Edits a hook in place as PUT /hooks/:hook_id does: same id, new attributes. */
    editHook(hook: SimHook, changes: Partial<Omit<SimHook, "id" | "projectId" | "createdAt">>): SimHook {
      Object.assign(hook, changes);
      return hook;
    },
    /** Removes a hook as DELETE /hooks/:hook_id does; false when the project has no such hook. */
    removeHook(p: SimProject, hookId: number): boolean {
      const hooks = hooksOf(p);
      const i = hooks.findIndex((h) => h.id === hookId);
      if (i < 0) return false;
      hooks.splice(i, 1);
      return true;
    },
    /** New projects get ids above every existing one, as in GitLab. */
    addProject(opts: { namespaceId?: number; shared?: boolean; archived?: boolean } = {}): SimProject {
      return createProject(opts);
    },
    removeProject(id: number): boolean {
      const i = indexOf(id);
      if (i < 0) return false;
      projects.splice(i, 1);
      touch();
      return true;
    },
    /** Transfers a project to the outside namespace: it leaves the group but keeps its id. */
    moveOut(id: number): boolean {
      const p = project(id);
      if (!p) return false;
      p.namespaceId = outside.id;
      p.sharedWith = [];
      touch();
      return true;
    },
    /**
     * Transfers a project into the group (as PUT /projects/:id/transfer does): it keeps its id,
     * so in the id-ordered listing it can land at any offset, before a running scan's position.
     */
    moveIn(id: number): boolean {
      const p = project(id);
      if (!p) return false;
      p.namespaceId = group.id;
      touch();
      return true;
    },
    setArchived(id: number, archived: boolean): void {
      const p = project(id);
      if (p) {
        p.archived = archived;
        touch();
      }
    },
    /** Pushes a commit on the default branch; `files` replaces or adds paths. */
    pushCommit(id: number, opts: { files?: Record<string, string>; title?: string } = {}): SimCommit {
      const p = project(id);
      if (!p) throw new Error(`no project ${id}`);
      const commits = commitsOf(p);
      const parent = commits[0];
      const files = new Map(parent?.files ?? []);
      for (const [path, content] of Object.entries(opts.files ?? {})) files.set(path, content);
      const n = commits.length + 1;
      const now = new Date(
        Math.max(Date.now(), Date.parse(parent?.committedDate ?? "0") + 1000),
      ).toISOString();
      const title = opts.title ?? `Update item (${n})`;
      const commit: SimCommit = {
        id: fakeSha(p.id, n, now),
        title,
        message: `${title}\n`,
        committedDate: now,
        parentIds: parent ? [parent.id] : [],
        files,
      };
      commits.unshift(commit);
      // Lazily, as GitLab does: only when the last bump is older than the throttle interval.
      if (Date.parse(p.lastActivityAt) <= Date.now() - seed.activityThrottleMs) {
        p.lastActivityAt = new Date().toISOString();
      }
      touch();
      return commit;
    },
    /** Renames a project (its name, its path or both), as GitLab's project settings do: no activity. */
    renameProject(id: number, changes: { name?: string; path?: string }): void {
      const p = project(id);
      if (!p) throw new Error(`no project ${id}`);
      if (changes.name !== undefined) p.name = changes.name;
      if (changes.path !== undefined) p.path = changes.path;
      touch();
    },
    /** Points the default branch at another name for the same history (no activity either). */
    setDefaultBranch(id: number, branch: string): void {
      const p = project(id);
      if (!p) throw new Error(`no project ${id}`);
      p.defaultBranch = branch;
      touch();
    },
  };
}

export type SimState = ReturnType<typeof createSimState>;
