/**
 * Our hook switched off by GitLab, against the simulator (which disables failing hooks as GitLab
 * does, both kinds): checkHook reads `alert_status` / `disabled_until` from the hooks listing and
 * isMonitored says no; createHook (monitor-item) re-enables it the documented way — a test
 * request, which re-enables a hook whose receiver answers 2xx; when it does not (a stale secret
 * token), the hook is edited in place to our settings and tested again; a receiver that keeps
 * failing leaves it disabled, said as such.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { simConfig } from "./helpers.ts";

const SECRET = "hook-health-secret-0123456789";

let sim: GitlabSim;
let receiverUp = true;
let received = 0;
// our receiver, as item-sync's: 2xx for a delivery carrying the secret, 401 without it
const receiver = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    received++;
    if (!receiverUp) return new Response("down", { status: 503 });
    return req.headers.get("x-gitlab-token") === SECRET
      ? new Response(null, { status: 202 })
      : new Response("bad token", { status: 401 });
  },
});
const webhookUrl = `http://127.0.0.1:${receiver.port}/webhooks/gitlab`;

beforeAll(() => {
  sim = startGitlabSim({ projects: 12, monitoredFraction: 0, otherHookFraction: 0, hookTestRateLimit: 0 });
});
afterAll(async () => {
  await sim.close();
  await receiver.stop(true);
});

const client = () =>
  createGitlabClient(simConfig(sim, { webhookUrl, webhookSecret: SECRET }), { logger: silentLogger });
const ourHook = (index: number, token = SECRET) => {
  const p = sim.state.projects[index]!;
  return sim.state.addHook(p, { url: webhookUrl, token });
};

test("a temporarily disabled hook: reported with its disabled_until, not monitored; a test request re-enables it", async () => {
  const hook = ourHook(0);
  const until = Date.now() + 60 * 60_000;
  sim.hookHealth.disable(hook, "temporarily", until);
  const gitlab = client();
  expect(await gitlab.checkHook(hook.projectId)).toEqual({
    state: "disabled",
    alertStatus: "temporarily_disabled",
    disabledUntil: new Date(until),
    legacy: false,
  });
  expect(await gitlab.isMonitored(hook.projectId)).toBe(false);
  const result = await gitlab.createHook(hook.projectId);
  expect(result).toMatchObject({
    outcome: "reenabled",
    reenabledBy: "test",
    disabled: { alertStatus: "temporarily_disabled", disabledUntil: new Date(until) },
  });
  expect(await gitlab.checkHook(hook.projectId)).toEqual({ state: "ok", legacy: false });
  expect(sim.state.hooksOf(sim.state.project(hook.projectId)!)).toHaveLength(1); // the same hook, no new one
});

test("a hook disabled for good, by four 4xx answers (GitLab before 17.11) or set so (17.11 after 40 failures), reads as disabled and gets no pushes", async () => {
  const old = startGitlabSim({
    projects: 2,
    monitoredFraction: 0,
    otherHookFraction: 0,
    hookAutoDisable: "gitlab-before-17.11",
  });
  try {
    const p = old.state.projects[0]!;
    receiverUp = true;
    const hook = old.state.addHook(p, { url: webhookUrl, token: "stale-token" }); // our receiver answers 401
    for (let i = 0; i < 4; i++) await old.deliverPush(p.id);
    const gitlab = createGitlabClient(simConfig(old, { webhookUrl, webhookSecret: SECRET }), {
      logger: silentLogger,
    });
    expect(await gitlab.checkHook(hook.projectId)).toMatchObject({
      state: "disabled",
      alertStatus: "disabled",
    });
    // a further push is not delivered
    const before = received;
    await old.deliverPush(p.id);
    expect(received).toBe(before);
  } finally {
    await old.close();
  }
  const hook = ourHook(1);
  sim.hookHealth.disable(hook, "permanently");
  expect(await client().checkHook(hook.projectId)).toEqual({
    state: "disabled",
    alertStatus: "disabled",
    disabledUntil: null,
    legacy: false,
  });
});

test("a hook disabled because its secret token went stale: the test fails, the hook is edited in place to ours and re-enabled by a second test", async () => {
  const hook = ourHook(2, "stale-token");
  sim.hookHealth.disable(hook, "permanently");
  const result = await client().createHook(hook.projectId);
  expect(result).toMatchObject({ outcome: "reenabled", reenabledBy: "edit" });
  expect(hook.token).toBe(SECRET);
  expect(await client().checkHook(hook.projectId)).toEqual({ state: "ok", legacy: false });
  // pushes reach the receiver again
  const before = received;
  await sim.deliverPush(hook.projectId);
  expect(received).toBe(before + 1);
});

test("a receiver that keeps failing: the hook stays disabled and the outcome says why", async () => {
  const hook = ourHook(3);
  sim.hookHealth.disable(hook, "temporarily");
  receiverUp = false;
  try {
    const result = await client().createHook(hook.projectId);
    expect(result.outcome).toBe("still_disabled");
    expect(result.reason).toContain("down");
    expect((await client().checkHook(hook.projectId)).state).toBe("disabled");
  } finally {
    receiverUp = true;
  }
});
