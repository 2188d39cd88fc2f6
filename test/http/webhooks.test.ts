/**
 * The webhook receiver refuses, with 422, any event whose message the consumers would
 * dead-letter (a path too long or not shaped like a GitLab project path): such an event is never
 * published, so a holder of the webhook secret cannot fill the `.dead` queues with it.
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/http/app.ts";
import { testAppDeps, testWebhooks } from "../helpers/app.ts";

const SECRET = "webhook-bounds-secret-0123456789";
const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("webhook bounds", () => {
  const published: string[] = [];
  const verified: number[] = [];
  const app = createApp(
    testAppDeps({
      jobs: {} as never,
      webhooks: testWebhooks(
        { includeSubgroups: true, webhookSecret: SECRET },
        {
          publishPush: async (p) => {
            published.push(`update ${p.projectPath}`);
          },
          publishRemoval: async (r) => {
            published.push(`delete ${r.projectPath}`);
          },
          hookVerified: async (id) => {
            verified.push(id);
          },
        },
      ),
    }),
  );
  const deliver = (body: unknown, event = "Push Hook") =>
    app.handle(
      new Request("http://localhost/webhooks/gitlab", {
        method: "POST",
        headers: { "content-type": "application/json", "x-gitlab-token": SECRET, "x-gitlab-event": event },
        body: JSON.stringify(body),
      }),
    );
  const push = (path: string) => ({
    object_kind: "push",
    ref: "refs/heads/main",
    checkout_sha: SHA,
    project: { id: 42, path_with_namespace: path, default_branch: "main" },
  });

  test("a push whose path the consumers would refuse gets 422 and publishes nothing", async () => {
    for (const path of [
      `imrt/items/${"a".repeat(900 * 1024)}`, // the 900 KB path of the review
      `imrt/items/${"a".repeat(990)}`, // just over 1,000 characters
      "imrt/items/item 42",
      "imrt/items/-item",
      "imrt/items/item\u0000",
      "imrt/items/ïtem",
    ]) {
      const res = await deliver(push(path));
      expect({ path: path.slice(0, 40), status: res.status }).toEqual({
        path: path.slice(0, 40),
        status: 422,
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("INVALID_REQUEST");
      expect(body.error.message).toMatch(/projectPath|body too large/);
    }
    expect(published).toEqual([]);
    expect(verified).toEqual([]);
  });

  test("a system hook removal with such a path gets 422 too; good events still go through", async () => {
    const res = await deliver(
      { event_name: "project_destroy", project_id: 7, path_with_namespace: "imrt/items/bad path" },
      "System Hook",
    );
    expect(res.status).toBe(422);
    expect(published).toEqual([]);
    expect((await deliver(push("imrt/items/sub.group/item_42-x"))).status).toBe(202);
    expect(
      (
        await deliver(
          { event_name: "project_destroy", project_id: 7, path_with_namespace: "imrt/items/item-7" },
          "System Hook",
        )
      ).status,
    ).toBe(202);
    expect(published).toEqual(["update imrt/items/sub.group/item_42-x", "delete imrt/items/item-7"]);
  });
});

describe("webhook token first", () => {
  test("a delivery without the secret gets 401 whatever its query; with it, a parameter given twice is 400", async () => {
    const app = createApp(
      testAppDeps({ jobs: {} as never, webhooks: testWebhooks({ webhookSecret: SECRET }) }),
    );
    const deliver = (token: string | null) =>
      app.handle(
        new Request("http://localhost/webhooks/gitlab?a=1&a=2", {
          method: "POST",
          headers: token ? { "x-gitlab-token": token } : {},
          body: "{}",
        }),
      );
    expect((await deliver(null)).status).toBe(401);
    expect((await deliver("wrong-secret-0123456789abcdef")).status).toBe(401);
    const twice = await deliver(SECRET);
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: { code: string } }).error.code).toBe("DUPLICATE_PARAMETER");
  });
});
