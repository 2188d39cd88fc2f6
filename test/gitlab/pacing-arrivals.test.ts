/**
 * GITLAB_MAX_RPS as GitLab counts it: by arrival at the server. The simulator records when each
 * request arrives, and a new connection's first request arrives late (its handshake), as from a
 * remote GitLab — a cold start, where the late cold requests bunch up with the warm ones behind
 * them. No one-second window at the simulator may hold more than the cap.
 */
import { afterEach, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { forEachLimited, simConfig } from "./helpers.ts";

let sim: GitlabSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

test("GITLAB_MAX_RPS=120 from a cold start, concurrency 32: no one-second window at the server holds more than 120", async () => {
  const cap = 120;
  sim = startGitlabSim({
    projects: 400,
    subgroupFraction: 0,
    sharedFraction: 0,
    latencyMs: 20,
    newConnectionDelayMs: 60,
  });
  const s = sim;
  const client = createGitlabClient(simConfig(s, { concurrency: 32, maxRps: cap }), { logger: silentLogger });
  await forEachLimited(s.state.projects, 128, async (p) => {
    await client.isMonitored(p.id);
  });
  expect(s.stats().requests).toBe(400);
  const busiest = s.maxInWindow(1000);
  expect(busiest).toBeLessThanOrEqual(cap);
  expect(busiest).toBeGreaterThan(cap / 2); // the cap set the pace, not something slower
  // Evenly spread, not the cap at once and then an idle rest of the second.
  expect(s.maxInWindow(250)).toBeLessThanOrEqual(cap / 4 + 3);
}, 30_000);
