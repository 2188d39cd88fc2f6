import { describe, expect, test } from "bun:test";
import { interpretWebhook } from "./webhook.ts";

const config = { group: "imrt/items", includeSubgroups: true, ignoreProjects: ["imrt/items/ignored"] };
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
