/**
 * The group-projects listing of the simulator's state: the projects GitLab's finder selects for
 * GET /groups/:id/projects (the group's own, its subgroups' with include_subgroups, those shared
 * into it with with_shared, archived or not), in the requested order. Each filtered, sorted view
 * is cached until the state's version moves, so paging through 100,000 projects sorts once.
 */
import type { SimNamespace, SimProject } from "./gitlab-model.ts";

export interface ListingFilter {
  includeSubgroups: boolean;
  withShared: boolean;
  archived: boolean | null;
  orderBy: string;
  sort: string;
}

export function createGroupListing(
  namespaces: Map<number, SimNamespace>,
  projects: readonly SimProject[],
  version: () => number,
) {
  const views = new Map<string, { version: number; rows: SimProject[] }>();

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

  function groupProjects(groupId: number, f: ListingFilter): SimProject[] {
    const key = JSON.stringify([groupId, f]);
    const cached = views.get(key);
    if (cached && cached.version === version()) return cached.rows;
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
    views.set(key, { version: version(), rows });
    return rows;
  }

  return { groupProjects };
}
