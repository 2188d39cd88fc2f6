/** Unprotected routes for probes and scrapers: /health/live, /health/ready, /metrics. */
import { Elysia } from "elysia";
import { METRICS_CONTENT_TYPE } from "../lib/telemetry.ts";
import { RESPONSES } from "./openapi-responses.ts";

export interface HealthCheck {
  /** Readiness: database and broker reachable. */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

export function healthRoutes(deps: { health: HealthCheck; metrics(): Promise<string> }) {
  return new Elysia()
    .get("/health/live", () => ({ status: "ok" }), {
      detail: { summary: "Liveness probe", tags: ["health"], responses: RESPONSES.live },
    })
    .get(
      "/health/ready",
      async ({ set }) => {
        const result = await deps.health.ready();
        set.status = result.ok ? 200 : 503;
        return { status: result.ok ? "ok" : "unavailable", checks: result.checks };
      },
      {
        detail: {
          summary: "Readiness probe: database and broker",
          tags: ["health"],
          responses: RESPONSES.ready,
        },
      },
    )
    .get(
      "/metrics",
      async () =>
        new Response(await deps.metrics(), {
          headers: { "content-type": METRICS_CONTENT_TYPE },
        }),
      { detail: { summary: "Prometheus metrics", tags: ["health"], responses: RESPONSES.metrics } },
    );
}
