/**
 * The simulator's REST routes under /api/v4, answering as GitLab's documentation says: group
 * and group-projects lookup by id or URL-encoded full path, project hooks (list, get, create,
 * edit, delete, test), system hooks (list, add, test, delete), the project, and the repository
 * routes of gitlab-routes-repository.ts. Faults, pacing and auth live in gitlab.ts.
 */
import { type HookDeliveries, TEST_TRIGGERS } from "./gitlab-hooks.ts";
import { hookJson, paginate, projectJson, systemHookJson } from "./gitlab-json.ts";
import { bool, json, matchRepositoryRoute, notFound, type RouteMatch } from "./gitlab-routes-repository.ts";
import type { SimHook, SimProject, SimState } from "./gitlab-state.ts";
import { systemHookPayload } from "./gitlab-system-hooks.ts";

export { notFound, type RouteMatch };

/** What the routes need besides the state: the clock hooks are judged by, and deliveries. */
export interface RouteContext {
  now: () => number;
  hooks: HookDeliveries;
  /** true when this client may test one more hook of the project now (GitLab: 5 a minute) */
  allowHookTest: (projectId: number) => boolean;
}

/** Finds the route for a request; null when no route matches (GitLab answers 404). */
export function matchRoute(
  state: SimState,
  req: Request,
  url: URL,
  base: string,
  ctx: RouteContext,
): RouteMatch | null {
  const raw = url.pathname.split("/").slice(3); // drop "", "api", "v4"
  const seg = raw.map((s) => decodeURIComponent(s));
  const method = req.method;
  const [head, id, sub, ...rest] = seg;

  if (head === "hooks") return matchSystemHookRoute(state, req, url, id, sub);

  if (head === "groups" && id !== undefined) {
    const ns = state.findNamespace(id);
    if (sub === undefined && method === "GET") {
      return {
        name: "GET /groups/:id",
        handle: () =>
          ns
            ? json({
                id: ns.id,
                name: ns.name,
                path: ns.path,
                full_name: ns.fullPath.split("/").join(" / "),
                full_path: ns.fullPath,
                parent_id: ns.parentId,
                visibility: "private",
                web_url: `${base}/groups/${ns.fullPath}`,
              })
            : notFound("Group"),
      };
    }
    if (sub === "projects" && rest.length === 0 && method === "GET") {
      return {
        name: "GET /groups/:id/projects",
        handle: () => {
          if (!ns) return notFound("Group");
          const q = url.searchParams;
          const rows = state.groupProjects(ns.id, {
            includeSubgroups: bool(q.get("include_subgroups")) ?? false,
            withShared: bool(q.get("with_shared")) ?? true, // GitLab's default is true
            archived: bool(q.get("archived")),
            orderBy: q.get("order_by") ?? "created_at",
            sort: q.get("sort") === "asc" ? "asc" : "desc",
          });
          const { page, headers } = paginate(url, rows);
          const simple = bool(q.get("simple")) ?? false;
          return json(
            page.map((p) => projectJson(state, base, p, simple)),
            200,
            headers,
          );
        },
      };
    }
    return null;
  }

  if (head !== "projects" || id === undefined) return null;
  const project = () => state.findProject(id);

  if (sub === undefined && method === "GET") {
    return {
      name: "GET /projects/:id",
      handle: () => {
        const p = project();
        return p ? json(projectJson(state, base, p, false)) : notFound("Project");
      },
    };
  }
  if (sub === "hooks" && rest.length === 0 && method === "GET") {
    return {
      name: "GET /projects/:id/hooks",
      handle: () => {
        const p = project();
        if (!p) return notFound("Project");
        const { page, headers } = paginate(url, state.hooksOf(p));
        const now = ctx.now();
        return json(
          page.map((h) => hookJson(h, now)),
          200,
          headers,
        );
      },
    };
  }
  if (sub === "hooks" && rest.length === 0 && method === "POST") {
    return {
      name: "POST /projects/:id/hooks",
      handle: async () => {
        const p = project();
        if (!p) return notFound("Project");
        const body = await readBody(req, url);
        const hookUrl = typeof body.url === "string" ? body.url : "";
        if (hookUrl === "") return json({ error: "url is missing" }, 400);
        const hook = state.addHook(p, {
          url: hookUrl,
          pushEvents: bool(String(body.push_events ?? "true")) ?? true,
          enableSslVerification: bool(String(body.enable_ssl_verification ?? "true")) ?? true,
          token: typeof body.token === "string" ? body.token : "",
        });
        return json(hookJson(hook, ctx.now()), 201);
      },
    };
  }
  if (sub === "hooks" && rest.length >= 1) {
    const hookId = Number(rest[0]);
    const findHook = (p: SimProject) => state.hooksOf(p).find((h) => h.id === hookId);
    const other = matchHookRoute(req, ctx, project, findHook, rest);
    if (other) return other;
    if (rest.length !== 1 || (method !== "PUT" && method !== "DELETE")) return null;
    if (method === "PUT") {
      // "Edit a project webhook": url is required; attributes not sent keep their values; a
      // changed url resets the secret token unless the request sets one. Answers the hook.
      return {
        name: "PUT /projects/:id/hooks/:hook_id",
        handle: async () => {
          const p = project();
          if (!p) return notFound("Project");
          const hook = findHook(p);
          if (!hook) return json({ message: "404 Not found" }, 404); // GitLab's answer for a missing record
          const body = await readBody(req, url);
          const hookUrl = typeof body.url === "string" ? body.url : "";
          if (hookUrl === "") return json({ error: "url is missing" }, 400);
          const changes: Partial<SimHook> = { url: hookUrl };
          if (body.push_events !== undefined) changes.pushEvents = bool(String(body.push_events)) ?? true;
          if (body.enable_ssl_verification !== undefined)
            changes.enableSslVerification = bool(String(body.enable_ssl_verification)) ?? true;
          if (typeof body.token === "string") changes.token = body.token;
          else if (hookUrl !== hook.url) changes.token = "";
          // GitLab keeps the hook's failure state across an edit: re-enabling takes a test request
          return json(hookJson(state.editHook(hook, changes), ctx.now()));
        },
      };
    }
    // "Delete project webhook": 204 without a body; an unknown hook is a 404.
    return {
      name: "DELETE /projects/:id/hooks/:hook_id",
      handle: () => {
        const p = project();
        if (!p) return notFound("Project");
        const hook = findHook(p);
        if (!hook) return json({ message: "404 Not found" }, 404); // GitLab's answer for a missing record
        state.removeHook(p, hook.id);
        return new Response(null, { status: 204 });
      },
    };
  }
  if (sub === "repository") return matchRepositoryRoute(state, req, url, base, project, rest);
  return null;
}

