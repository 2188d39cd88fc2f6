/**
 * The project stream against the simulator: a 25,000-project group (no x-total) with subgroups
 * and shared projects streamed completely and exactly once under each flag combination,
 * GITLAB_IGNORE_PROJECTS, prefetching with at most one page ahead, projects added mid-scan,
 * and resuming from a checkpoint after projects before it were removed or added.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import type { ProjectCheckpoint } from "../../src/gitlab/project-source.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { simConfig } from "./helpers.ts";

const PAGES = "GET /groups/:id/projects";

async function collect(sim: GitlabSim, flags: { includeSubgroups: boolean; withShared: boolean }) {
  const client = createGitlabClient(simConfig(sim, flags), { logger: silentLogger });
  const ids: number[] = [];
  for await (const page of client.projectSource().pages()) for (const p of page.projects) ids.push(p.id);
  return ids;
}

describe("25,000 projects with subgroups and shared projects", () => {
  let sim: GitlabSim;
  beforeAll(() => {
    sim = startGitlabSim({ projects: 25_000, subgroups: 4, subgroupFraction: 0.2, sharedFraction: 0.05 });
  });
  afterAll(() => sim.close());

  for (const flags of [
    { includeSubgroups: true, withShared: true },
    { includeSubgroups: false, withShared: false },
  ]) {
    test(`streams each project exactly once (${JSON.stringify(flags)})`, async () => {
      const s = sim.state;
      const subIds = new Set(s.subgroups.map((g) => g.id));
      const expected = s.projects
        .filter(
          (p) =>
            p.namespaceId === s.group.id ||
            (flags.includeSubgroups && subIds.has(p.namespaceId)) ||
            (flags.withShared && p.sharedWith.includes(s.group.id)),
        )
        .map((p) => p.id);
      expect(expected.length).toBeGreaterThan(10_000); // so GitLab sends no x-total
      const ids = await collect(sim, flags);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expected); // all of them, ascending
    });
  }
});

describe("small group", () => {
  let sim: GitlabSim;
  beforeAll(() => {
    sim = startGitlabSim({ projects: 1_000, subgroupFraction: 0, sharedFraction: 0 });
  });
  afterAll(() => sim.close());

  test("sends order_by=id, sort=asc, with_shared and include_subgroups every time", async () => {
    const seen: string[] = [];
    const off = sim.onRequest(({ route, url }) => {
      if (route === PAGES) seen.push(url);
    });
    const client = createGitlabClient(simConfig(sim), { logger: silentLogger });
    for await (const _ of client.projectSource(50).pages()) break;
    off();
    const q = new URL(seen[0] ?? "").searchParams;
    expect(q.get("order_by")).toBe("id");
    expect(q.get("sort")).toBe("asc");
    expect(q.get("with_shared")).toBe("false");
    expect(q.get("include_subgroups")).toBe("false");
    expect(q.get("per_page")).toBe("50");
  });

  test("GITLAB_IGNORE_PROJECTS removes those full paths", async () => {
    const ignore = ["imrt/items/item-5", "IMRT/items/item-500"];
    const client = createGitlabClient(simConfig(sim, { ignoreProjects: ignore }), { logger: silentLogger });
    const paths: string[] = [];
    for await (const page of client.projectSource().pages())
      for (const p of page.projects) paths.push(p.path);
    expect(paths).toHaveLength(sim.state.projects.length - 2);
    expect(paths).not.toContain("imrt/items/item-5");
    expect(paths).not.toContain("imrt/items/item-500");
  });

  test("prefetches the next page while one is processed, never more than one ahead", async () => {
    const client = createGitlabClient(simConfig(sim), { logger: silentLogger });
    // full pages only: the one-project probes at each seam are not page fetches
    let pageRequests = 0;
    const off = sim.onRequest((info) => {
      if (info.route === PAGES && info.url.includes("per_page=100")) pageRequests++;
    });
    let consumed = 0;
    let sawPrefetch = 0;
    for await (const page of client.projectSource(100).pages()) {
      consumed++;
      expect(pageRequests).toBeLessThanOrEqual(consumed + 1);
      if (!page.last) {
        // While we still hold this page, the request for the next one arrives.
        for (let i = 0; i < 200 && pageRequests < consumed + 1; i++) await Bun.sleep(5);
        if (pageRequests === consumed + 1) sawPrefetch++;
      }
      expect(pageRequests).toBeLessThanOrEqual(consumed + 1);
    }
    off();
    expect(consumed).toBe(10);
    expect(sawPrefetch).toBe(9);
  });

  test("projects added while a scan runs are streamed too", async () => {
    const client = createGitlabClient(simConfig(sim), { logger: silentLogger });
    const ids: number[] = [];
    let added: number[] = [];
    for await (const page of client.projectSource(100).pages()) {
      if (page.page === 3) added = [sim.state.addProject().id, sim.state.addProject().id];
      for (const p of page.projects) ids.push(p.id);
    }
    expect(ids).toEqual(sim.state.projects.map((p) => p.id));
    for (const id of added) expect(ids).toContain(id);
  });
});

describe("resume from a checkpoint", () => {
  type Change = (sim: GitlabSim, cp: ProjectCheckpoint) => void;
  const cases: Array<[string, Change]> = [
    ["nothing changed", () => {}],
    [
      "projects before the checkpoint removed (offsets shift down)",
      (sim, cp) => {
        for (const id of [3, 10, 11, 12, 40, cp.lastProjectId - 1]) sim.state.removeProject(id);
      },
    ],
    [
      "more than a page before the checkpoint removed",
      (sim, cp) => {
        for (let id = 5; id < cp.lastProjectId; id += 2) sim.state.removeProject(id);
      },
    ],
    ["the checkpoint project itself removed", (sim, cp) => void sim.state.removeProject(cp.lastProjectId)],
    [
      "projects with small ids shared into the group (offsets shift up)",
      (sim) => {
        for (const p of sim.state.projects
          .filter((x) => x.namespaceId === sim.state.outside.id)
          .slice(0, 60)) {
          p.sharedWith.push(sim.state.group.id);
        }
        sim.state.addProject(); // and the version bump invalidates cached views
      },
    ],
    [
      "removed before and added after the checkpoint",
      (sim, cp) => {
        sim.state.removeProject(cp.lastProjectId - 5);
        sim.state.moveOut(cp.lastProjectId - 7);
        sim.state.addProject();
      },
    ],
  ];

  for (const [name, change] of cases) {
    test(name, async () => {
      const sim = startGitlabSim({ projects: 600, subgroupFraction: 0, sharedFraction: 0.2 });
      try {
        const client = createGitlabClient(simConfig(sim), { logger: silentLogger });
        const first: number[] = [];
        let checkpoint: ProjectCheckpoint | undefined;
        for await (const page of client.projectSource(50).pages()) {
          for (const p of page.projects) first.push(p.id);
          checkpoint = page.checkpoint;
          if (page.page === 5) break; // the run stops here
        }
        if (!checkpoint) throw new Error("no checkpoint");
        expect(checkpoint.page).toBe(5);
        change(sim, checkpoint);
        const second: number[] = [];
        for await (const page of client.projectSource(50).pages({ from: checkpoint })) {
          for (const p of page.projects) second.push(p.id);
        }
        const lastId = checkpoint.lastProjectId;
        const expected = sim.state
          .groupProjects(sim.state.group.id, {
            includeSubgroups: false,
            withShared: false,
            archived: null,
            orderBy: "id",
            sort: "asc",
          })
          .map((p) => p.id)
          .filter((id) => id > lastId);
        expect(second).toEqual(expected); // nothing skipped, nothing read twice
        expect(second.filter((id) => first.includes(id))).toEqual([]);
      } finally {
        await sim.close();
      }
    });
  }
});
