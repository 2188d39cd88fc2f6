import { describe, expect, test } from "bun:test";
import { interpretWebhook } from "./webhook.ts";

const config = {
  group: "imrt/items",
  includeSubgroups: true,
  withShared: false,
  ignoreProjects: ["imrt/items/ignored"],
};
const system = (event_name: string, path: string, old?: string) =>
  interpretWebhook(config, "System Hook", {
    event_name,
    project_id: 7,
    path_with_namespace: path,
    ...(old ? { old_path_with_namespace: old } : {}),
  });

describe("system hook project events", () => {
  test("project_transfer within the group (subgroups on) is an update-item with the new path, no monitor-item", () => {
    expect(system("project_transfer", "imrt/items/sub/item-7", "imrt/items/item-7")).toEqual({
      kind: "project",
      projectId: 7,
      projectPath: "imrt/items/sub/item-7",
      eventName: "project_transfer",
      monitor: false,
    });
  });

  test("into the group from elsewhere, or out of it, or into an ignored path", () => {
    expect(system("project_transfer", "imrt/items/item-7", "elsewhere/item-7")).toMatchObject({
      kind: "project",
      monitor: true,
    });
    expect(system("project_transfer", "elsewhere/item-7", "imrt/items/sub/item-7")).toEqual({
      kind: "delete",
      projectId: 7,
      projectPath: "imrt/items/sub/item-7",
      eventName: "project_transfer",
    });
    expect(system("project_transfer", "imrt/items/ignored", "imrt/items/item-7")).toMatchObject({
      kind: "delete",
    });
  });

  test("a numeric group: project_create publishes update-item alone (no hook on a project the path cannot place); a transfer asks delete-item's re-check", () => {
    const numeric = { ...config, group: "42" };
    const at = (event_name: string, old?: string) =>
      interpretWebhook(numeric, "System Hook", {
        event_name,
        project_id: 7,
        path_with_namespace: "any/item-7",
        ...(old ? { old_path_with_namespace: old } : {}),
      });
    expect(at("project_create")).toMatchObject({ kind: "project", monitor: false });
    expect(at("project_rename", "any/item-old")).toMatchObject({ kind: "project", monitor: false });
    expect(at("project_transfer", "other/item-7")).toMatchObject({ kind: "delete" });
  });

  test("events without what they need are ignored", () => {
    expect(system("project_transfer", "imrt/items/item-7").kind).toBe("ignored");
    expect(interpretWebhook(config, "System Hook", { event_name: "project_create" }).kind).toBe("ignored");
  });
});

describe("push events: which projects are the group's", () => {
  const push = (cfg: typeof config, path: string) =>
    interpretWebhook(cfg, "Push Hook", {
      object_kind: "push",
      project_id: 7,
      ref: "refs/heads/main",
      checkout_sha: "0123456789abcdef0123456789abcdef01234567",
      project: { path_with_namespace: path, default_branch: "main" },
    });

  test("GITLAB_GROUP in another case than the payload's path: still the group's (GitLab paths are case-insensitive)", () => {
    expect(push({ ...config, group: "IMRT/Items" }, "imrt/items/item-7").kind).toBe("update");
    expect(push(config, "Imrt/Items/item-7").kind).toBe("update");
  });

  test("with GITLAB_WITH_SHARED a path outside the group may be a project shared into it: update-item, whose handler asks GitLab", () => {
    expect(push(config, "elsewhere/shared/item-7").kind).toBe("ignored");
    expect(push({ ...config, withShared: true }, "elsewhere/shared/item-7").kind).toBe("update");
  });
});
