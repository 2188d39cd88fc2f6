/**
 * The repository routes of the simulator, answering as GitLab's documentation says:
 * - `GET /projects/:id/repository/commits` (docs.gitlab.com/api/commits/#list-repository-commits):
 *   `ref_name` (default branch when absent), `since`/`until` (ISO 8601, committed date, inclusive,
 *   second precision), `path`, `first_parent`, `order` (`default`, `topo`), `author`, `all`,
 *   `with_stats`, and offset pagination; an unknown ref lists nothing;
 * - `GET /projects/:id/repository/commits/:sha` (a sha or the default branch; `stats` default true);
 * - `GET` and `HEAD /projects/:id/repository/files/:file_path?ref=` (docs.gitlab.com/api/repository_files/):
 *   `ref` required (a branch, `HEAD` or a commit sha); HEAD answers the `X-Gitlab-*` headers alone;
 *   `last_commit_id` is the newest commit at that ref that changed the file;
 * - `GET` and `HEAD /projects/:id/repository/files/:file_path/raw` (`ref` optional, default HEAD).
 */
import {
  type CommitIndex,
  indexCommits,
  lastCommitChanging,
  log,
  parseApiDate,
  resolveRef,
  statsOf,
} from "./gitlab-commits.ts";
import { commitJson, paginate, singleCommitJson } from "./gitlab-json.ts";
import type { SimCommit, SimProject } from "./gitlab-model.ts";
import type { SimState } from "./gitlab-state.ts";

