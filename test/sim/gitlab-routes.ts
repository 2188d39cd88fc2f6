/**
 * The simulator's REST routes under /api/v4, answering as GitLab's documentation says: group
 * and group-projects lookup by id or URL-encoded full path, project hooks (list, create, edit and
 * delete),
 * project, commits and repository files. Faults, pacing and auth live in gitlab.ts.
 */
import { commitJson, hookJson, paginate, projectJson } from "./gitlab-json.ts";
import { fakeSha, type SimCommit, type SimHook, type SimProject, type SimState } from "./gitlab-state.ts";

export interface RouteMatch {
  name: string; // e.g. "GET /groups/:id/projects", for recording
  handle: () => Promise<Response> | Response;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

export const notFound = (what: string) => json({ message: `404 ${what} Not Found` }, 404);

function bool(v: string | null): boolean | null {
  if (v === null || v === "") return null;
  return v === "true" || v === "1" || v === "yes";
}

function resolveRef(state: SimState, p: SimProject, ref: string | null): SimCommit | undefined {
  const commits = state.commitsOf(p);
  if (ref === null || ref === "" || ref === p.defaultBranch || ref === "HEAD") return commits[0];
  if (/^[0-9a-f]{7,40}$/.test(ref)) return commits.find((c) => c.id.startsWith(ref));
  return undefined;
}

/** Finds the route for a request; null when no route matches (GitLab answers 404). */
export function matchRoute(state: SimState, req: Request, url: URL, base: string): RouteMatch | null {
  const raw = url.pathname.split("/").slice(3); // drop "", "api", "v4"
  const seg = raw.map((s) => decodeURIComponent(s));
  const method = req.method;
  const [head, id, sub, ...rest] = seg;

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
        return json(page.map(hookJson), 200, headers);
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
        return json(hookJson(hook), 201);
      },
    };
  }
  if (sub === "hooks" && rest.length === 1 && (method === "PUT" || method === "DELETE")) {
    const hookId = Number(rest[0]);
    const findHook = (p: SimProject) => state.hooksOf(p).find((h) => h.id === hookId);
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
          return json(hookJson(state.editHook(hook, changes)));
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
  if (sub === "repository" && rest[0] === "commits" && rest.length === 1 && method === "GET") {
    return {
      name: "GET /projects/:id/repository/commits",
      handle: () => {
        const p = project();
        if (!p) return notFound("Project");
        const top = resolveRef(state, p, url.searchParams.get("ref_name"));
        const commits = state.commitsOf(p);
        const history = top ? commits.slice(commits.indexOf(top)) : [];
        const { page, headers } = paginate(url, history);
        const path = state.fullPathOf(p);
        return json(
          page.map((c) => commitJson(base, path, c)),
          200,
          headers,
        );
      },
    };
  }
  if (sub === "repository" && rest[0] === "files" && rest[1] !== undefined && method === "GET") {
    return {
      name: "GET /projects/:id/repository/files/:file_path",
      handle: () => {
        const p = project();
        if (!p) return notFound("Project");
        const ref = url.searchParams.get("ref");
        if (ref === null || ref === "") return json({ error: "ref is missing" }, 400);
        const commit = resolveRef(state, p, ref);
        if (!commit) return notFound("Commit");
        const filePath = rest.slice(1).join("/");
        const content = commit.files.get(filePath);
        if (content === undefined) return notFound("File");
        const bytes = Buffer.from(content, "utf8");
        const name = filePath.split("/").at(-1) ?? filePath;
        const hasher = new Bun.CryptoHasher("sha256");
        hasher.update(bytes);
        return json({
          file_name: name,
          file_path: filePath,
          size: bytes.length,
          encoding: "base64",
          content_sha256: hasher.digest("hex"),
          ref,
          blob_id: fakeSha("blob", content),
          commit_id: commit.id,
          last_commit_id: lastCommitTouching(state.commitsOf(p), commit, filePath),
          execute_filemode: false,
          content: bytes.toString("base64"),
        });
      },
    };
  }
  return null;
}

function lastCommitTouching(commits: SimCommit[], at: SimCommit, path: string): string {
  const content = at.files.get(path);
  let last = at;
  for (let i = commits.indexOf(at) + 1; i < commits.length; i++) {
    const c = commits[i];
    if (!c || c.files.get(path) !== content) break;
    last = c;
  }
  return last.id;
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
