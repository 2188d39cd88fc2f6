/**
 * Projects removed (or added) while a scan runs: offset pagination shifts the pages, and without
 * the seam check the first project of the next page would be skipped silently.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { FAST_RETRY, simConfig } from "./helpers.ts";

let sim: GitlabSim;
beforeAll(() => {
  sim = startGitlabSim({ projects: 1000, subgroupFraction: 0, sharedFraction: 0 });
});
afterAll(() => sim.close());

async function scan(prefetch: number) {
  const client = createGitlabClient(simConfig(sim), { logger: silentLogger, retry: FAST_RETRY });
  const seen: number[] = [];
  for await (const page of client.projectSource(100, { prefetch }).pages())
    seen.push(...page.projects.map((p) => p.id));
  return seen;
}

// prefetch 8: an incremental scan's listing, several pages requested at once
for (const prefetch of [1, 8]) {
  test(`projects removed before the seam mid-scan: every project still there is seen, once (prefetch ${prefetch})`, async () => {
    const ids = sim.state.projects.map((p) => p.id);
    const victims = [ids[10], ids[120], ids[250], ids[251], ids[399]] as number[];
    let removed = false;
    const off = sim.onRequest((info) => {
      // just before pages 3 and 5 are answered, remove projects the scan has already passed
      if (
        info.route === "GET /groups/:id/projects" &&
        /[?&]page=(3|5)&/.test(`${info.url}&`) &&
        /per_page=100/.test(info.url)
      ) {
        for (const v of victims.splice(0, info.url.includes("page=3") ? 3 : 2)) sim.state.removeProject(v);
        removed = true;
      }
    });
    const seen = await scan(prefetch);
    off();
    expect(removed).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);
    const remaining = sim.state.projects.map((p) => p.id);
    const missing = remaining.filter((id) => !seen.includes(id));
    expect(missing).toEqual([]);
  });

  test(`projects moved in with smaller ids mid-scan shift the pages up: nothing is repeated or lost (prefetch ${prefetch})`, async () => {
    const group = () =>
      sim.state.projects.filter((p) => p.namespaceId === sim.state.group.id).map((p) => p.id);
    const all = group();
    // Out of the group before the scan; back in (ids kept, as a transfer does) just before page 4
    // is answered: three land behind the scan's position, one ahead of it.
    const behind = [all[10], all[20], all[30]] as number[];
    const ahead = all[900] as number;
    for (const id of [...behind, ahead]) sim.state.moveOut(id);
    const before = group();
    let shifted = false;
    const off = sim.onRequest((info) => {
      if (
        info.route === "GET /groups/:id/projects" &&
        /[?&]page=4&/.test(`${info.url}&`) &&
        /per_page=100/.test(info.url) &&
        !shifted
      ) {
        for (const id of [...behind, ahead]) sim.state.moveIn(id);
        // page 4 now starts three projects earlier: with the last three of page 3
        shifted = group()[300] === before[297];
      }
    });
    const seen = await scan(prefetch);
    off();
    expect(shifted).toBe(true);
    expect(seen.filter((id, i) => seen.indexOf(id) !== i)).toEqual([]);
    expect(before.filter((id) => !seen.includes(id))).toEqual([]);
    expect(seen).toContain(ahead);
  });
}
