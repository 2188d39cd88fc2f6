import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createJobRepository } from "../../src/batch/repository.ts";
import { createJobRunner, type JobRunner } from "../../src/batch/runner.ts";
import { createJobService } from "../../src/batch/service.ts";
import { type App, createApp } from "../../src/http/app.ts";
import { createStaticTokenAuthenticator } from "../../src/http/auth/auth.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createItemViews } from "../../src/items/item-views.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { seedItem } from "../helpers/items.ts";
import { type CountingStep, countingJob } from "../helpers/steps.ts";

const TOKEN = "test-token-0123456789abcdef";
const JOB = "itemSynchronizationJob";
const HOOK_SECRET = "hook-secret-0123456789";
const SHA = "0123456789abcdef0123456789abcdef01234567";

function push(overrides: Record<string, unknown> = {}) {
  return {
    object_kind: "push",
    ref: "refs/heads/main",
    checkout_sha: SHA,
    project_id: 42,
    project: { id: 42, path_with_namespace: "imrt/items/item-42", default_branch: "main" },
    ...overrides,
  };
}

for (const dialect of DIALECTS) {
  describe(`HTTP API on ${dialect}`, () => {
    let t: TestDatabase;
    let app: App;
    let runner: JobRunner;
    let step: CountingStep;
    const pushes: { projectId: number; projectPath: string; checkoutSha: string }[] = [];
    const removals: { projectId: number; projectPath: string; eventName: string }[] = [];
    const projectEvents: { projectId: number; projectPath: string; eventName: string; monitor: boolean }[] =
      [];
    const verified: number[] = [];

    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      const repository = createJobRepository(t.db, { leaseMs: 60_000 });
      step = countingJob({ total: 50, pageSize: 10, hold: true });
      runner = createJobRunner({ repository, jobs: [step], leaseMs: 60_000, logger: silentLogger });
      const jobs = createJobService({ jobName: JOB, repository, runner, leaseMs: 60_000 });
      app = createApp({
        jobs,
        items: createItemViews(t.db, imrtTables(t.db.dialect)),
        syncProject: async (projectId) =>
          projectId === 77
            ? { projectId, projectPath: "imrt/items/item-77", published: ["update-item"] }
            : null,
        webhooks: {
          gitlab: {
            group: "imrt/items",
            includeSubgroups: false,
            withShared: false,
            ignoreProjects: ["imrt/items/ignored"],
            webhookSecret: HOOK_SECRET,
          },
          hookVerified: async (projectId) => {
            verified.push(projectId);
          },
          publishRemoval: async (removal) => {
            removals.push(removal);
          },
          publishProjectEvent: async (event) => {
            projectEvents.push(event);
          },
          publishPush: async (push) => {
            pushes.push({
              projectId: push.projectId,
              projectPath: push.projectPath,
              checkoutSha: push.checkoutSha,
            });
          },
          logger: silentLogger,
        },
        authenticator: createStaticTokenAuthenticator([{ token: TOKEN, role: "admin" }]),
        health: { ready: async () => ({ ok: true, checks: { database: "ok" } }) },
        metrics: createMetrics({ jobs: { repository, runner, jobName: JOB } }),
        logger: silentLogger,
        version: "test",
        maxBodyBytes: 1024,
      });
    });
    afterAll(async () => {
      await runner.shutdown();
      await t.drop();
    });

    const call = (method: string, path: string, init: RequestInit & { token?: string | null } = {}) => {
      const headers = new Headers(init.headers);
      const token = init.token === undefined ? TOKEN : init.token;
      if (token) headers.set("authorization", `Bearer ${token}`);
      return app.handle(new Request(`http://localhost${path}`, { ...init, method, headers }));
    };

    test("protected routes refuse a missing, wrong or query-string token with 401 + WWW-Authenticate", async () => {
      for (const [method, path] of [
        ["POST", "/sync"],
        ["GET", "/jobs"],
        ["GET", "/jobs/1"],
        ["POST", "/jobs/1/stop"],
        ["POST", "/jobs/1/reset"],
      ] as const) {
        for (const res of [
          await call(method, path, { token: null }),
          await call(method, path, { token: "wrong-token-0123456789abcdef" }),
          await call(method, `${path}?access_token=${TOKEN}`, { token: null }),
          await call(method, path, {
            token: null,
            headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
          }),
        ]) {
          expect(res.status).toBe(401);
          expect(res.headers.get("www-authenticate")).toStartWith("Bearer");
          const body = (await res.json()) as { error: { code: string } };
          expect(body.error.code).toBe("UNAUTHORIZED");
        }
      }
    });

    test("a 401 says whether the token was missing, malformed or sent and not accepted, never repeating it", async () => {
      const message = async (res: Response) =>
        ((await res.json()) as { error: { message: string } }).error.message;
      expect(await message(await call("GET", "/jobs", { token: null }))).toBe(
        "no bearer token was sent: this route needs one (Authorization: Bearer <token>)",
      );
      const wrong = await message(await call("GET", "/jobs", { token: "wrong-token-0123456789abcdef" }));
      expect(wrong).toStartWith("a bearer token was sent but not accepted");
      expect(wrong).not.toContain("wrong-token");
      // an API_TOKENS entry sent whole, role and all
      const entry = await message(await call("GET", "/jobs", { token: `${TOKEN}:operate` }));
      expect(entry).toBe(
        "the bearer token ends in :ROLE: an API_TOKENS entry TOKEN:ROLE is sent as TOKEN alone",
      );
      expect(entry).not.toContain(TOKEN);
      const basic = await call("GET", "/jobs", {
        token: null,
        headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
      });
      expect(await message(basic)).toBe(
        "the Authorization header is not a bearer token: send Authorization: Bearer <token>",
      );
      expect(await message(await call("GET", "/jobs", { token: "a b\u00e9" }))).toStartWith(
        "the bearer token is malformed",
      );
    });

    test("POST /sync starts one execution; a second gets 409 naming it; stop ends it STOPPED", async () => {
      const first = await call("POST", "/sync");
      expect(first.status).toBe(202);
      const execution = (await first.json()) as {
        id: number;
        status: string;
        trigger: string;
        counts: object;
      };
      expect(first.headers.get("location")).toBe(`/jobs/${execution.id}`);
      expect(execution.trigger).toBe("api");
      expect(Object.keys(execution.counts).sort()).toEqual(
        [
          "deletePublished",
          "hooksAdopted",
          "hooksChecked",
          "monitorPublished",
          "read",
          "skipped",
          "unchanged",
          "updatePublished",
        ].sort(),
      );

      const second = await call("POST", "/sync");
      expect(second.status).toBe(409);
      expect(await second.json()).toMatchObject({
        error: { code: "JOB_ALREADY_RUNNING" },
        runningJobId: execution.id,
      });

      const reset = await call("POST", `/jobs/${execution.id}/reset`);
      expect(reset.status).toBe(409);
      expect(((await reset.json()) as { error: { code: string } }).error.code).toBe("JOB_HEARTBEAT_FRESH");

      const stop = await call("POST", `/jobs/${execution.id}/stop`);
      expect(stop.status).toBe(202);
      expect(((await stop.json()) as { status: string }).status).toBe("STOPPING");
      await runner.whenDone(execution.id);
      const done = (await (await call("GET", `/jobs/${execution.id}`)).json()) as {
        status: string;
        exitMessage: string;
        step: { status: string };
      };
      expect(done.status).toBe("STOPPED");
      expect(done.step.status).toBe("STOPPED");
      expect(done.exitMessage).toContain("stopped on request");

      const again = await call("POST", `/jobs/${execution.id}/stop`);
      expect(again.status).toBe(409);
      expect(((await again.json()) as { error: { code: string } }).error.code).toBe("JOB_NOT_RUNNING");

      // the stopped run is resumed and, released, completes without redoing its checkpointed pages
      step.release();
      const resumed = (await (await call("POST", "/sync")).json()) as { id: number; restartOf: number };
      expect(resumed.restartOf).toBe(execution.id);
      await runner.whenDone(resumed.id);
      const final = (await (await call("GET", `/jobs/${resumed.id}`)).json()) as {
        status: string;
        counts: { read: number };
      };
      expect(final.status).toBe("COMPLETED");
      expect(step.processed).toEqual(Array.from({ length: 50 }, (_, i) => i));

      const metrics = await (await call("GET", "/metrics", { token: null })).text();
      expect(metrics).toContain('item_sync_job_executions{status="COMPLETED"} 1');
    });

    test("GET /jobs lists newest first and validates its query", async () => {
      const res = await call("GET", "/jobs?limit=1");
      expect(res.status).toBe(200);
      const { jobs } = (await res.json()) as { jobs: { id: number }[] };
      expect(jobs.length).toBe(1);
      for (const bad of [
        "/jobs?limit=0",
        "/jobs?limit=101",
        "/jobs?limit=x",
        "/jobs?status=RUNNING",
        "/jobs?before=-1",
      ]) {
        const r = await call("GET", bad);
        expect(r.status).toBe(422);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
      }
    });

    test("POST /sync?mode= chooses the scan mode; GET /jobs shows mode and unchanged; a bad mode is 422", async () => {
      const bad = await call("POST", "/sync?mode=sometimes");
      expect(bad.status).toBe(422);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
      const started = await call("POST", "/sync?mode=full");
      expect(started.status).toBe(202);
      const execution = (await started.json()) as { id: number; mode: string };
      expect(execution.mode).toBe("full");
      await runner.whenDone(execution.id);
      const { jobs } = (await (await call("GET", "/jobs?limit=1")).json()) as {
        jobs: { id: number; mode: string; counts: { unchanged: number } }[];
      };
      expect(jobs[0]).toMatchObject({ id: execution.id, mode: "full", counts: { unchanged: 0 } });
    });

    test("validation errors read as sentences naming the parameter and its rule, never a regular expression", async () => {
      const message = async (path: string) =>
        ((await (await call("GET", path)).json()) as { error: { message: string } }).error.message;
      expect(await message("/jobs?limit=500")).toBe(
        'limit must be a whole number from 1 to 100 (default 20), not "500"',
      );
      expect(await message("/jobs?status=RUNNING")).toBe(
        'status must be one of STARTING, STARTED, STOPPING, STOPPED, COMPLETED, FAILED, ABANDONED, not "RUNNING"',
      );
      expect(await message("/jobs/abc")).toBe(
        'id must be a positive whole number (a job execution id), not "abc"',
      );
      expect(await message("/items?q=")).toBe("q must be at least 1 character long");
      expect(await message("/items/x")).toBe(
        'projectId must be a positive whole number (a GitLab project id), not "x"',
      );
      for (const path of ["/jobs?limit=0", "/jobs?before=-1", "/items?cursor=%21%21", "/items?limit=x"]) {
        expect(await message(path)).not.toMatch(/[\^$]|Expected/);
      }
      // a parameter the route does not take is named, with those it takes
      expect(await message("/jobs?Limit=5")).toBe(
        '"Limit" is not a parameter of this route (it takes status, limit, before)',
      );
      expect(await message("/jobs/1?verbose=1")).toBe(
        '"verbose" is not a parameter of this route (it takes none)',
      );
      const twice = await call("GET", "/jobs?limit=1&limit=2");
      expect(twice.status).toBe(400);
      expect(((await twice.json()) as { error: { code: string } }).error.code).toBe("DUPLICATE_PARAMETER");
    });

    test("bad ids, unknown ids, unknown routes and oversized bodies get clear JSON errors", async () => {
      const cases: [string, string, number, RequestInit?][] = [
        ["GET", "/jobs/abc", 422],
        ["GET", "/jobs/0", 422],
        ["GET", "/jobs/1.5", 422],
        ["GET", "/jobs/99999999999999999999", 422],
        ["GET", "/jobs/1e3", 422],
        ["GET", "/jobs/424242", 404],
        ["POST", "/jobs/424242/stop", 404],
        ["POST", "/jobs/424242/reset", 404],
        ["GET", "/nope", 404],
        ["POST", "/sync?fresh=maybe", 422],
        // real clients send content-length; the live server also enforces maxRequestBodySize itself
        [
          "POST",
          "/sync",
          413,
          { body: "x".repeat(5000), headers: { "content-type": "text/plain", "content-length": "5000" } },
        ],
      ];
      for (const [method, path, status, init] of cases) {
        const res = await call(method, path, init ?? {});
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} ${status}`);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.message).not.toContain("    at ");
      }
    });

    test("health, metrics and the OpenAPI document need no token", async () => {
      expect((await call("GET", "/health/live", { token: null })).status).toBe(200);
      expect((await call("GET", "/health/ready", { token: null })).status).toBe(200);
      const spec = (await (await call("GET", "/openapi/json", { token: null })).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(spec.openapi).toStartWith("3.");
      for (const p of [
        "/sync",
        "/jobs",
        "/jobs/{id}",
        "/jobs/{id}/stop",
        "/jobs/{id}/reset",
        "/health/ready",
      ]) {
        expect(Object.keys(spec.paths)).toContain(p);
      }
    });

    test("the OpenAPI document declares each operation's answers with schemas (202, 409 with runningJobId, errors)", async () => {
      type Op = {
        responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
      };
      const spec = (await (await call("GET", "/openapi/json", { token: null })).json()) as {
        paths: Record<string, Record<string, Op>>;
      };
      const declared = (path: string, method: string) =>
        Object.keys(spec.paths[path]?.[method]?.responses ?? {}).sort();
      expect(declared("/sync", "post")).toEqual(["202", "400", "401", "403", "409", "422", "503"]);
      expect(declared("/jobs/{id}", "get")).toEqual(["200", "400", "401", "403", "404", "422", "503"]);
      expect(declared("/jobs/{id}/reset", "post")).toEqual([
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "422",
        "503",
      ]);
      expect(declared("/items", "get")).toEqual(["200", "400", "401", "403", "422", "503"]);
      expect(declared("/webhooks/gitlab", "post")).toEqual(["202", "204", "401", "422"]);
      const schemaOf = (path: string, method: string, status: string) =>
        JSON.stringify(
          spec.paths[path]?.[method]?.responses?.[status]?.content?.["application/json"]?.schema ?? null,
        );
      expect(schemaOf("/sync", "post", "409")).toContain('"runningJobId"');
      expect(schemaOf("/sync", "post", "202")).toContain('"counts"');
      for (const [path, methods] of Object.entries(spec.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          if (path.startsWith("/ui") || path === "/" || path === "/openapi/json") continue;
          for (const [status, r] of Object.entries(op.responses ?? {})) {
            if (status === "204" || path === "/metrics") continue;
            expect({
              path,
              method,
              status,
              hasSchema: r.content?.["application/json"]?.schema !== undefined,
            }).toEqual({
              path,
              method,
              status,
              hasSchema: true,
            });
          }
          expect({ path, method, declared: Object.keys(op.responses ?? {}).length > 0 }).toEqual({
            path,
            method,
            declared: true,
          });
        }
      }
    });
    test("webhook: a push to the default branch of a group project publishes update-item (202)", async () => {
      const hook = (body: unknown, token: string | null, event = "Push Hook") =>
        call("POST", "/webhooks/gitlab", {
          token: null,
          body: typeof body === "string" ? body : JSON.stringify(body),
          headers: {
            "content-type": "application/json",
            "x-gitlab-event": event,
            ...(token === null ? {} : { "x-gitlab-token": token }),
          },
        });
      pushes.length = 0;
      expect((await hook(push(), null)).status).toBe(401);
      expect((await hook(push(), "wrong-secret-0123456789")).status).toBe(401);
      expect((await hook(push(), HOOK_SECRET.slice(0, -1))).status).toBe(401);
      expect(pushes).toEqual([]);

      const ok = await hook(push(), HOOK_SECRET);
      expect(ok.status).toBe(202);
      expect(pushes).toEqual([{ projectId: 42, projectPath: "imrt/items/item-42", checkoutSha: SHA }]);
      // a push carrying our secret proves our hook is there: incremental scans may skip its check
      expect(verified).toEqual([42]);

      // other events: 204; pushes to other branches, other groups, ignored projects, deleted
      // branches: 202 (a push event) with accepted false and the reason; nothing published
      const ignored = [
        await hook({ object_kind: "issue" }, HOOK_SECRET, "Issue Hook"),
        await hook(push({ ref: "refs/heads/feature" }), HOOK_SECRET),
        await hook(
          push({ project: { id: 7, path_with_namespace: "other/group/x", default_branch: "main" } }),
          HOOK_SECRET,
        ),
        await hook(
          push({ project: { id: 8, path_with_namespace: "imrt/items/sub/x", default_branch: "main" } }),
          HOOK_SECRET,
        ),
        await hook(
          push({ project: { id: 9, path_with_namespace: "imrt/items/ignored", default_branch: "main" } }),
          HOOK_SECRET,
        ),
        await hook(push({ checkout_sha: null }), HOOK_SECRET),
      ];
      expect(ignored.map((r) => r.status)).toEqual([204, 202, 202, 202, 202, 202]);
      for (const answer of ignored.slice(1)) {
        const body = (await answer.json()) as { accepted: boolean; reason: string };
        expect(body.accepted).toBe(false);
        expect(body.reason.length).toBeGreaterThan(0);
      }
      expect(pushes.length).toBe(1);
      expect(verified).toEqual([42]);

      const malformed = await hook("{not json", HOOK_SECRET);
      expect([400, 422]).toContain(malformed.status);
      expect((await malformed.json()) as object).toHaveProperty("error");
      expect((await hook("[1,2]", HOOK_SECRET)).status).toBe(422);
    });

    test("webhook: system-hook project_destroy and project_transfer out of the group publish delete-item", async () => {
      const hook = (body: unknown) =>
        call("POST", "/webhooks/gitlab", {
          token: null,
          body: JSON.stringify(body),
          headers: {
            "content-type": "application/json",
            "x-gitlab-event": "System Hook",
            "x-gitlab-token": HOOK_SECRET,
          },
        });
      removals.length = 0;
      const destroy = {
        event_name: "project_destroy",
        project_id: 11,
        path_with_namespace: "imrt/items/item-11",
      };
      expect((await hook(destroy)).status).toBe(202);
      const out = {
        event_name: "project_transfer",
        project_id: 12,
        path_with_namespace: "archive/item-12",
        old_path_with_namespace: "imrt/items/item-12",
      };
      expect((await hook(out)).status).toBe(202);
      expect(removals).toEqual([
        { projectId: 11, projectPath: "imrt/items/item-11", eventName: "project_destroy" },
        { projectId: 12, projectPath: "imrt/items/item-12", eventName: "project_transfer" },
      ]);
      // a transfer from elsewhere to elsewhere, a destroy elsewhere: nothing
      const ignored = [
        await hook({ ...out, old_path_with_namespace: "other/item-12" }),
        await hook({ ...destroy, path_with_namespace: "other/item-11" }),
      ];
      expect(ignored.map((r) => r.status)).toEqual([204, 204]);
      expect(removals.length).toBe(2);
      const noToken = await call("POST", "/webhooks/gitlab", {
        token: null,
        body: JSON.stringify(destroy),
        headers: { "content-type": "application/json" },
      });
      expect(noToken.status).toBe(401);
    });

    test("webhook: system-hook project_create in the group publishes monitor-item and update-item; project_rename update-item; project_transfer into it both", async () => {
      const hook = (body: unknown) =>
        call("POST", "/webhooks/gitlab", {
          token: null,
          body: JSON.stringify(body),
          headers: {
            "content-type": "application/json",
            "x-gitlab-event": "System Hook",
            "x-gitlab-token": HOOK_SECRET,
          },
        });
      projectEvents.length = 0;
      removals.length = 0;
      const event = (name: string, id: number, path: string, old?: string) => ({
        event_name: name,
        project_id: id,
        path_with_namespace: path,
        ...(old ? { old_path_with_namespace: old } : {}),
      });
      const accepted = [
        await hook(event("project_create", 21, "imrt/items/item-21")),
        await hook(event("project_rename", 22, "imrt/items/item-22-new", "imrt/items/item-22")),
        await hook(event("project_transfer", 23, "imrt/items/item-23", "imrt/items/sub/item-23")),
        await hook(event("project_transfer", 24, "imrt/items/item-24", "elsewhere/item-24")),
      ];
      expect(accepted.map((r) => r.status)).toEqual([202, 202, 202, 202]);
      expect(projectEvents).toEqual([
        { projectId: 21, projectPath: "imrt/items/item-21", eventName: "project_create", monitor: true },
        { projectId: 22, projectPath: "imrt/items/item-22-new", eventName: "project_rename", monitor: false },
        // without GITLAB_INCLUDE_SUBGROUPS a subgroup is outside: moved into the group (within it: e2e)
        { projectId: 23, projectPath: "imrt/items/item-23", eventName: "project_transfer", monitor: true },
        { projectId: 24, projectPath: "imrt/items/item-24", eventName: "project_transfer", monitor: true },
      ]);
      // elsewhere, or an ignored project: nothing
      const ignored = [
        await hook(event("project_create", 25, "elsewhere/item-25")),
        await hook(event("project_rename", 26, "elsewhere/item-26-new", "elsewhere/item-26")),
        await hook(event("project_create", 27, "imrt/items/ignored")),
        await hook(event("project_update", 28, "imrt/items/item-28")),
      ];
      expect(ignored.map((r) => r.status)).toEqual([204, 204, 204, 204]);
      expect(projectEvents.length).toBe(4);
      expect(removals).toEqual([]);
    });

    test("items: cursor pagination, one item with history, 404 and 422", async () => {
      for (let id = 1; id <= 5; id++) {
        await seedItem(t.db, {
          projectId: id,
          name: `item-${id}`,
          commit: { id: `c${id}`, date: new Date("2026-01-01T00:00:00Z"), author: "jdoe" },
        });
      }
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await call("GET", `/items?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: { projectId: number }[]; nextCursor: string | null };
        seen.push(...page.items.map((i) => i.projectId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([1, 2, 3, 4, 5]);

      const one = (await (await call("GET", "/items/3")).json()) as Record<string, unknown>;
      expect(one).toMatchObject({
        projectId: 3,
        projectPath: "imrt/items/item-3",
        name: "item-3",
        defaultBranch: "main",
        currentCommitHash: "c3",
        currentCommitDate: "2026-01-01T00:00:00.000Z",
        itemJson: expect.objectContaining({ id: "300003", type: "mc" }),
        itemId: 300003,
        itemType: "mc",
        classification: "item",
        workflowStatus: "Draft",
        subject: "ELA",
        grade: "4",
        updatedBy: "jdoe",
        itemCreatedBy: "jdoe",
        itemCreatedAt: "2026-01-01T00:00:00.000Z",
        workflowStatusSetAt: "2026-01-01T00:00:00.000Z",
        associatedStimulusId: null,
        problem: null,
      });
      expect(one.history).toEqual([
        { commitHash: "c3", commitDate: "2026-01-01T00:00:00.000Z", author: "jdoe" },
      ]);
      // found by its IMRT item id as well as by its path
      const byId = (await (await call("GET", "/items?q=300004")).json()) as {
        items: { projectId: number }[];
      };
      expect(byId.items.map((i) => i.projectId)).toEqual([4]);
      const byPath = (await (await call("GET", "/items?q=ITEM-5")).json()) as {
        items: { projectId: number }[];
      };
      expect(byPath.items.map((i) => i.projectId)).toEqual([5]);
      expect((await call("GET", "/items/999")).status).toBe(404);
      expect((await call("GET", "/items/abc")).status).toBe(422);
      expect((await call("GET", "/items?cursor=bm9wZQ")).status).toBe(422);
      expect((await call("GET", "/items", { token: null })).status).toBe(401);
    });

    test("POST /sync/:projectId: 202 with what was published; 404 outside the group; operate at least", async () => {
      const res = await call("POST", "/sync/77");
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ projectId: 77, published: ["update-item"] });
      expect((await call("POST", "/sync/78")).status).toBe(404);
      expect((await call("POST", "/sync/x")).status).toBe(422);
      expect((await call("POST", "/sync/77", { token: null })).status).toBe(401);
    });
  });
}