/** GET one hook, and "Trigger a test project webhook" (docs.gitlab.com/api/project_webhooks/). */
function matchHookRoute(
  req: Request,
  ctx: RouteContext,
  project: () => SimProject | undefined,
  findHook: (p: SimProject) => SimHook | undefined,
  rest: string[],
): RouteMatch | null {
  if (rest.length === 1 && req.method === "GET") {
    return {
      name: "GET /projects/:id/hooks/:hook_id",
      handle: () => {
        const p = project();
        if (!p) return notFound("Project");
        const hook = findHook(p);
        return hook ? json(hookJson(hook, ctx.now())) : json({ message: "404 Not found" }, 404);
      },
    };
  }
  if (rest.length === 3 && rest[1] === "test" && req.method === "POST") {
    const trigger = rest[2] ?? "";
    return {
      name: "POST /projects/:id/hooks/:hook_id/test/:trigger",
      handle: async () => {
        const p = project();
        if (!p) return notFound("Project");
        const hook = findHook(p);
        if (!hook) return json({ message: "404 Not found" }, 404);
        if (!TEST_TRIGGER_SET.has(trigger))
          return json({ error: "trigger does not have a valid value" }, 400);
        if (!ctx.allowHookTest(p.id)) {
          return json(
            { message: { error: "This endpoint has been requested too many times. Try again later." } },
            429,
          );
        }
        const result = await ctx.hooks.testHook(hook, trigger);
        return json(result.body, result.status);
      },
    };
  }
  return null;
}

const TEST_TRIGGER_SET = new Set<string>(TEST_TRIGGERS);

/**
 * System hooks (docs.gitlab.com/api/system_hooks/): list, add, test (a sample project_create
 * answered back, nothing sent), delete. The simulator's one token is an administrator's.
 */
function matchSystemHookRoute(
  state: SimState,
  req: Request,
  url: URL,
  id: string | undefined,
  sub: string | undefined,
): RouteMatch | null {
  const method = req.method;
  if (id === undefined && method === "GET") {
    return {
      name: "GET /hooks",
      handle: () => {
        const { page, headers } = paginate(url, state.systemHooks);
        return json(page.map(systemHookJson), 200, headers);
      },
    };
  }
  if (id === undefined && method === "POST") {
    return {
      name: "POST /hooks",
      handle: async () => {
        const body = await readBody(req, url);
        const hookUrl = typeof body.url === "string" ? body.url : "";
        if (hookUrl === "") return json({ error: "url is missing" }, 400);
        const hook = state.addSystemHook(hookUrl, typeof body.token === "string" ? body.token : "");
        return json(systemHookJson(hook), 201);
      },
    };
  }
  if (id !== undefined && sub === undefined && (method === "POST" || method === "DELETE")) {
    const hook = () => state.systemHooks.find((h) => String(h.id) === id);
    if (method === "DELETE") {
      return {
        name: "DELETE /hooks/:id",
        handle: () => {
          const h = hook();
          if (!h) return json({ message: "404 Not found" }, 404);
          state.removeSystemHook(h.id);
          return new Response(null, { status: 204 });
        },
      };
    }
    return {
      name: "POST /hooks/:id",
      handle: () => {
        if (!hook()) return json({ message: "404 Not found" }, 404);
        const sample = systemHookPayload("project_create", {
          id: 1,
          name: "Ruby",
          path: "ruby",
          pathWithNamespace: "someone/ruby",
          namespaceId: 1,
          namespaceName: "Someone",
          createdAt: new Date().toISOString(),
        });
        return json(sample, 201);
      },
    };
  }
  return null;
}

async function readBody(req: Request, url: URL): Promise<Record<string, unknown>> {
  const type = req.headers.get("content-type") ?? "";
  const out: Record<string, unknown> = Object.fromEntries(url.searchParams);
  try {
    if (type.includes("application/json")) Object.assign(out, await req.json());
    else if (type.includes("form")) {
      for (const [k, v] of (await req.formData()).entries()) out[k] = String(v);
    }
  } catch {
    // a malformed body is treated as empty, GitLab then reports the missing field
  }
  return out;
}
