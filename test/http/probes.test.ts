/**
 * Probes and scrapes are open to anyone, so each costs a bounded amount of work and shows
 * nothing secret: readiness decided at most once per second, the exposition rendered at most
 * once per second, dependencies named with since when and a redacted reason, and — with
 * METRICS_PORT serving them — only a bare status on the API port and /metrics for token holders.
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/http/app.ts";
import { createStaticTokenAuthenticator } from "../../src/http/auth/auth.ts";
import { registerSecret } from "../../src/lib/log.ts";
import {
  cachedReadiness,
  type HealthCheck,
  READY_MAX_AGE_MS,
  shownCheck,
} from "../../src/observability/health.ts";
import { createMetrics, EXPOSITION_MAX_AGE_MS } from "../../src/observability/metrics.ts";
import { testAppDeps } from "../helpers/app.ts";

const TOKEN = "probes-read-token-0123456789";
const GITLAB_PASSWORD = "hunter2-gitlab-pw";
registerSecret("registered-secret-0123456789");

const refusal =
  `unavailable since 2026-12-07T06:00:00.000Z: GitLab at http://bob:${GITLAB_PASSWORD}@gitlab.internal:8080 ` +
  "refused the token (401, token registered-secret-0123456789 revoked); ingest paused, messages stay queued";

function app(probes: "full" | "api", health: HealthCheck, metrics = async () => "item_sync_up 1\n") {
  return createApp(
    testAppDeps({
      jobs: {} as never,
      authenticator: createStaticTokenAuthenticator([{ token: TOKEN, role: "read" }]),
      health,
      metrics,
      probes,
    }),
  );
}

const get = (a: ReturnType<typeof app>, path: string, token?: string) =>
  a.handle(
    new Request(`http://localhost${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  );

const down: HealthCheck = {
  ready: async () => ({ ok: false, checks: { database: "ok", broker: "ok", gitlab: refusal } }),
};

describe("readiness", () => {
  test("names the dependency and since when; its reason redacted and no URL credentials at all", async () => {
    const res = await get(app("full", down), "/health/ready");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe("unavailable");
    expect(body.checks.gitlab).toStartWith(
      "unavailable since 2026-12-07T06:00:00.000Z: GitLab at http://gitlab.internal:8080",
    );
    const text = JSON.stringify(body);
    for (const secret of [GITLAB_PASSWORD, "bob:", "registered-secret-0123456789"])
      expect(text).not.toContain(secret);
    expect(shownCheck("ok")).toBe("ok");
  });

  test("with METRICS_PORT set, the API port says only ok or unavailable", async () => {
    const res = await get(app("api", down), "/health/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "unavailable" });
    expect(await (await get(app("api", down), "/health/live")).json()).toEqual({ status: "ok" });
  });

  test("one verdict per second, shared by every caller; one check in flight", async () => {
    let checks = 0;
    let clock = 0;
    const slow: HealthCheck = {
      ready: async () => {
        checks++;
        await Bun.sleep(20);
        return { ok: true, checks: { database: "ok" } };
      },
    };
    const health = cachedReadiness(slow, () => clock);
    const a = app("full", health);
    const answers = await Promise.all(Array.from({ length: 500 }, () => get(a, "/health/ready")));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(checks).toBe(1);
    clock += READY_MAX_AGE_MS - 1;
    await get(a, "/health/ready");
    expect(checks).toBe(1);
    clock += 1;
    await get(a, "/health/ready");
    expect(checks).toBe(2);
  });
});

describe("/metrics", () => {
  test("rendered at most once per second: concurrent scrapes share one rendering", async () => {
    let renders = 0;
    let clock = 0;
    const scrape = createMetrics({
      ingest: () => {
        renders++; // read once per rendering, by the ingest counters' collect()
        return {
          hooksCreated: 0,
          hooksAdopted: 0,
          hooksFoundDisabled: 0,
          hooksFoundTemporarilyDisabled: 0,
          hooksReenabled: 0,
          hooksStillDisabled: 0,
          itemsCreated: 0,
          noItemJson: 0,
          emptyRepositories: 0,
          quarantined: 0,
          itemsUpdated: 0,
          itemsUnchanged: 0,
          projectsGone: 0,
          itemsDeleted: 0,
          deletesRefused: 0,
          foreignRefused: 0,
        };
      },
      now: () => clock,
    });
    const a = app("full", down, scrape);
    const texts = await Promise.all(
      Array.from({ length: 200 }, async () => (await get(a, "/metrics")).text()),
    );
    const perRendering = renders;
    expect(perRendering).toBeGreaterThan(0);
    expect(new Set(texts).size).toBe(1);
    for (let i = 0; i < 20; i++) await get(a, "/metrics");
    expect(renders).toBe(perRendering);
    clock += EXPOSITION_MAX_AGE_MS;
    await get(a, "/metrics");
    expect(renders).toBe(2 * perRendering);
  });

  test("with METRICS_PORT set, the API port serves it to token holders only", async () => {
    const a = app("api", down);
    const anonymous = await get(a, "/metrics");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain("item_sync_up");
    const withToken = await get(a, "/metrics", TOKEN);
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toContain("item_sync_up 1");
    // without METRICS_PORT, as the contract has it: anyone
    expect((await get(app("full", down), "/metrics")).status).toBe(200);
  });
});
