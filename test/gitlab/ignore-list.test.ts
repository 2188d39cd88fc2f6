/**
 * GITLAB_IGNORE_PROJECTS written as the replaced system's operators wrote it (short paths, any
 * case) means the same in every place that ignores projects: the scan leaves them out, the
 * deletion pass's membership() calls them outside the group, and the webhook receiver ignores
 * their pushes. (The rule itself is tabled in src/gitlab/ignore.test.ts.)
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { interpretWebhook } from "../../src/ingest/webhook.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { simConfig } from "./helpers.ts";

let sim: GitlabSim;
beforeAll(() => {
  sim = startGitlabSim({ projects: 60, subgroupFraction: 0, sharedFraction: 0 });
});
afterAll(() => sim.close());

test("short and differently-cased entries are ignored by the scan, membership() and the webhook receiver alike", async () => {
  const [byShort, byFull, kept] = [sim.state.projects[4]!, sim.state.projects[9]!, sim.state.projects[14]!];
  const path = (p: typeof byShort) => sim.state.fullPathOf(p);
  const ignore = [p2short(path(byShort)).toUpperCase(), path(byFull).toUpperCase()];
  const config = simConfig(sim, { ignoreProjects: ignore });
  const client = createGitlabClient(config, { logger: silentLogger });

  const scanned: number[] = [];
  for await (const page of client.projectSource().pages()) for (const p of page.projects) scanned.push(p.id);
  expect(scanned).toHaveLength(sim.state.projects.length - 2);
  expect(scanned).not.toContain(byShort.id);
  expect(scanned).not.toContain(byFull.id);

  expect(await client.membership(byShort.id)).toBe("outside");
  expect(await client.membership(byFull.id)).toBe("outside");
  expect(await client.membership(kept.id)).toBe("member");

  const push = (p: typeof byShort) =>
    interpretWebhook(config, "Push Hook", {
      object_kind: "push",
      ref: "refs/heads/main",
      checkout_sha: "a".repeat(40),
      project: { id: p.id, path_with_namespace: path(p), default_branch: "main" },
    }).kind;
  expect(push(byShort)).toBe("ignored");
  expect(push(byFull)).toBe("ignored");
  expect(push(kept)).toBe("update");
});

const p2short = (full: string) => full.slice(full.lastIndexOf("/") + 1);