export interface RouteMatch {
  name: string; // e.g. "GET /groups/:id/projects", for recording
  handle: () => Promise<Response> | Response;
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

export const notFound = (what: string) => json({ message: `404 ${what} Not Found` }, 404);

/** Grape's answer to a parameter that fails validation. */
export const invalid = (param: string, why = "is invalid") => json({ error: `${param} ${why}` }, 400);

export function bool(v: string | null): boolean | null {
  if (v === null || v === "") return null;
  return v === "true" || v === "1" || v === "yes";
}

/** git's object id of a blob: sha1 of "blob <size>\0<content>". */
function blobId(bytes: Buffer): string {
  const hasher = new Bun.CryptoHasher("sha1");
  hasher.update(`blob ${bytes.length}\0`);
  hasher.update(bytes);
  return hasher.digest("hex");
}

function fileFacts(commits: SimCommit[], index: CommitIndex, at: SimCommit, filePath: string, ref: string) {
  const content = at.files.get(filePath);
  if (content === undefined) return null;
  const bytes = Buffer.from(content, "utf8");
  const sha = new Bun.CryptoHasher("sha256");
  sha.update(bytes);
  const last = lastCommitChanging(at, index, filePath) ?? commits.at(-1) ?? at;
  return {
    bytes,
    meta: {
      file_name: filePath.split("/").at(-1) ?? filePath,
      file_path: filePath,
      size: bytes.length,
      encoding: "base64",
      content_sha256: sha.digest("hex"),
      ref,
      blob_id: blobId(bytes),
      commit_id: at.id,
      last_commit_id: last.id,
      execute_filemode: false,
    },
  };
}

function fileHeaders(meta: NonNullable<ReturnType<typeof fileFacts>>["meta"]): Record<string, string> {
  return {
    "X-Gitlab-Blob-Id": meta.blob_id,
    "X-Gitlab-Commit-Id": meta.commit_id,
    "X-Gitlab-Content-Sha256": meta.content_sha256,
    "X-Gitlab-Encoding": meta.encoding,
    "X-Gitlab-File-Name": meta.file_name,
    "X-Gitlab-File-Path": meta.file_path,
    "X-Gitlab-Last-Commit-Id": meta.last_commit_id,
    "X-Gitlab-Ref": meta.ref,
    "X-Gitlab-Size": String(meta.size),
    "X-Gitlab-Execute-Filemode": String(meta.execute_filemode),
  };
}

/** Matches /projects/:id/repository/…; `rest` is what follows "repository". */
export function matchRepositoryRoute(
  state: SimState,
  req: Request,
  url: URL,
  base: string,
  project: () => SimProject | undefined,
  rest: string[],
): RouteMatch | null {
  const method = req.method;
  const [what, ...tail] = rest;
  const q = url.searchParams;

  if (what === "commits" && tail.length === 0 && method === "GET") {
    return {
      name: "GET /projects/:id/repository/commits",
      handle: () => {
        const p = project();
        if (!p) return notFound("Project");
        const since = q.get("since");
        const until = q.get("until");
        const sinceS = parseApiDate(since);
        const untilS = parseApiDate(until);
        if (since !== null && since !== "" && sinceS === null) return invalid("since");
        if (until !== null && until !== "" && untilS === null) return invalid("until");
        const order = q.get("order") ?? "default";
        if (order !== "default" && order !== "topo") return invalid("order", "does not have a valid value");
        const commits = state.historyOf(p);
        const index = indexCommits(commits);
        const tip = resolveRef(commits, p.defaultBranch, q.get("ref_name"));
        let rows = tip
          ? log(tip, index, {
              since: sinceS ?? undefined,
              until: untilS ?? undefined,
              path: q.get("path") || undefined,
              firstParent: bool(q.get("first_parent")) ?? false,
              order,
            })
          : [];
        const author = q.get("author");
        if (author) {
          const re = new RegExp(author.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
          rows = rows.filter((c) => re.test(`${c.authorName} <${c.authorEmail}>`));
        }
        const { page, headers } = paginate(url, rows);
        const path = state.fullPathOf(p);
        const withStats = bool(q.get("with_stats")) ?? false;
        return json(
          page.map((c) =>
            withStats
              ? { ...commitJson(base, path, c), stats: statsOf(c, index) }
              : commitJson(base, path, c),
          ),
          200,
          headers,
        );
      },
    };
  }

  if (what === "commits" && tail.length === 1 && method === "GET") {
    return {
      name: "GET /projects/:id/repository/commits/:sha",
      handle: () => {
        const p = project();
        if (!p) return notFound("Project");
        const commits = state.historyOf(p);
        const c = resolveRef(commits, p.defaultBranch, tail[0] ?? "");
        if (!c || commits.length === 0) return notFound("Commit");
        const index = indexCommits(commits);
        const stats = (bool(q.get("stats")) ?? true) ? statsOf(c, index) : null;
        return json(singleCommitJson(base, p, state.fullPathOf(p), c, stats));
      },
    };
  }

  if (what === "files" && tail.length >= 1 && (method === "GET" || method === "HEAD")) {
    const raw = tail.length >= 2 && tail.at(-1) === "raw";
    const filePath = (raw ? tail.slice(0, -1) : tail).join("/");
    return {
      name: `${method} /projects/:id/repository/files/:file_path${raw ? "/raw" : ""}`,
      handle: () => {
        const head = method === "HEAD";
        const p = project();
        if (!p) return head ? new Response(null, { status: 404 }) : notFound("Project");
        const ref = q.get("ref");
        if (!raw && (ref === null || ref === "")) {
          return head ? new Response(null, { status: 400 }) : json({ error: "ref is missing" }, 400);
        }
        const commits = state.historyOf(p);
        const at = resolveRef(commits, p.defaultBranch, ref);
        if (!at) return head ? new Response(null, { status: 404 }) : notFound("Commit");
        const facts = fileFacts(commits, indexCommits(commits), at, filePath, ref || "HEAD");
        if (!facts) return head ? new Response(null, { status: 404 }) : notFound("File");
        const headers = fileHeaders(facts.meta);
        if (head) return new Response(null, { status: 200, headers });
        if (raw) {
          return new Response(facts.bytes, {
            status: 200,
            headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
          });
        }
        return json({ ...facts.meta, content: facts.bytes.toString("base64") }, 200, headers);
      },
    };
  }
  return null;
}
