/**
 * What createApp (src/http/app.ts) needs, for tests of the HTTP layer: stand-ins for everything a
 * test does not look at, so each test names only what it does.
 */
import type { AppDeps } from "../../src/http/app.ts";
import { createStaticTokenAuthenticator } from "../../src/http/auth/auth.ts";
import type { WebhookDeps } from "../../src/http/routes-webhooks.ts";
import type { ItemViews } from "../../src/items/item-views.ts";
import { silentLogger } from "../../src/lib/log.ts";

/**
 * A webhook receiver for the group imrt/items (no subgroups, no shared projects, none ignored, no
 * secret) that publishes nothing and logs nothing; `gitlab` and `deps` change any of that.
 */
export function testWebhooks(
  gitlab: Partial<WebhookDeps["gitlab"]> = {},
  deps: Partial<Omit<WebhookDeps, "gitlab">> = {},
): WebhookDeps {
  return {
    gitlab: {
      group: "imrt/items",
      includeSubgroups: false,
      withShared: false,
      ignoreProjects: [],
      webhookSecret: "",
      ...gitlab,
    },
    publishRemoval: async () => {},
    publishPush: async () => {},
    logger: silentLogger,
    ...deps,
  };
}

/**
 * createApp's dependencies: no executions (GET /jobs lists none), no item views, no project to
 * sync, testWebhooks(), no token accepted, always ready with no checks, empty metrics, no log,
 * version "test". What the test looks at goes in `deps`, which wins over these.
 */
export function testAppDeps(deps: Partial<AppDeps> = {}): AppDeps {
  return {
    jobs: { list: async () => [] } as never,
    items: {} as ItemViews,
    syncProject: async () => null,
    webhooks: testWebhooks(),
    authenticator: createStaticTokenAuthenticator([]),
    health: { ready: async () => ({ ok: true, checks: {} }) },
    metrics: async () => "",
    logger: silentLogger,
    version: "test",
    ...deps,
  };
}
