/**
 * Unprotected routes for probes and scrapers: /health/live, /health/ready, /metrics.
 *
 * Strangers may call these as often as they like, so none of them costs more than a bounded
 * amount of work: readiness is decided at most once per READY_MAX_AGE_MS (cachedReadiness, shared
 * by every port of the process) and /metrics is rendered at most once per second (metrics.ts).
 * The detailed readiness answer names each dependency that is down and since when, with the
 * reason passed through the log's redaction and no URL credentials at all; the bare answer (the
 * API port, when METRICS_PORT serves the detailed one) says only ok or unavailable.
 */
import { Elysia } from "elysia";
import { METRICS_CONTENT_TYPE } from "../lib/telemetry.ts";
import { type HealthCheck, type ProbeDetail, shownCheck } from "../observability/health.ts";
import { RESPONSES } from "./openapi-responses.ts";

export function healthRoutes(deps: {
  health: HealthCheck;
  metrics(): Promise<string>;
  detail?: ProbeDetail;
}) {
  const detail = deps.detail ?? "detailed";
  return new Elysia()
    .get("/health/live", () => ({ status: "ok" }), {
      detail: { summary: "Liveness probe", tags: ["health"], responses: RESPONSES.live },
    })
    .get(
      "/health/ready",
      async ({ set }) => {
        const result = await deps.health.ready();
        set.status = result.ok ? 200 : 503;
        const status = result.ok ? "ok" : "unavailable";
        if (detail === "bare") return { status };
        const checks = Object.fromEntries(
          Object.entries(result.checks).map(([name, state]) => [name, shownCheck(state)]),
        );
        return { status, checks };
      },
      {
        detail: {
          summary:
            "Readiness probe: database and broker (each check with its state, or on the API port with METRICS_PORT set only the status)",
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
