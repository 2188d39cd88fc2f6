import { describe, expect, test } from "bun:test";
import {
  createJobMessage,
  createProjectSyncMessage,
  createWebhookProjectMessage,
  createWebhookUpdateMessage,
  encodeMessage,
  MalformedMessageError,
  parseMessage,
} from "./messages.ts";

const project = { projectId: 1234, projectPath: "imrt/items/item-1234" };
const now = new Date("2026-01-02T03:04:05.678Z");

describe("messages", () => {
  test("job messages carry the contract's body, routing key and message id", () => {
    const m = createJobMessage("update-item", 7, project, now);
    expect(m.body).toEqual({
      type: "update-item",
      version: 1,
      projectId: 1234,
      projectPath: "imrt/items/item-1234",
      jobExecutionId: 7,
      createdAt: "2026-01-02T03:04:05.678Z",
    });
    expect(m.messageId).toBe("7:update-item:1234");
    expect(m.routingKey).toBe("item.update");
    expect(createJobMessage("monitor-item", 7, project).routingKey).toBe("item.monitor");
    expect(createJobMessage("delete-item", 7, project).routingKey).toBe("item.delete");
  });

  test("webhook updates use the checkout sha in the id and a null execution id", () => {
    const m = createWebhookUpdateMessage("deadbeef", project, now);
    expect(m.messageId).toBe("deadbeef:update-item:1234");
    expect(m.body.jobExecutionId).toBeNull();
    expect(m.routingKey).toBe("item.update");
  });

  test("a system hook's monitor-item and a one-project sync's carry no execution, and consumers take them", () => {
    const m = createWebhookProjectMessage("monitor-item", "project_create", project, now);
    expect(m.messageId).toBe("project_create:monitor-item:1234");
    expect(m.routingKey).toBe("item.monitor");
    expect(parseMessage(encodeMessage(m.body))).toEqual(m.body);
    const s = createProjectSyncMessage("monitor-item", project, now);
    expect(parseMessage(encodeMessage(s.body)).jobExecutionId).toBeNull();
  });

  test("parseMessage round-trips bytes, text and decoded objects", () => {
    const m = createJobMessage("delete-item", 9, project, now);
    const bytes = encodeMessage(m.body);
    expect(parseMessage(bytes)).toEqual(m.body);
    expect(parseMessage(bytes.toString())).toEqual(m.body);
    expect(parseMessage(JSON.parse(bytes.toString()))).toEqual(m.body);
    expect(parseMessage(createWebhookUpdateMessage("abc", project, now).body).jobExecutionId).toBeNull();
  });

  const valid = createJobMessage("update-item", 7, project, now).body;
  const cases: [string, unknown, string][] = [
    ["not JSON", Buffer.from("{nope"), "not valid JSON"],
    ["invalid UTF-8", Buffer.from([0xff, 0xfe, 0x7b]), "not valid UTF-8"],
    ["an array", [], "not a JSON object"],
    ["null", null, "not a JSON object"],
    ["unknown type", { ...valid, type: "rename-item" }, "type must be"],
    ["other version", { ...valid, version: 2 }, "version must be 1"],
    ["string project id", { ...valid, projectId: "1234" }, "projectId"],
    ["zero project id", { ...valid, projectId: 0 }, "projectId"],
    ["fractional project id", { ...valid, projectId: 1.5 }, "projectId"],
    ["empty path", { ...valid, projectPath: " " }, "projectPath"],
    ["missing path", { ...valid, projectPath: undefined }, "projectPath"],
    ["path over 1000 characters", { ...valid, projectPath: `imrt/${"a".repeat(1000)}` }, "at most 1000"],
    ["path without a namespace", { ...valid, projectPath: "item-1234" }, "GitLab project path"],
    ["path with a space", { ...valid, projectPath: "imrt/items/item 1234" }, "GitLab project path"],
    ["path with a leading slash", { ...valid, projectPath: "/imrt/items/x" }, "GitLab project path"],
    ["path with a segment starting with -", { ...valid, projectPath: "imrt/-x" }, "GitLab project path"],
    ["path with a control character", { ...valid, projectPath: "imrt/items/x\n" }, "GitLab project path"],
    ["bad execution id", { ...valid, jobExecutionId: -1 }, "jobExecutionId"],
    ["bad date", { ...valid, createdAt: "yesterday" }, "createdAt"],
    ["impossible date", { ...valid, createdAt: "2026-13-45T00:00:00Z" }, "createdAt"],
    ["extra field", { ...valid, extra: 1 }, "unknown field(s): extra"],
    ["too large", Buffer.alloc(70 * 1024, 0x20), "too large"],
  ];
  for (const [name, input, reason] of cases) {
    test(`parseMessage refuses ${name}`, () => {
      let error: unknown;
      try {
        parseMessage(input);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MalformedMessageError);
      expect((error as MalformedMessageError).reason).toContain(reason);
    });
  }
});
