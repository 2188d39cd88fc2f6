/**
 * The client's operations against the simulator: access errors that name GITLAB_URL and the
 * problem (never the token), hook check across hook pages, idempotent hook creation with the
 * configured secret, project lookup, and what update-item reads of a repository (commits since a
 * date with their authors, item.json at a ref with the commit that last changed it, a file's
 * presence).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { GitlabAccessError, GitlabError } from "../../src/gitlab/errors.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { simConfig, WEBHOOK_URL } from "./helpers.ts";

let sim: GitlabSim;
beforeAll(() => {
  sim = startGitlabSim({ projects: 50, webhookUrl: WEBHOOK_URL, monitoredFraction: 0, otherHookFraction: 0 });
});
afterAll(() => sim.close());

describe("access errors", () => {
  test("401 at the start of a scan names GITLAB_URL and the problem, not the token", async () => {
    const token = "glpat-not-the-right-one";
    const client = createGitlabClient(simConfig(sim, { token }), { logger: silentLogger });
    for (const attempt of [
      () => client.checkAccess(),
      async () => {
        for await (const _ of client.projectSource().pages()) break;
      },
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitlabAccessError);
      const message = (err as Error).message;
      expect(message).toContain(sim.url);
      expect(message).toContain("401");
      expect(message).toContain("GITLAB_TOKEN");
      expect(message).not.toContain(token);
      expect((err as GitlabAccessError).retryable).toBe(false);
    }
  });

  test("404 for the group, by path or by id, names GITLAB_URL and GITLAB_GROUP", async () => {
    for (const group of ["imrt/nope", "424242"]) {
      const client = createGitlabClient(simConfig(sim, { group }), { logger: silentLogger });
      for (const attempt of [
        () => client.checkAccess(),
        async () => {
          for await (const _ of client.projectSource().pages()) break;
        },
      ]) {
        const err = (await attempt().catch((e: unknown) => e)) as GitlabAccessError;
        expect(err).toBeInstanceOf(GitlabAccessError);
        expect(err.message).toContain(sim.url);
        expect(err.message).toContain(group);
        expect(err.message).toContain("404");
        expect(err.message).toContain("GITLAB_GROUP");
      }
    }
  });

  test("a good configuration passes the check, by path and by numeric id", async () => {
    await createGitlabClient(simConfig(sim), { logger: silentLogger }).checkAccess();
    await createGitlabClient(simConfig(sim, { group: String(sim.groupId) }), {
      logger: silentLogger,
    }).checkAccess();
  });
});

describe("hooks", () => {
  test("isMonitored reads every hook page and wants the exact url", async () => {
    const p = sim.state.project(10);
    if (!p) throw new Error("seed");
    for (let i = 0; i < 130; i++) sim.state.addHook(p, { url: `https://other-${i}.example.org/hook` });
    sim.state.addHook(p, { url: `${WEBHOOK_URL}/` }); // close, but not the same url
    const client = createGitlabClient(simConfig(sim), { logger: silentLogger });
    sim.resetStats();
    expect(await client.isMonitored(10)).toBe(false);
    expect(sim.stats().byRoute["GET /projects/:id/hooks"]).toBe(2); // 131 hooks, 100 a page
    sim.state.addHook(p, { url: WEBHOOK_URL });
    expect(await client.isMonitored(10)).toBe(true);
  });

  test("createHook sets push events, SSL verification and the secret, and is idempotent", async () => {
    const client = createGitlabClient(simConfig(sim, { webhookSecret: "hook-secret-1" }), {
      logger: silentLogger,
    });
    expect((await client.createHook(11)).outcome).toBe("created");
    expect((await client.createHook(11)).outcome).toBe("exists");
    const hooks = sim.state.project(11)?.hooks ?? [];
    expect(hooks.filter((h) => h.url === WEBHOOK_URL)).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ pushEvents: true, enableSslVerification: true, token: "hook-secret-1" });

    const noSecret = createGitlabClient(simConfig(sim), { logger: silentLogger });
    expect((await noSecret.createHook(12)).outcome).toBe("created");
    expect(sim.state.project(12)?.hooks?.[0]?.token).toBe("");
  });

  test("createHook on a missing project fails with its id and is not retried", async () => {
    const client = createGitlabClient(simConfig(sim), { logger: silentLogger });
    const err = (await client.createHook(9999).catch((e: unknown) => e)) as GitlabError;
    expect(err).toBeInstanceOf(GitlabError);
    expect(err.projectId).toBe(9999);
    expect(err.retryable).toBe(false);
  });
});

describe("projects and revisions", () => {
  // the seeded projects include subgroup and shared ones: all of them count as members here
  const client = () =>
    createGitlabClient(simConfig(sim, { includeSubgroups: true, withShared: true }), {
      logger: silentLogger,
    });

  test("getProject maps GitLab's fields; null when gone", async () => {
    expect(await client().getProject(5)).toEqual({
      id: 5,
      path: "imrt/items/item-5",
      name: "Item 5",
      defaultBranch: "main",
      namespaceFullPath: "imrt/items",
      lastActivityAt: "2024-01-01T00:05:00.000Z",
    });
    expect(await client().getProject(123456)).toBeNull();
  });

  test("readProject: the project, its membership and the group's path; null when it is gone", async () => {
    expect(await client().readProject(5)).toMatchObject({
      project: { id: 5, path: "imrt/items/item-5", defaultBranch: "main" },
      membership: "member",
      groupPath: "imrt/items",
    });
    const outsider = sim.state.addProject({ namespaceId: sim.state.outside.id });
    expect((await client().readProject(outsider.id))?.membership).toBe("outside");
    sim.state.removeProject(22);
    expect(await client().readProject(22)).toBeNull();
  });

  test("commitsPage: the default branch's commits since a date (inclusive, whole seconds), newest first, with authors", async () => {
    const old = [...sim.state.commitsOf(sim.state.project(24)!)];
    const a = sim.state.pushCommit(24, {
      author: "alice",
      date: "2030-01-01T10:00:00Z",
      files: { "README.md": "a" },
    });
    const b = sim.state.pushCommit(24, {
      author: "bob",
      date: "2030-01-02T10:00:00Z",
      files: { "README.md": "b" },
    });
    const all = await client().commitsPage(24, "main", null, 1);
    expect(all.commits.map((c) => c.id)).toEqual([b.id, a.id, ...old.map((c) => c.id)]);
    expect(all.commits[0]).toEqual({
      id: b.id,
      committedDate: new Date("2030-01-02T10:00:00Z"),
      authorName: "bob",
    });
    expect(all.nextPage).toBeNull();
    const since = await client().commitsPage(24, "main", new Date("2030-01-01T10:00:00.700Z"), 1);
    expect(since.commits.map((c) => c.id)).toEqual([b.id, a.id]);
    expect((await client().commitsPage(24, "no-such-branch", null, 1)).commits).toEqual([]);
  });

  test("itemFileAt: item.json at a ref with the last commit that changed it; null where it is not", async () => {
    const before = sim.state.commitsOf(sim.state.project(25)!)[0]!;
    const edit = sim.state.pushCommit(25, { files: { "item.json": { id: "100025", type: "sa", v: 2 } } });
    const docs = sim.state.pushCommit(25, { files: { "README.md": "docs only" } });
    const head = await client().itemFileAt(25, docs.id);
    expect(JSON.parse(head?.text ?? "null")).toEqual({ id: "100025", type: "sa", v: 2 });
    expect(head?.lastCommitId).toBe(edit.id); // the README commit left it alone
    const older = await client().itemFileAt(25, before.id);
    expect(older?.lastCommitId).not.toBe(edit.id);
    const gone = sim.state.pushCommit(25, { files: { "item.json": null } });
    expect(await client().itemFileAt(25, gone.id)).toBeNull();
  });

  test("fileExists: the create marker at a ref", async () => {
    const with_ = sim.state.pushCommit(26, { files: { create: "" } });
    expect(await client().fileExists(26, "create", with_.id)).toBe(true);
    const without = sim.state.pushCommit(26, { files: { create: null } });
    expect(await client().fileExists(26, "create", without.id)).toBe(false);
  });
});
