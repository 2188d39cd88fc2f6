/**
 * System hooks against docs.gitlab.com/administration/system_hooks/ (the events and their
 * payloads; `X-Gitlab-Event: System Hook`; "project_rename triggers when … path is changed",
 * a name alone being project_update) and docs.gitlab.com/api/system_hooks/ (list, add, test,
 * delete). The state's project operations emit the events; the simulator posts them.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type GitlabSim, startGitlabSim } from "./gitlab.ts";
import { sendSystemHook, systemHookPayload } from "./gitlab-system-hooks.ts";

function receiver() {
  const got: Array<{ headers: Headers; body: Record<string, unknown> }> = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      got.push({ headers: req.headers, body: (await req.json()) as Record<string, unknown> });
      return new Response("ok");
    },
  });
  return { url: `http://127.0.0.1:${server.port}/systemHook`, got, stop: () => server.stop(true) };
}

const open: Array<{ close(): Promise<void> } | { stop(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ("close" in x ? x.close() : x.stop());
});

function setup(withHook = true) {
  const rx = receiver();
  const sim = startGitlabSim({
    projects: 5,
    ...(withHook ? { systemHookUrl: rx.url, systemHookToken: "sys-token" } : {}),
  });
  open.push(sim, rx);
  return { sim, rx };
}

const FIELDS = [
  "created_at",
  "updated_at",
  "event_name",
  "name",
  "owner_email",
  "owner_name",
  "owners",
  "path",
  "path_with_namespace",
  "project_id",
  "project_namespace_id",
  "project_visibility",
];

describe("project events", () => {
  test("project_create: the documented fields, X-Gitlab-Event System Hook and the token", async () => {
    const { sim, rx } = setup();
    const p = sim.state.addProject();
    await sim.idle();
    expect(rx.got).toHaveLength(1);
    const { headers, body } = rx.got[0]!;
    expect(headers.get("x-gitlab-event")).toBe("System Hook");
    expect(headers.get("x-gitlab-token")).toBe("sys-token");
    expect(Object.keys(body).sort()).toEqual([...FIELDS].sort());
    expect(body).toMatchObject({
      event_name: "project_create",
      project_id: p.id,
      name: p.name,
      path: p.path,
      path_with_namespace: `imrt/items/${p.path}`,
      project_namespace_id: sim.groupId,
      owner_name: "items",
      project_visibility: "private",
      created_at: p.createdAt,
    });
  });

  test("project_destroy carries the removed project as it was", async () => {
    const { sim, rx } = setup();
    const path = sim.state.fullPathOf(sim.state.project(3)!);
    sim.state.removeProject(3);
    await sim.idle();
    expect(rx.got[0]?.body).toMatchObject({
      event_name: "project_destroy",
      project_id: 3,
      path_with_namespace: path,
    });
  });

  test("a changed path is project_rename with the old path; a name alone is project_update", async () => {
    const { sim, rx } = setup();
    const before = sim.state.fullPathOf(sim.state.project(1)!);
    sim.state.renameProject(1, { name: "Renamed", path: "renamed" });
    sim.state.renameProject(1, { name: "Renamed again" });
    await sim.idle();
    const events = rx.got.map((g) => g.body);
    const rename = events.find((e) => e.event_name === "project_rename");
    expect(rename).toMatchObject({
      name: "Renamed",
      path: "renamed",
      path_with_namespace: before.replace(/[^/]+$/, "renamed"),
      old_path_with_namespace: before,
    });
    const update = events.find((e) => e.event_name === "project_update");
    expect(update).toMatchObject({ name: "Renamed again" });
    expect(update).not.toHaveProperty("old_path_with_namespace");
  });

  test("project_transfer when a project moves to another namespace, out of the group or into it", async () => {
    const { sim, rx } = setup();
    const id = sim.state.projects.find((p) => p.namespaceId === sim.groupId)!.id;
    const inGroup = sim.state.fullPathOf(sim.state.project(id)!);
    sim.state.moveOut(id);
    sim.state.moveIn(id);
    await sim.idle();
    const [out, back] = rx.got.map((g) => g.body);
    expect(out).toMatchObject({
      event_name: "project_transfer",
      old_path_with_namespace: inGroup,
      path_with_namespace: `elsewhere/shared-items/item-${id}`,
    });
    expect(back).toMatchObject({
      event_name: "project_transfer",
      old_path_with_namespace: `elsewhere/shared-items/item-${id}`,
      path_with_namespace: inGroup,
    });
  });

  test("nothing is sent without a system hook; every registered hook gets each event", async () => {
    const { sim, rx } = setup(false);
    sim.state.addProject();
    await sim.idle();
    expect(rx.got).toHaveLength(0);
    sim.state.addSystemHook(rx.url, "a");
    sim.state.addSystemHook(rx.url, "b");
    sim.state.removeProject(1);
    await sim.idle();
    expect(rx.got.map((g) => g.headers.get("x-gitlab-token")).sort()).toEqual(["a", "b"]);
    expect(sim.systemHookDeliveries).toHaveLength(2);
  });
});

describe("system hooks API and helper", () => {
  const api = (sim: GitlabSim, path: string, init: RequestInit = {}) =>
    fetch(`${sim.url}/api/v4${path}`, {
      ...init,
      headers: { "PRIVATE-TOKEN": sim.token, "content-type": "application/json" },
    });

  test("POST /hooks adds one (201), GET /hooks lists it without its token, DELETE removes it (204)", async () => {
    const { sim, rx } = setup(false);
    const added = await api(sim, "/hooks", {
      method: "POST",
      body: JSON.stringify({ url: rx.url, token: "t" }),
    });
    expect(added.status).toBe(201);
    const hook = (await added.json()) as { id: number; url: string };
    expect(hook.url).toBe(rx.url);
    const listed = (await (await api(sim, "/hooks")).json()) as Array<Record<string, unknown>>;
    expect(listed.map((h) => h.id)).toEqual([hook.id]);
    expect(listed[0]).not.toHaveProperty("token");
    const tested = await api(sim, `/hooks/${hook.id}`, { method: "POST" });
    expect(((await tested.json()) as { event_name: string }).event_name).toBe("project_create");
    expect((await api(sim, `/hooks/${hook.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(sim, `/hooks/${hook.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await api(sim, "/hooks", { method: "POST", body: "{}" })).status).toBe(400);
  });

  test("sendSystemHook posts a payload to any url with the System Hook headers", async () => {
    const rx = receiver();
    open.push(rx);
    const payload = systemHookPayload(
      "project_destroy",
      {
        id: 9,
        name: "Item 9",
        path: "item-9",
        pathWithNamespace: "imrt/items/item-9",
        namespaceId: 1001,
        namespaceName: "items",
        createdAt: "2024-01-01T00:09:00.000Z",
      },
      { at: "2025-01-01T00:00:00.000Z" },
    );
    const sent = await sendSystemHook(rx.url, "tok", payload);
    expect(sent.outcome).toMatchObject({ status: 200 });
    expect(rx.got[0]?.headers.get("x-gitlab-event")).toBe("System Hook");
    expect(rx.got[0]?.headers.get("x-gitlab-token")).toBe("tok");
    expect(rx.got[0]?.body).toEqual(payload);
  });
});
