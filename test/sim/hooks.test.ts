/**
 * Project hooks at work, against GitLab's documentation:
 * - docs.gitlab.com/user/project/integrations/webhook_events/#push-events (the payload) and
 *   docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers (the headers);
 * - docs.gitlab.com/user/project/integrations/webhooks/#auto-disabled-webhooks: failing four
 *   consecutive times disables temporarily, "initially disabled for one minute, with the duration
 *   extending on subsequent failures up to 24 hours"; 40 consecutive failures disable for good;
 *   failures are 4xx, 5xx, timeouts and other HTTP errors (GitLab 17.11; before it a 4xx disabled
 *   at once, see the history note of that section); "To re-enable a disabled webhook, send a test
 *   request. The webhook is re-enabled if the test request returns a response code in the 2xx range.";
 * - docs.gitlab.com/api/project_webhooks/: `alert_status`, `disabled_until`, and "Trigger a test
 *   project webhook" (201 {"message":"201 Created"}; its trigger values; five a minute, 17.1+).
 * A fake clock stands for the passing of minutes and days.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type GitlabSim, type SimOptions, startGitlabSim } from "./gitlab.ts";
import type { SimHook } from "./gitlab-state.ts";

type Answer = number | "hang";
// biome-ignore lint/suspicious/noExplicitAny: a payload is read field by field as GitLab's documentation names them
type Payload = Record<string, any>;
function receiver() {
  const got: Array<{ headers: Headers; body: Payload }> = [];
  let answer: (n: number) => Answer = () => 200;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      got.push({ headers: req.headers, body: (await req.json()) as Payload });
      const a = answer(got.length);
      if (a === "hang") {
        await Bun.sleep(400);
        return new Response("late");
      }
      return new Response(a >= 400 ? `refused ${a}` : "ok", { status: a });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/webhooks/gitlab`,
    got,
    answer(fn: (n: number) => Answer) {
      answer = fn;
    },
    stop: () => server.stop(true),
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let clock = Date.UTC(2025, 0, 1);
const open: Array<{ close(): Promise<void> } | { stop(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ("close" in x ? x.close() : x.stop());
});

function setup(opts: SimOptions = {}) {
  clock = Date.UTC(2025, 0, 1);
  const sim = startGitlabSim({
    projects: 5,
    monitoredFraction: 0,
    otherHookFraction: 0,
    now: () => clock,
    ...opts,
  });
  const rx = receiver();
  open.push(sim, rx);
  const project = sim.state.project(2)!;
  const hook = sim.state.addHook(project, { url: rx.url, token: "s3cret" });
  return { sim, rx, hook };
}

const shown = async (sim: GitlabSim, hook: SimHook) =>
  (await (
    await fetch(`${sim.url}/api/v4/projects/${hook.projectId}/hooks/${hook.id}`, {
      headers: { "PRIVATE-TOKEN": sim.token },
    })
  ).json()) as { alert_status: string; disabled_until: string | null };

const testHook = (sim: GitlabSim, hook: SimHook, trigger = "push_events") =>
  fetch(`${sim.url}/api/v4/projects/${hook.projectId}/hooks/${hook.id}/test/${trigger}`, {
    method: "POST",
    headers: { "PRIVATE-TOKEN": sim.token },
  });

describe("push events", () => {
  test("each hook with push events on gets the documented payload and headers; others get nothing", async () => {
    const { sim, rx, hook } = setup();
    sim.state.addHook(sim.state.project(2)!, { url: rx.url, pushEvents: false });
    const parent = sim.state.historyOf(sim.state.project(2)!)[0]!;
    const c = sim.state.pushCommit(2, { author: "editor1", files: { "item.json": "{}", "new.txt": "x" } });
    const [d] = await sim.deliverPush(2, c);
    expect(d?.hookId).toBe(hook.id);
    expect(rx.got).toHaveLength(1);
    const { headers, body } = rx.got[0]!;
    expect(headers.get("x-gitlab-event")).toBe("Push Hook");
    expect(headers.get("x-gitlab-token")).toBe("s3cret");
    expect(headers.get("content-type")).toBe("application/json");
    expect(headers.get("user-agent")).toMatch(/^GitLab\//);
    expect(headers.get("x-gitlab-instance")).toBe(sim.url);
    for (const h of ["x-gitlab-event-uuid", "x-gitlab-webhook-uuid", "idempotency-key"]) {
      expect(headers.get(h)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect(body).toMatchObject({
      object_kind: "push",
      event_name: "push",
      before: parent.id,
      after: c.id,
      ref: "refs/heads/main",
      checkout_sha: c.id,
      user_name: "editor1",
      project_id: 2,
      total_commits_count: 1,
    });
    expect(body.project).toMatchObject({
      id: 2,
      path_with_namespace: "imrt/items/item-2",
      default_branch: "main",
    });
    expect(body.repository.name).toBe("Item 2");
    expect(body.commits).toEqual([
      {
        id: c.id,
        message: c.message,
        title: c.title,
        timestamp: c.committedDate,
        url: `${sim.url}/imrt/items/item-2/-/commit/${c.id}`,
        author: { name: "editor1", email: c.authorEmail },
        added: ["new.txt"],
        modified: ["item.json"],
        removed: [],
      },
    ]);
  });

  test("deliverPushes: every pushCommit is delivered to the project's hooks", async () => {
    const { sim, rx } = setup({ deliverPushes: true });
    sim.state.pushCommit(2);
    sim.state.pushCommit(2);
    await sim.idle();
    expect(rx.got).toHaveLength(2);
    sim.state.pushCommit(3); // no hook there
    await sim.idle();
    expect(rx.got).toHaveLength(2);
  });
});

describe("auto-disabling (GitLab 17.11)", () => {
  test("four consecutive 5xx disable for one minute; each further failure doubles it, up to 24 hours", async () => {
    const { sim, rx, hook } = setup();
    rx.answer(() => 500);
    for (let i = 0; i < 3; i++) await sim.deliverPush(2);
    expect(await shown(sim, hook)).toMatchObject({ alert_status: "executable", disabled_until: null });
    await sim.deliverPush(2);
    expect(await shown(sim, hook)).toEqual(
      expect.objectContaining({
        alert_status: "temporarily_disabled",
        disabled_until: new Date(clock + MINUTE).toISOString(),
      }),
    );
    // while disabled: not delivered at all
    const [skipped] = await sim.deliverPush(2);
    expect(skipped?.outcome).toBe("skipped");
    expect(rx.got).toHaveLength(4);
    const periods: number[] = [];
    for (let failure = 5; failure <= 16; failure++) {
      clock = Date.parse((await shown(sim, hook)).disabled_until ?? "") + 1;
      expect((await shown(sim, hook)).alert_status).toBe("executable"); // the period is over: tried again
      await sim.deliverPush(2);
      periods.push(Date.parse((await shown(sim, hook)).disabled_until ?? "") - clock);
    }
    expect(rx.got).toHaveLength(16);
    expect(periods).toEqual(
      [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 24 * 60, 24 * 60].map((m) => m * MINUTE),
    );
  });

  test("timeouts and connection errors are failures too", async () => {
    const { sim, rx, hook } = setup({ hookTimeoutMs: 100 });
    rx.answer(() => "hang");
    for (let i = 0; i < 2; i++) await sim.deliverPush(2);
    sim.state.editHook(hook, { url: "http://127.0.0.1:9/closed" }); // nothing listens on port 9
    for (let i = 0; i < 2; i++) await sim.deliverPush(2);
    expect(hook.recentFailures).toBe(4);
    expect((await shown(sim, hook)).alert_status).toBe("temporarily_disabled");
    const outcomes = sim.hookDeliveries.map((d) =>
      typeof d.outcome === "string" ? d.outcome : "error" in d.outcome ? d.outcome.error : d.outcome.status,
    );
    expect(outcomes).toEqual(["timeout", "timeout", "connection", "connection"]);
  });

  test("a 2xx in between resets the count: only consecutive failures disable", async () => {
    const { sim, rx, hook } = setup();
    rx.answer((n) => (n === 4 ? 204 : 502));
    for (let i = 0; i < 7; i++) await sim.deliverPush(2);
    expect(hook.recentFailures).toBe(3);
    expect((await shown(sim, hook)).alert_status).toBe("executable");
  });

  test("40 consecutive failures disable for good: no delivery however long one waits", async () => {
    const { sim, rx, hook } = setup();
    rx.answer(() => 503);
    for (let i = 0; i < 40; i++) {
      clock += 25 * HOUR; // past any temporary disabling
      await sim.deliverPush(2);
    }
    expect(await shown(sim, hook)).toMatchObject({ alert_status: "disabled", disabled_until: null });
    clock += 30 * 24 * HOUR;
    const [d] = await sim.deliverPush(2);
    expect(d?.outcome).toBe("skipped");
    expect(rx.got).toHaveLength(40);
  });

  test("4xx answers count as failures like 5xx: temporarily disabled, not for good", async () => {
    const { sim, rx, hook } = setup();
    rx.answer(() => 404);
    for (let i = 0; i < 4; i++) await sim.deliverPush(2);
    expect((await shown(sim, hook)).alert_status).toBe("temporarily_disabled");
  });

  test("before 17.11 a fourth consecutive 4xx disabled at once; 5xx only temporarily", async () => {
    const a = setup({ hookAutoDisable: "gitlab-before-17.11" });
    a.rx.answer(() => 401);
    for (let i = 0; i < 4; i++) await a.sim.deliverPush(2);
    expect(await shown(a.sim, a.hook)).toMatchObject({ alert_status: "disabled", disabled_until: null });
    const b = setup({ hookAutoDisable: "gitlab-before-17.11" });
    b.rx.answer(() => 500);
    for (let i = 0; i < 4; i++) await b.sim.deliverPush(2);
    expect((await shown(b.sim, b.hook)).alert_status).toBe("temporarily_disabled");
  });

  test("off (a self-managed instance without the flag): never disabled", async () => {
    const { sim, rx, hook } = setup({ hookAutoDisable: "off" });
    rx.answer(() => 500);
    for (let i = 0; i < 45; i++) await sim.deliverPush(2);
    expect(rx.got).toHaveLength(45);
    expect((await shown(sim, hook)).alert_status).toBe("executable");
  });
});

describe("re-enabling: the test endpoint", () => {
  test("a test is sent even to a disabled hook; an error answer is a 422 with the receiver's body", async () => {
    const { sim, rx, hook } = setup();
    sim.hookHealth.disable(hook, "permanently");
    rx.answer(() => 500);
    const res = await testHook(sim, hook);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ message: "refused 500" });
    expect(rx.got[0]?.headers.get("x-gitlab-event")).toBe("Push Hook");
    expect(rx.got[0]?.body.object_kind).toBe("push");
    expect((await shown(sim, hook)).alert_status).toBe("disabled");
  });

  test("a 2xx answer to the test re-enables the hook (201 Created) and deliveries resume", async () => {
    const { sim, hook } = setup();
    sim.hookHealth.disable(hook, "temporarily", clock + 10 * HOUR);
    expect(await shown(sim, hook)).toMatchObject({
      alert_status: "temporarily_disabled",
      disabled_until: new Date(clock + 10 * HOUR).toISOString(),
    });
    const res = await testHook(sim, hook);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ message: "201 Created" });
    expect(await shown(sim, hook)).toMatchObject({ alert_status: "executable", disabled_until: null });
    const [d] = await sim.deliverPush(2);
    expect(d?.outcome).not.toBe("skipped");
  });

  test("editing the hook (PUT) does not re-enable it", async () => {
    const { sim, hook } = setup();
    sim.hookHealth.disable(hook, "permanently");
    const res = await fetch(`${sim.url}/api/v4/projects/2/hooks/${hook.id}`, {
      method: "PUT",
      headers: { "PRIVATE-TOKEN": sim.token, "content-type": "application/json" },
      body: JSON.stringify({ url: `${hook.url}?v=2`, token: "new" }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { alert_status: string }).alert_status).toBe("disabled");
  });

  test("400 for an unknown trigger, 404 for an unknown hook, 422 when there is nothing to test", async () => {
    const { sim, hook } = setup();
    const bad = await testHook(sim, hook, "everything");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "trigger does not have a valid value" });
    expect((await testHook(sim, { ...hook, id: 999_999 })).status).toBe(404);
    expect((await testHook(sim, hook, "tag_push_events")).status).toBe(422);
  });

  test("five tests a minute per project, then 429; the next minute allows five again", async () => {
    const { sim, hook } = setup();
    for (let i = 0; i < 5; i++) expect((await testHook(sim, hook)).status).toBe(201);
    const limited = await testHook(sim, hook);
    expect(limited.status).toBe(429);
    clock += MINUTE + 1;
    expect((await testHook(sim, hook)).status).toBe(201);
  });
});
