/**
 * The commits and repository-files routes against GitLab's documentation:
 * - docs.gitlab.com/api/commits/ — "List repository commits" (ref_name, since, until, path,
 *   first_parent, order, author, with_stats; fields; pagination) and "Get a single commit";
 * - docs.gitlab.com/api/repository_files/ — "Get file from repository" (ref required; HEAD for
 *   metadata in X-Gitlab-* headers; last_commit_id) and "Get raw file from repository".
 * since/until select on the committed date, both inclusive, at second precision: GitLab hands
 * them to git log --since/--until, which compares commit timestamps in whole seconds.
 * Expectations come from explicitly seeded histories, so each is stated, not recomputed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type GitlabSim, startGitlabSim } from "./gitlab.ts";
import type { SimCommit } from "./gitlab-state.ts";

let sim: GitlabSim;
const get = (path: string, init: RequestInit = {}) =>
  fetch(`${sim.url}/api/v4${path}`, { ...init, headers: { "PRIVATE-TOKEN": sim.token } });
const list = async (q: string, project = 601) =>
  (await (await get(`/projects/${project}/repository/commits?${q}`)).json()) as Array<
    Record<string, unknown>
  >;

const V1 = '{"id":"1","v":1}\n';
const V2 = '{"id":"1","v":2}\n';
// project 601, linear: item.json changes in c1 and c2 only
let c: SimCommit[] = []; // oldest first
// project 602, a merge: b on a side branch, c on main, d merges them (item.json from b)
let m: Record<"a" | "b" | "c" | "d", SimCommit>;

beforeAll(() => {
  sim = startGitlabSim({ projects: 200 });
  sim.state.seedProject({
    id: 601,
    commits: [
      {
        date: "2019-01-10T09:00:00Z",
        author: "jdoe",
        title: "Create",
        files: { "item.json": V1, "README.md": "r1\n" },
      },
      {
        date: "2019-03-05T12:00:00Z",
        authoredDate: "2019-02-01T00:00:00Z",
        author: "editor1",
        committer: { name: "IAT Service", email: "iat@example.org" },
        title: "Edit",
        files: { "item.json": V2 },
      },
      {
        date: "2019-03-06T02:00:00Z",
        author: "editor2",
        title: "Readme",
        files: { "README.md": "r1\nr2\n" },
      },
      { date: "2019-04-01T08:00:00Z", author: "admin", title: "Notes", files: { "notes.txt": "n" } },
    ],
  });
  c = sim.state.historyOf(sim.state.project(601)!).reverse();
  sim.state.seedProject({
    id: 602,
    commits: [
      { date: "2020-01-01T00:00:00Z", author: "a", files: { "item.json": V1, "README.md": "r1\n" } },
      { date: "2020-01-02T00:00:00Z", author: "b", files: { "item.json": V2 } },
      { date: "2020-01-03T00:00:00Z", author: "c", parents: [0], files: { "README.md": "r2\n" } },
      { date: "2020-01-04T00:00:00Z", author: "d", parents: [2, 1], files: { "item.json": V2 } },
    ],
  });
  const h = sim.state.historyOf(sim.state.project(602)!);
  const by = (name: string) => h.find((x) => x.authorName === name)!;
  m = { a: by("a"), b: by("b"), c: by("c"), d: by("d") };
});
afterAll(() => sim.close());

const ids = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.id);

describe("GET /projects/:id/repository/commits", () => {
  test("newest first from the default branch, with GitLab's fields", async () => {
    const rows = await list("");
    expect(ids(rows)).toEqual([c[3]?.id, c[2]?.id, c[1]?.id, c[0]?.id]);
    const edit = rows[2];
    expect(edit).toEqual({
      id: c[1]?.id,
      short_id: c[1]?.id.slice(0, 11),
      created_at: "2019-03-05T12:00:00.000Z",
      parent_ids: [c[0]?.id],
      title: "Edit",
      message: "Edit\n",
      author_name: "editor1",
      author_email: expect.stringMatching(/^editor1@/),
      authored_date: "2019-02-01T00:00:00.000Z",
      committer_name: "IAT Service",
      committer_email: "iat@example.org",
      committed_date: "2019-03-05T12:00:00.000Z",
      trailers: {},
      extended_trailers: {},
      web_url: `${sim.url}/imrt/items/item-601/-/commit/${c[1]?.id}`,
    });
  });

  test("since and until select on the committed date, both inclusive, to the second", async () => {
    expect(ids(await list("since=2019-03-05T12:00:00Z"))).toEqual([c[3]?.id, c[2]?.id, c[1]?.id]);
    expect(ids(await list("until=2019-03-05T12:00:00Z"))).toEqual([c[1]?.id, c[0]?.id]);
    expect(ids(await list("until=2019-03-05T11:59:59Z"))).toEqual([c[0]?.id]);
    // a fraction of a second is dropped, as git's timestamps have none
    expect(ids(await list("since=2019-03-05T12:00:00.900Z"))).toContain(c[1]?.id);
    // an offset is honoured
    expect(ids(await list(`since=${encodeURIComponent("2019-03-05T13:00:00+01:00")}`))).toContain(c[1]?.id);
    // authored on 2019-02-01 but committed on 2019-03-05: the committed date decides
    expect(ids(await list("since=2019-02-15T00:00:00Z&until=2019-03-05T23:00:00Z"))).toEqual([c[1]?.id]);
  });

  test("an unparseable since or until is a 400; an unknown ref lists nothing", async () => {
    const bad = await get("/projects/601/repository/commits?since=yesterday");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "since is invalid" });
    expect((await get("/projects/601/repository/commits?until=soon")).status).toBe(400);
    expect(await list("ref_name=no-such-branch")).toEqual([]);
  });

  test("ref_name: the default branch, HEAD or a commit (full or abbreviated) starts the log there", async () => {
    expect(ids(await list("ref_name=main"))).toHaveLength(4);
    expect(ids(await list("ref_name=HEAD"))).toHaveLength(4);
    expect(ids(await list(`ref_name=${c[1]?.id}`))).toEqual([c[1]?.id, c[0]?.id]);
    expect(ids(await list(`ref_name=${c[2]?.id.slice(0, 8)}`))).toEqual([c[2]?.id, c[1]?.id, c[0]?.id]);
  });

  test("path: only the commits that changed that file", async () => {
    expect(ids(await list("path=item.json"))).toEqual([c[1]?.id, c[0]?.id]);
    expect(ids(await list("path=README.md"))).toEqual([c[2]?.id, c[0]?.id]);
    expect(await list("path=nope.txt")).toEqual([]);
  });

  test("author matches name or e-mail; with_stats adds each commit's line counts", async () => {
    expect(ids(await list("author=editor"))).toEqual([c[2]?.id, c[1]?.id]);
    const [notes] = await list("with_stats=true&per_page=1");
    expect(notes?.stats).toEqual({ additions: 1, deletions: 0, total: 1 });
  });

  test("a merge: default order by date, topo keeps the merged line together, first_parent follows main", async () => {
    expect(ids(await list("", 602))).toEqual([m.d.id, m.c.id, m.b.id, m.a.id]);
    expect(ids(await list("order=topo", 602))).toEqual([m.d.id, m.b.id, m.c.id, m.a.id]);
    expect(ids(await list("first_parent=true", 602))).toEqual([m.d.id, m.c.id, m.a.id]);
    expect((await get("/projects/602/repository/commits?order=newest")).status).toBe(400);
  });

  test("a merge with path: the merge follows the parent whose version it kept (git's simplification)", async () => {
    // d kept b's item.json: b is the change, d (the same as b) and c (another line) are not shown
    expect(ids(await list("path=item.json", 602))).toEqual([m.b.id, m.a.id]);
    // d kept c's README.md
    expect(ids(await list("path=README.md", 602))).toEqual([m.c.id, m.a.id]);
    // along the first parents only, d itself brought the side branch's item.json
    expect(ids(await list("path=item.json&first_parent=true", 602))).toEqual([m.d.id, m.a.id]);
  });

  test("a merge that dropped one line's change of the file: that line is pruned from the path's log", async () => {
    sim.state.seedProject({
      id: 603,
      commits: [
        { date: "2020-02-01T00:00:00Z", author: "a", files: { "item.json": V1 } },
        { date: "2020-02-02T00:00:00Z", author: "b", files: { "item.json": V2 } },
        { date: "2020-02-03T00:00:00Z", author: "c", parents: [0], files: { "item.json": "other\n" } },
        { date: "2020-02-04T00:00:00Z", author: "d", parents: [2, 1], files: { "item.json": V2 } },
      ],
    });
    const h = sim.state.historyOf(sim.state.project(603)!);
    const name = (id: unknown) => h.find((x) => x.id === id)?.authorName;
    // d is the same as b: git follows b alone, so c's change (which d dropped) is not listed
    expect((await list("path=item.json", 603)).map((r) => name(r.id))).toEqual(["b", "a"]);
    expect((await list("", 603)).map((r) => name(r.id))).toEqual(["d", "c", "b", "a"]);
  });

  test("pages of per_page with GitLab's pagination headers", async () => {
    const res = await get("/projects/601/repository/commits?per_page=3&page=2");
    expect((await res.json()) as unknown[]).toHaveLength(1);
    expect(res.headers.get("x-page")).toBe("2");
    expect(res.headers.get("x-prev-page")).toBe("1");
    expect(res.headers.get("x-next-page")).toBe("");
  });
});

describe("GET /projects/:id/repository/commits/:sha", () => {
  test("one commit with stats (default on), status and last_pipeline; a branch name works; unknown is 404", async () => {
    const res = await get(`/projects/601/repository/commits/${c[1]?.id}`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: c[1]?.id, status: null, last_pipeline: null, project_id: 601 });
    expect(body.stats).toEqual({ additions: 1, deletions: 1, total: 2 });
    const head = (await (await get("/projects/601/repository/commits/main")).json()) as { id: string };
    expect(head.id).toBe(c[3]?.id as string);
    const noStats = (await (
      await get(`/projects/601/repository/commits/${c[1]?.id}?stats=false`)
    ).json()) as object;
    expect(noStats).not.toHaveProperty("stats");
    const missing = await get("/projects/601/repository/commits/0123456789abcdef");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: "404 Commit Not Found" });
  });
});

describe("repository files", () => {
  const blobId = (s: string) => {
    const h = new Bun.CryptoHasher("sha1");
    h.update(`blob ${Buffer.byteLength(s)}\0${s}`);
    return h.digest("hex");
  };

  test("last_commit_id is the last commit that changed the file at that ref, not the ref's commit", async () => {
    const file = (await (await get("/projects/601/repository/files/item.json?ref=main")).json()) as Record<
      string,
      unknown
    >;
    expect(file).toMatchObject({
      commit_id: c[3]?.id,
      last_commit_id: c[1]?.id,
      ref: "main",
      file_path: "item.json",
    });
    const atC3 = (await (
      await get(`/projects/601/repository/files/item.json?ref=${c[2]?.id}`)
    ).json()) as Record<string, unknown>;
    expect(atC3).toMatchObject({ commit_id: c[2]?.id, last_commit_id: c[1]?.id });
    const atC1 = (await (
      await get(`/projects/601/repository/files/item.json?ref=${c[0]?.id}`)
    ).json()) as Record<string, unknown>;
    expect(atC1.last_commit_id).toBe(c[0]?.id);
    const merged = (await (await get("/projects/602/repository/files/item.json?ref=main")).json()) as Record<
      string,
      unknown
    >;
    expect(merged.last_commit_id).toBe(m.b.id);
  });

  test("GET: base64 content, its sha256, git's blob id, size; ref=HEAD is the default branch", async () => {
    const file = (await (await get("/projects/601/repository/files/item.json?ref=HEAD")).json()) as Record<
      string,
      unknown
    >;
    expect(Buffer.from(String(file.content), "base64").toString()).toBe(V2);
    expect(file).toMatchObject({
      file_name: "item.json",
      size: V2.length,
      encoding: "base64",
      blob_id: blobId(V2),
      content_sha256: new Bun.CryptoHasher("sha256").update(V2).digest("hex"),
      execute_filemode: false,
      ref: "HEAD",
    });
  });

  test("HEAD answers the X-Gitlab-* headers and no body; 404 without a body when absent", async () => {
    const res = await get("/projects/601/repository/files/item.json?ref=main", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    const gitlabHeaders: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k.startsWith("x-gitlab-")) gitlabHeaders[k] = v;
    });
    expect(gitlabHeaders).toEqual({
      "x-gitlab-blob-id": blobId(V2),
      "x-gitlab-commit-id": c[3]?.id as string,
      "x-gitlab-content-sha256": new Bun.CryptoHasher("sha256").update(V2).digest("hex"),
      "x-gitlab-encoding": "base64",
      "x-gitlab-file-name": "item.json",
      "x-gitlab-file-path": "item.json",
      "x-gitlab-last-commit-id": c[1]?.id as string,
      "x-gitlab-ref": "main",
      "x-gitlab-size": String(V2.length),
      "x-gitlab-execute-filemode": "false",
    });
    const absent = await get("/projects/601/repository/files/create?ref=main", { method: "HEAD" });
    expect(absent.status).toBe(404);
    expect(await absent.text()).toBe("");
  });

  test("raw: the bytes as stored, ref optional (HEAD of the default branch), the same headers", async () => {
    const res = await get("/projects/601/repository/files/README.md/raw");
    expect(await res.text()).toBe("r1\nr2\n");
    expect(res.headers.get("x-gitlab-last-commit-id")).toBe(c[2]?.id as string);
    const old = await get(`/projects/601/repository/files/README.md/raw?ref=${c[1]?.id}`);
    expect(await old.text()).toBe("r1\n");
    const head = await get("/projects/601/repository/files/notes.txt/raw", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-gitlab-size")).toBe("1");
  });

  test("ref is required on GET; an unknown ref is a 404 Commit, an absent file a 404 File", async () => {
    expect((await get("/projects/601/repository/files/item.json")).status).toBe(400);
    const badRef = await get("/projects/601/repository/files/item.json?ref=feature");
    expect(await badRef.json()).toEqual({ message: "404 Commit Not Found" });
    const absent = await get(`/projects/601/repository/files/notes.txt?ref=${c[0]?.id}`);
    expect(await absent.json()).toEqual({ message: "404 File Not Found" });
  });

  test("a generated history: last_commit_id skips commits that left item.json alone", async () => {
    const s = sim.state;
    const p = s.projects.find((x) => {
      const h = s.historyOf(x);
      return (
        h.length > 1 &&
        h[0]?.files.get("item.json") === h[1]?.files.get("item.json") &&
        h[0]?.files.has("item.json")
      );
    });
    if (!p) throw new Error("no project whose last commit left item.json alone");
    const h = s.historyOf(p);
    const changed = h.find((x, i) => x.files.get("item.json") !== h[i + 1]?.files.get("item.json"));
    const file = (await (
      await get(`/projects/${p.id}/repository/files/item.json?ref=main`)
    ).json()) as Record<string, unknown>;
    expect(file.commit_id).toBe(h[0]?.id);
    expect(file.last_commit_id).toBe(changed?.id);
    expect(file.last_commit_id).not.toBe(h[0]?.id);
  });
});
