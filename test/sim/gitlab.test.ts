/**
 * The simulator against GitLab's documented REST behaviour: pagination defaults and headers,
 * the per_page cap, x-total omission past 10,000 rows, with_shared defaulting to true, auth,
 * 404 bodies, hooks never returning their token, commits newest first, base64 files, and the
 * 429 + Retry-After + RateLimit-* answers and early-request recording.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type GitlabSim, startGitlabSim } from "./gitlab.ts";

let sim: GitlabSim;
const auth = () => ({ "PRIVATE-TOKEN": sim.token });
const get = (path: string, headers: Record<string, string> = auth()) =>
  fetch(`${sim.url}/api/v4${path}`, { headers });
const groupPath = () => encodeURIComponent(sim.group);

beforeAll(() => {
  sim = startGitlabSim({ projects: 500, subgroupFraction: 0.2, sharedFraction: 0.1 });
});
afterAll(() => sim.close());

describe("GET /groups/:id/projects", () => {
  test("defaults: 20 per page, created_at desc, pagination headers and Link", async () => {
    const res = await get(`/groups/${groupPath()}/projects`);
    expect(res.status).toBe(200);
    const rows = (await res.json()) as Array<{ id: number; created_at: string }>;
    expect(rows).toHaveLength(20);
    expect(res.headers.get("x-page")).toBe("1");
    expect(res.headers.get("x-per-page")).toBe("20");
    expect(res.headers.get("x-next-page")).toBe("2");
    expect(res.headers.get("x-prev-page")).toBe("");
    const total = Number(res.headers.get("x-total"));
    expect(res.headers.get("x-total-pages")).toBe(String(Math.ceil(total / 20)));
    const link = res.headers.get("link") ?? "";
    expect(link).toContain('rel="next"');
    expect(link).toContain('rel="first"');
    expect(link).toContain('rel="last"');
    expect(link).not.toContain('rel="prev"');
    const ids = rows.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a)); // newest first
  });

  test("by numeric id and by URL-encoded full path alike; unknown group is 404", async () => {
    const byPath = await (await get(`/groups/${groupPath()}/projects?per_page=100`)).json();
    const byId = await (await get(`/groups/${sim.groupId}/projects?per_page=100`)).json();
    expect(byId).toEqual(byPath);
    const missing = await get("/groups/no%2Fsuch/projects");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: "404 Group Not Found" });
  });

  test("per_page is capped at 100; the last page has no next and a prev", async () => {
    const res = await get(`/groups/${groupPath()}/projects?per_page=500&order_by=id&sort=asc`);
    expect(res.headers.get("x-per-page")).toBe("100");
    expect(((await res.json()) as unknown[]).length).toBe(100);
    const lastPage = res.headers.get("x-total-pages");
    const last = await get(`/groups/${groupPath()}/projects?per_page=100&page=${lastPage}`);
    expect(last.headers.get("x-next-page")).toBe("");
    expect(last.headers.get("x-prev-page")).toBe(String(Number(lastPage) - 1));
    expect(last.headers.get("link")).toContain('rel="prev"');
  });

  test("with_shared defaults to true, include_subgroups to false", async () => {
    const count = async (q: string) =>
      Number((await get(`/groups/${groupPath()}/projects?per_page=1${q}`)).headers.get("x-total"));
    const s = sim.state;
    const own = s.projects.filter((p) => p.namespaceId === s.group.id).length;
    const shared = s.projects.filter((p) => p.sharedWith.includes(s.group.id)).length;
    const inSub = s.projects.filter((p) => s.subgroups.some((g) => g.id === p.namespaceId)).length;
    expect(shared).toBeGreaterThan(0);
    expect(inSub).toBeGreaterThan(0);
    expect(await count("")).toBe(own + shared);
    expect(await count("&with_shared=true")).toBe(own + shared);
    expect(await count("&with_shared=false")).toBe(own);
    expect(await count("&with_shared=false&include_subgroups=true")).toBe(own + inSub);
    expect(await count("&include_subgroups=true")).toBe(own + inSub + shared);
  });

  test("project JSON carries GitLab's field names", async () => {
    const [p] = (await (await get(`/groups/${groupPath()}/projects?per_page=1`)).json()) as Array<
      Record<string, unknown>
    >;
    for (const field of [
      "id",
      "name",
      "path",
      "path_with_namespace",
      "default_branch",
      "archived",
      "web_url",
    ]) {
      expect(p).toHaveProperty(field);
    }
    expect(p?.namespace).toMatchObject({ id: expect.any(Number), full_path: expect.any(String) });
  });
});

test("x-total, x-total-pages and Link last are omitted past 10,000 rows", async () => {
  const big = startGitlabSim({ projects: 10_050, sharedFraction: 0, subgroupFraction: 0 });
  try {
    const res = await fetch(`${big.url}/api/v4/groups/${big.groupId}/projects?per_page=100&page=2`, {
      headers: { "PRIVATE-TOKEN": big.token },
    });
    expect(res.headers.get("x-total")).toBeNull();
    expect(res.headers.get("x-total-pages")).toBeNull();
    expect(res.headers.get("x-next-page")).toBe("3");
    expect(res.headers.get("link")).not.toContain('rel="last"');
  } finally {
    await big.close();
  }
});

describe("auth and 404", () => {
  test("401 without a token or with a wrong one; Bearer works too", async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { "PRIVATE-TOKEN": "wrong" },
      { Authorization: "Bearer wrong" },
    ];
    for (const headers of attempts) {
      const res = await get("/projects/1", headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ message: "401 Unauthorized" });
    }
    expect((await get("/projects/1", { Authorization: `Bearer ${sim.token}` })).status).toBe(200);
  });

  test("unknown project is 404 Project Not Found", async () => {
    const res = await get("/projects/987654");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: "404 Project Not Found" });
  });
});

describe("hooks, commits, files", () => {
  test("POST /hooks creates a hook; lists never show the token and page by 20", async () => {
    const id = 7;
    for (let i = 0; i < 25; i++) {
      const res = await fetch(`${sim.url}/api/v4/projects/${id}/hooks`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json" },
        body: JSON.stringify({ url: `https://h${i}.example.org`, push_events: true, token: "s3cret" }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).not.toHaveProperty("token");
    }
    const first = await get(`/projects/${id}/hooks`);
    expect(((await first.json()) as unknown[]).length).toBe(20);
    expect(first.headers.get("x-next-page")).toBe("2");
    const all = (await (await get(`/projects/${id}/hooks?per_page=100`)).json()) as Array<
      Record<string, unknown>
    >;
    expect(all.every((h) => !("token" in h))).toBe(true);
    expect(sim.state.project(id)?.hooks?.at(-1)?.token).toBe("s3cret");
  });

  test("PUT /hooks/:hook_id edits in place: same id, unsent attributes kept, a new url resets the token unless sent", async () => {
    const id = 8;
    const send = (method: string, path: string, body?: unknown) =>
      fetch(`${sim.url}/api/v4${path}`, {
        method,
        headers: { ...auth(), "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = (await (
      await send("POST", `/projects/${id}/hooks`, {
        url: "http://old.example/webHook",
        push_events: false,
        enable_ssl_verification: false,
        token: "old-token",
      })
    ).json()) as { id: number };
    const hook = () => sim.state.project(id)?.hooks?.find((h) => h.id === created.id);

    const edited = await send("PUT", `/projects/${id}/hooks/${created.id}`, {
      url: "https://new.example/hook",
      push_events: true,
      token: "new-token",
    });
    expect(edited.status).toBe(200);
    const body = (await edited.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: created.id, url: "https://new.example/hook", push_events: true });
    expect(body).not.toHaveProperty("token");
    expect(hook()).toMatchObject({ url: "https://new.example/hook", pushEvents: true, token: "new-token" });
    expect(hook()?.enableSslVerification).toBe(false); // not sent: kept

    await send("PUT", `/projects/${id}/hooks/${created.id}`, { url: "https://other.example/hook" });
    expect(hook()?.token).toBe(""); // url changed without a token: reset
    expect((await send("PUT", `/projects/${id}/hooks/${created.id}`, {})).status).toBe(400);
    const missing = await send("PUT", `/projects/${id}/hooks/999999`, { url: "https://x.example" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: "404 Not found" });
  });

  test("DELETE /hooks/:hook_id removes the hook with 204; an unknown hook is a 404", async () => {
    const id = 9;
    const hook = sim.state.addHook(sim.state.project(id)!, { url: "http://old.example/webHook" });
    const del = () =>
      fetch(`${sim.url}/api/v4/projects/${id}/hooks/${hook.id}`, { method: "DELETE", headers: auth() });
    const first = await del();
    expect(first.status).toBe(204);
    expect(await first.text()).toBe("");
    expect(sim.state.hooksOf(sim.state.project(id)!).some((h) => h.id === hook.id)).toBe(false);
    expect((await del()).status).toBe(404);
  });

  test("commits newest first; files are base64 at a ref; ref is required", async () => {
    const before = sim.state.historyOf(sim.state.project(3)!);
    const c = sim.state.pushCommit(3, { files: { "item.json": '{"v":2}' } });
    const list = (await (
      await get("/projects/3/repository/commits?ref_name=main&per_page=100")
    ).json()) as Array<{
      id: string;
      short_id: string;
      committed_date: string;
      title: string;
    }>;
    expect(list[0]?.id).toBe(c.id);
    // git's abbreviation as GitLab shows it: 11 characters (docs.gitlab.com/api/commits/)
    expect(list[0]?.short_id).toBe(c.id.slice(0, 11));
    expect(list).toHaveLength(before.length + 1);
    const file = (await (await get(`/projects/3/repository/files/item.json?ref=${c.id}`)).json()) as {
      content: string;
      encoding: string;
      last_commit_id: string;
    };
    expect(file.encoding).toBe("base64");
    expect(Buffer.from(file.content, "base64").toString()).toBe('{"v":2}');
    expect(file.last_commit_id).toBe(c.id);
    const old = list[1]?.id ?? "";
    const previous = (await (await get(`/projects/3/repository/files/item.json?ref=${old}`)).json()) as {
      content: string;
    };
    expect(Buffer.from(previous.content, "base64").toString()).toBe(before[0]?.files.get("item.json") ?? "?");
    expect(JSON.parse(Buffer.from(previous.content, "base64").toString())).toMatchObject({ id: "100003" });
    expect((await get("/projects/3/repository/files/item.json")).status).toBe(400);
    const missing = await get("/projects/3/repository/files/nope%2Fx.json?ref=main");
    expect(await missing.json()).toEqual({ message: "404 File Not Found" });
  });
});

describe("faults and recording", () => {
  test("the rate limit answers 429 with Retry-After and RateLimit-*; early requests are counted", async () => {
    const rl = startGitlabSim({ projects: 5, rateLimitRps: 3 });
    try {
      const call = () => fetch(`${rl.url}/api/v4/projects/1`, { headers: { "PRIVATE-TOKEN": rl.token } });
      let limited: Response | undefined;
      for (let i = 0; i < 10 && !limited; i++) {
        const res = await call();
        if (res.status === 429) limited = res;
      }
      expect(limited).toBeDefined();
      const h = limited?.headers;
      expect(Number(h?.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(h?.get("ratelimit-limit")).toBe("3");
      expect(h?.get("ratelimit-remaining")).toBe("0");
      expect(Number(h?.get("ratelimit-observed"))).toBeGreaterThan(3);
      expect(Number(h?.get("ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
      expect(rl.stats().earlyRequests).toBe(0);
      // the same keep-alive connection, straight after the 429: too early
      await call();
      expect(rl.stats().earlyRequests).toBe(1);
      // 50 ms later, still within Retry-After: too early
      await Bun.sleep(50);
      await call();
      expect(rl.stats().earlyRequests).toBe(2);
      expect(rl.stats().rateLimited).toBeGreaterThanOrEqual(1);
    } finally {
      await rl.close();
    }
  });

  test("injected 5xx and dropped connections; per-route and per-status counts", async () => {
    sim.resetStats();
    sim.set({ fault5xxRate: 1, fault5xxStatus: 503 });
    expect((await get("/projects/1")).status).toBe(503);
    sim.set({ fault5xxRate: 0, dropRate: 1 });
    await expect(get("/projects/1")).rejects.toThrow();
    sim.set({ dropRate: 0 });
    expect((await get("/projects/1")).status).toBe(200);
    const s = sim.stats();
    // Bun's fetch itself re-sends a GET once when a reused keep-alive connection is reset.
    expect(s.byRoute["GET /projects/:id"]).toBeGreaterThanOrEqual(3);
    expect(s.byStatus["GET /projects/:id 503"]).toBe(1);
    expect(s.byStatus["GET /projects/:id dropped"]).toBeGreaterThanOrEqual(1);
    expect(s.byStatus["GET /projects/:id 200"]).toBe(1);
    expect(s.peakConcurrency).toBeGreaterThanOrEqual(1);
  });

  test("the standalone server prints its url, token and group as one JSON line", async () => {
    const proc = Bun.spawn(
      ["bun", "test/sim/gitlab.ts", "--projects", "30", "--port", "0", "--token", "tok-1234"],
      {
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    try {
      const reader = proc.stdout.getReader();
      const { value } = await reader.read();
      const info = JSON.parse(new TextDecoder().decode(value).split("\n")[0] ?? "{}");
      expect(info).toMatchObject({ token: "tok-1234", group: "imrt/items" });
      const res = await fetch(`${info.url}/api/v4/groups/${encodeURIComponent(info.group)}/projects`, {
        headers: { "PRIVATE-TOKEN": "tok-1234" },
      });
      expect(res.status).toBe(200);
      reader.releaseLock();
    } finally {
      proc.kill();
      await proc.exited;
    }
  });
});

describe("last_activity_at as GitLab keeps it", () => {
  test("a push bumps it lazily (not again within the throttle interval); a rename never", async () => {
    const sim = startGitlabSim({ projects: 3, activityThrottleMs: 60 * 60_000 });
    try {
      const listed = async () => {
        const res = await fetch(
          `${sim.url}/api/v4/groups/${encodeURIComponent(sim.group)}/projects?simple=true`,
          {
            headers: { "private-token": sim.token },
          },
        );
        const rows = (await res.json()) as { id: number; last_activity_at: string; name: string }[];
        return new Map(rows.map((r) => [r.id, r]));
      };
      const seeded = (await listed()).get(1)?.last_activity_at;
      expect(seeded).toBe(sim.state.project(1)?.createdAt);
      const before = Date.now();
      sim.state.pushCommit(1);
      const bumped = (await listed()).get(1)?.last_activity_at ?? "";
      expect(Date.parse(bumped)).toBeGreaterThanOrEqual(before - 1);
      await Bun.sleep(5);
      sim.state.pushCommit(1); // within the hour: unchanged
      expect((await listed()).get(1)?.last_activity_at).toBe(bumped);
      sim.state.renameProject(2, { name: "Renamed", path: "renamed" });
      const renamed = (await listed()).get(2);
      expect(renamed?.name).toBe("Renamed");
      expect(renamed?.last_activity_at).toBe(sim.state.project(2)?.createdAt);
    } finally {
      await sim.close();
    }
  });
});
