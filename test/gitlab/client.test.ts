/**
 * The client's operations against the simulator: access errors that name GITLAB_URL and the
 * problem (never the token), hook check across hook pages, idempotent hook creation with the
 * configured secret, project lookup, and the latest revision with its item.json.
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
    expect(await client.createHook(11)).toBe("created");
    expect(await client.createHook(11)).toBe("exists");
    const hooks = sim.state.project(11)?.hooks ?? [];
    expect(hooks.filter((h) => h.url === WEBHOOK_URL)).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ pushEvents: true, enableSslVerification: true, token: "hook-secret-1" });

    const noSecret = createGitlabClient(simConfig(sim), { logger: silentLogger });
    expect(await noSecret.createHook(12)).toBe("created");
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

  test("latestRevision: the default branch's newest commit and item.json at that commit", async () => {
    const first = await client().latestRevision(20);
    expect(first?.itemJson).toMatchObject({ id: 20 });
    const pushed = sim.state.pushCommit(20, { files: { "item.json": JSON.stringify({ id: 20, v: 2 }) } });
    sim.state.pushCommit(20, { files: { "README.md": "docs only" } });
    const latest = await client().latestRevision(20);
    const head = sim.state.project(20)?.commits?.[0];
    expect(latest?.commit).toEqual({ id: head?.id ?? "", committedDate: head?.committedDate ?? "" });
    expect(latest?.commit?.id).not.toBe(pushed.id);
    expect(latest?.itemJson).toEqual({ id: 20, v: 2 });
  });

  test("latestRevision: null item.json when absent; an error naming the project when invalid", async () => {
    const p = sim.state.project(21);
    if (!p) throw new Error("seed");
    sim.state.pushCommit(21);
    sim.state.commitsOf(p)[0]?.files.delete("item.json");
    const absent = await client().latestRevision(21);
    expect(absent?.commit).not.toBeNull();
    expect(absent?.itemJson).toBeNull();

    sim.state.pushCommit(21, { files: { "item.json": "{ not json" } });
    const err = (await client()
      .latestRevision(21)
      .catch((e: unknown) => e)) as GitlabError;
    expect(err).toBeInstanceOf(GitlabError);
    expect(err.projectId).toBe(21);
    expect(err.message).toContain("item.json");
  });

  test("latestRevision: a project outside the group is reported as such, its commits unread", async () => {
    const outsider = sim.state.addProject({ namespaceId: sim.state.outside.id });
    const before = sim.stats().byRoute["GET /projects/:id/repository/commits"] ?? 0;
    expect(await client().latestRevision(outsider.id)).toMatchObject({ membership: "outside", commit: null });
    expect(sim.stats().byRoute["GET /projects/:id/repository/commits"] ?? 0).toBe(before);
    expect((await client().latestRevision(20))?.membership).toBe("member");
  });

  test("latestRevision: null when the project is gone; no commit for an empty repository", async () => {
    sim.state.removeProject(22);
    expect(await client().latestRevision(22)).toBeNull();
    const p = sim.state.project(23);
    if (!p) throw new Error("seed");
    p.defaultBranch = null;
    expect(await client().latestRevision(23)).toMatchObject({ commit: null, itemJson: null });
  });
});
