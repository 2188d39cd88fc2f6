/**
 * Hook adoption against the simulator: a hook of the replaced service (WEBHOOK_LEGACY_URLS)
 * makes a project "not monitored"; monitor-item's createHook edits it in place to ours (same
 * hook id, our url, token, push events, SSL verification), deletes any other legacy hook, and
 * leaves hooks of other services alone; a repeat changes nothing.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { simConfig, WEBHOOK_URL } from "./helpers.ts";

const LEGACY = "http://ap-imrt-iis-service/webHook";
const LEGACY_2 = "https://iis.example.org/webHook";
const SECRET = "adoption-test-secret-0123456789";

let sim: GitlabSim;
beforeAll(() => {
  sim = startGitlabSim({ projects: 20, monitoredFraction: 0, otherHookFraction: 0 });
});
afterAll(() => sim.close());

const client = () =>
  createGitlabClient(simConfig(sim, { webhookSecret: SECRET, webhookLegacyUrls: [LEGACY, LEGACY_2] }), {
    logger: silentLogger,
  });
const projectWith = (index: number, urls: string[]) => {
  const p = sim.state.projects[index]!;
  for (const url of urls)
    sim.state.addHook(p, { url, pushEvents: false, enableSslVerification: false, token: "old" });
  return p;
};
const hooks = (p: { id: number }) => sim.state.hooksOf(sim.state.project(p.id)!);

test("a legacy hook alone is edited in place to ours: same id, our url, token, push events and SSL verification", async () => {
  const p = projectWith(0, [LEGACY]);
  const legacyId = hooks(p)[0]!.id;
  const gitlab = client();
  expect(await gitlab.isMonitored(p.id)).toBe(false);
  expect((await gitlab.createHook(p.id)).outcome).toBe("adopted");
  expect(hooks(p)).toHaveLength(1);
  expect(hooks(p)[0]).toMatchObject({
    id: legacyId,
    url: WEBHOOK_URL,
    token: SECRET,
    pushEvents: true,
    enableSslVerification: true,
  });
  expect(await gitlab.isMonitored(p.id)).toBe(true);
  expect((await gitlab.createHook(p.id)).outcome).toBe("exists");
  expect(hooks(p)).toHaveLength(1);
});

test("ours and a legacy one: not monitored; the legacy one is deleted, ours kept", async () => {
  const p = projectWith(1, [LEGACY]);
  sim.state.addHook(sim.state.project(p.id)!, { url: WEBHOOK_URL, token: SECRET });
  const oursId = hooks(p).find((h) => h.url === WEBHOOK_URL)!.id;
  const gitlab = client();
  expect(await gitlab.isMonitored(p.id)).toBe(false);
  expect((await gitlab.createHook(p.id)).outcome).toBe("exists");
  expect(hooks(p).map((h) => [h.id, h.url])).toEqual([[oursId, WEBHOOK_URL]]);
});

test("two legacy hooks: one adopted, the other deleted; another service's hook is left alone", async () => {
  const p = projectWith(2, ["https://ci.example.org/hook", "HTTPS://IIS.EXAMPLE.ORG:443/webHook", LEGACY]);
  const [other, first] = hooks(p);
  expect((await client().createHook(p.id)).outcome).toBe("adopted");
  expect(hooks(p).map((h) => [h.id, h.url])).toEqual([
    [other!.id, "https://ci.example.org/hook"],
    [first!.id, WEBHOOK_URL],
  ]);
});

test("no hook at all: ours is added", async () => {
  const p = sim.state.projects[3]!;
  expect((await client().createHook(p.id)).outcome).toBe("created");
  expect(hooks(p).map((h) => h.url)).toEqual([WEBHOOK_URL]);
});

test("without WEBHOOK_LEGACY_URLS a legacy hook is just another service's hook", async () => {
  const p = projectWith(4, [LEGACY]);
  const gitlab = createGitlabClient(simConfig(sim), { logger: silentLogger });
  expect((await gitlab.createHook(p.id)).outcome).toBe("created");
  expect(hooks(p).map((h) => h.url)).toEqual([LEGACY, WEBHOOK_URL]);
});
