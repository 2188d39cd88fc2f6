/**
 * Hooks GitLab switched off, and GitLab's system hooks, through the compiled binary, real
 * RabbitMQ, SQLite and the simulator, whose project hooks and system hook point at the binary's
 * own receiver (so deliveries are real, and GitLab's auto-disabling happens as GitLab does it):
 * - a hook GitLab disabled after four 401s (a stale secret token; 17.11: temporarily) and one
 *   disabled for good are re-enabled by the next run — the first edited in place to our token,
 *   the second by a test request alone; sync_project says `ok` again, sync_item_event says which
 *   kind was found, the metrics count them, and pushes reach the receiver again; a one-project
 *   sync (POST /sync/{projectId}) re-enables one too;
 * - system hooks: project_create in the group → our hook and the item at once; project_rename and
 *   project_transfer within the group → the new path is recorded, without any sync.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Db, openDb } from "../../src/db/client.ts";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  freePort,
  type RunningProcess,
  serviceEnv,
  startBinary,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { alertStatus } from "../sim/gitlab-hooks.ts";
import type { SimHook } from "../sim/gitlab-model.ts";

const SECRET = "hook-health-e2e-secret-0123456789";

describe("hook health and system hooks via the binary", () => {
  let t: TestDatabase;
  let db: Db;
  let sim: GitlabSim;
  let serve: RunningProcess;
  let call: ReturnType<typeof api>;
  const names = brokerNames("hookh");
  const port = freePort();
  const webhookUrl = `http://127.0.0.1:${port}/webhooks/gitlab`;

  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    db = openDb(t.url);
    sim = startGitlabSim({
      projects: 24,
      monitoredFraction: 0,
      otherHookFraction: 0,
      subgroupFraction: 0.25,
      sharedFraction: 0,
      webhookUrl,
      deliverPushes: true,
      systemHookUrl: webhookUrl,
      systemHookToken: SECRET,
    });
    // our hooks, with our secret, as monitor-item would have set them (a new project has none)
    for (const p of sim.state.projects) sim.state.addHook(p, { url: webhookUrl, token: SECRET });
    serve = await startBinary(
      ["serve"],
      serviceEnv(sim, names, {
        PORT: String(port),
        DATABASE_URL: t.url,
        GITLAB_INCLUDE_SUBGROUPS: "true",
        SYNC_MODE: "full",
        WEBHOOK_URL: webhookUrl,
        WEBHOOK_SECRET: SECRET,
      }),
    );
    call = api(serve.url);
  });
  afterAll(async () => {
    await serve?.kill("SIGKILL");
    await sim?.close();
    await deleteBrokerNames(names);
    await db?.close();
    await t?.drop();
  });

  const groupProjects = () => sim.state.projects.filter((p) => p.namespaceId !== sim.state.outside.id);
  const ours = (projectId: number): SimHook => {
    const hook = sim.state.hooksOf(sim.state.project(projectId)!).find((h) => h.url === webhookUrl);
    if (!hook) throw new Error(`project ${projectId} has no hook of ours`);
    return hook;
  };
  const row = async (projectId: number) =>
    (
      await db.all<Record<string, unknown>>(
        "select project_path, hook_state, hook_state_since, ingest_state, head_commit_hash from sync_project where project_id = $1",
        [projectId],
      )
    )[0];
  const hookEvents = async (projectId: number) =>
    (
      await db.all<{ action: string; commit_date: unknown }>(
        "select action, commit_date from sync_item_event where project_id = $1 and action like 'hook%' order by id",
        [projectId],
      )
    ).map((e) => ({ action: e.action, until: e.commit_date !== null }));
  const sync = async () => {
    const launched = await call("POST", "/sync");
    expect(launched.status).toBe(202);
    return waitForExecution(call, launched.body.id as number, { proc: serve });
  };
  const ingested = (ids: number[]) =>
    waitFor(
      `${ids.length} projects ingested`,
      async () => {
        for (const id of ids) if ((await row(id))?.ingest_state == null) return false;
        return true;
      },
      60_000,
    );
  const deliveredTo = (projectId: number) =>
    sim.hookDeliveries.filter((d) => d.hookId === ours(projectId).id && d.outcome !== "skipped");

  test("hooks GitLab disabled (both kinds) are re-enabled by the next run, and pushes reach the webhook again", async () => {
    const first = await sync();
    expect(first.status).toBe("COMPLETED");
    expect(first.counts.monitorPublished).toBe(0);
    await ingested(groupProjects().map((p) => p.id));

    const [a, b] = groupProjects();
    if (!a || !b) throw new Error("too few projects");
    // A: its hook's token went stale; four pushes answered 401 → GitLab (17.11) disables it for a while
    ours(a.id).token = "stale-token";
    for (let i = 0; i < 4; i++) {
      sim.state.setWorkflowStatus(a.id, "Released", { author: "editor" });
      await sim.idle();
    }
    expect(deliveredTo(a.id).map((d) => (d.outcome as { status: number }).status)).toEqual([
      401, 401, 401, 401,
    ]);
    expect(alertStatus(ours(a.id), Date.now())).toBe("temporarily_disabled");
    // B: disabled for good (40 failures under 17.11, four 4xx before it): set directly
    sim.hookHealth.disable(ours(b.id), "permanently");
    sim.state.setWorkflowStatus(b.id, "Released", { author: "editor" });
    await sim.idle();
    expect(sim.hookDeliveries.at(-1)).toMatchObject({ hookId: ours(b.id).id, outcome: "skipped" });

    const second = await sync();
    expect(second.status).toBe("COMPLETED");
    expect(second.counts.monitorPublished).toBe(2);
    await waitFor(
      "both hooks enabled again",
      async () =>
        alertStatus(ours(a.id), Date.now()) === "executable" &&
        alertStatus(ours(b.id), Date.now()) === "executable" &&
        (await row(a.id))?.hook_state === "ok" &&
        (await row(b.id))?.hook_state === "ok",
      30_000,
    );
    expect(ours(a.id).token).toBe(SECRET); // edited in place to ours, same hook
    expect(await hookEvents(a.id)).toEqual([
      { action: "hook_temp_disabled", until: true },
      { action: "hook_reenabled", until: false },
    ]);
    expect(await hookEvents(b.id)).toEqual([
      { action: "hook_disabled", until: false },
      { action: "hook_reenabled", until: false },
    ]);
    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toContain(
      'item_sync_ingest_hooks_disabled_total{alert_status="temporarily_disabled"} 1\n',
    );
    expect(metrics).toContain('item_sync_ingest_hooks_disabled_total{alert_status="disabled"} 1\n');
    expect(metrics).toContain("item_sync_ingest_hooks_reenabled_total 2\n");

    // pushes reach the webhook again, and the item follows without a sync
    const before = deliveredTo(b.id).length;
    sim.state.setWorkflowStatus(b.id, "Draft", { author: "editor" });
    await sim.idle();
    const delivered = deliveredTo(b.id);
    expect(delivered.length).toBe(before + 1);
    expect(delivered.at(-1)?.outcome).toMatchObject({ status: 202 });
    const head = sim.state.historyOf(sim.state.project(b.id)!)[0]?.id;
    expect(head).toBeDefined();
    await waitFor(
      "B's item at the pushed head",
      async () => (await row(b.id))?.head_commit_hash === head,
      30_000,
    );
    // the push is the item's last push received, as its status block shows
    const status = (await call("GET", `/items/${b.id}`)).body.status as { lastPush: { sha: string } | null };
    expect(status.lastPush?.sha).toBe(head);

    // a one-project sync treats a disabled hook as the scan does
    const c = groupProjects()[5]!;
    sim.hookHealth.disable(ours(c.id), "temporarily", Date.now() + 3_600_000);
    const one = await call("POST", `/sync/${c.id}`);
    expect(one.status).toBe(202);
    expect(one.body.published).toEqual(["monitor-item", "update-item"]);
    await waitFor("C's hook enabled again", async () => alertStatus(ours(c.id), Date.now()) === "executable");
  }, 120_000);

  test("system hooks: project_create brings our hook and the item at once; project_rename and project_transfer within the group record the new path", async () => {
    const created = sim.state.addProject({ namespaceId: sim.state.group.id });
    await sim.idle();
    await waitFor(
      "the new project's hook and item",
      async () =>
        sim.state.hooksOf(created).some((h) => h.url === webhookUrl && h.token === SECRET) &&
        (await row(created.id))?.ingest_state != null &&
        (await row(created.id))?.hook_state === "ok",
      30_000,
    );
    expect(sim.systemHookDeliveries.at(-1)).toMatchObject({ outcome: { status: 202 } });

    const renamed = groupProjects()[2]!;
    sim.state.renameProject(renamed.id, { path: `${renamed.path}-renamed` });
    const renamedPath = sim.state.fullPathOf(renamed);
    await waitFor(
      "the renamed path recorded",
      async () => (await row(renamed.id))?.project_path === renamedPath,
    );

    const moved = groupProjects().find((p) => p.namespaceId === sim.state.group.id && p.id !== created.id)!;
    const subgroup = sim.state.subgroups[0]!;
    sim.state.transferProject(moved.id, subgroup.id);
    const movedPath = sim.state.fullPathOf(moved);
    expect(movedPath.startsWith(`${sim.group}/`)).toBe(true);
    await waitFor(
      "the transferred path recorded",
      async () => (await row(moved.id))?.project_path === movedPath,
    );
    await sim.idle();
    const outcomes = sim.systemHookDeliveries.map(
      (d) => `${d.payload.event_name} ${(d.outcome as { status?: number }).status}`,
    );
    expect(outcomes).toEqual(["project_create 202", "project_rename 202", "project_transfer 202"]);
  }, 60_000);
});
