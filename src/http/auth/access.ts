/**
 * Who may call which route, and what a request may look like before anyone decides.
 *
 * One table, ROUTE_ACCESS, keyed by the method and the route template the router matched
 * (`POST /jobs/:id/reset`), never by a regular expression over the raw path: a trailing slash, a
 * doubled slash or another case is not the same route (the router is strict: 404), and an encoded
 * character that the router decodes into the same route gets the same rule. A route's least role
 * is checked before its query and params are validated (a token lacking it gets 403, never a 422
 * that describes the schema); a role that depends on the query (`allowMassDelete=true`,
 * `force=true`) is decided from the validated query — the very object the handler then reads — so
 * the check and the handler cannot disagree about what the request asked for.
 *
 * A query that names one parameter twice (`?force=false&force=true`, `?force=1&%66orce=2`) is
 * refused on every route: which of the two a reader takes is a choice each parser makes its own
 * way, and two readers making it differently is how a guard gets lifted.
 */
import type { Role } from "../../lib/roles.ts";

export interface RouteAccess {
  /** The least role any call of the route needs; checked before validation. */
  role: Role;
  /** The role this call needs, from the validated query the handler reads (default `role`). */
  roleFor?(query: Readonly<Record<string, unknown>>): Role;
}

/** Every protected route, by `METHOD template`. HEAD is answered as GET. */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  "GET /jobs": { role: "read" },
  "GET /jobs/:id": { role: "read" },
  "GET /items": { role: "read" },
  "GET /items/:projectId": { role: "read" },
  "POST /sync": {
    role: "operate",
    roleFor: (query) => (query.allowMassDelete === "true" ? "admin" : "operate"),
  },
  "POST /sync/:projectId": { role: "operate" },
  "POST /jobs/:id/stop": { role: "operate" },
  "POST /jobs/:id/reset": {
    role: "operate",
    roleFor: (query) => (query.force === "true" ? "admin" : "operate"),
  },
};

/** `/metrics` on the API port when METRICS_PORT serves it to scrapers (see app.ts). */
export const METRICS_ACCESS: RouteAccess = { role: "read" };

export function accessKey(method: string, route: string): string {
  return `${method === "HEAD" ? "GET" : method} ${route}`;
}

/**
 * Paths whose requests are authenticated first, before routing (so an unauthenticated request
 * to any of them gets 401 whatever else is wrong with it). Every route of ROUTE_ACCESS lies
 * under one of these; createApp refuses to build an app where one does not.
 */
export function isProtectedPath(pathname: string, extra: readonly string[] = []): boolean {
  return (
    pathname === "/sync" ||
    pathname.startsWith("/sync/") ||
    pathname === "/jobs" ||
    pathname.startsWith("/jobs/") ||
    pathname === "/items" ||
    pathname.startsWith("/items/") ||
    extra.includes(pathname)
  );
}

/** The first query parameter named twice (after decoding, as every reader decodes), or null. */
export function duplicateQueryKey(search: string): string | null {
  const seen = new Set<string>();
  for (const key of new URLSearchParams(search).keys()) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return null;
}
