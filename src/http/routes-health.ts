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
import { redact } from "../lib/log.ts";
import { memoize } from "../lib/memoize.ts";
import { METRICS_CONTENT_TYPE } from "../lib/telemetry.ts";
import { SECOND } from "../lib/time.ts";
import { RESPONSES } from "./openapi-responses.ts";

export interface HealthCheck {
  /** Readiness: database and broker reachable (and what else the process depends on). */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

/** `detailed`: every check with its state; `bare`: only ok or unavailable. */
export type ProbeDetail = "detailed" | "bare";

/** How long one readiness verdict answers every probe (database query included). */
export const READY_MAX_AGE_MS = 1 * SECOND;

/** The same verdict for every caller within READY_MAX_AGE_MS; one check in flight at a time. */
export function cachedReadiness(check: HealthCheck, now?: () => number): HealthCheck {
  return { ready: memoize(() => check.ready(), READY_MAX_AGE_MS, now) };
}

/**
 * A check's state as a probe may show it: redacted like a log line, and any URL stripped of its
 * user information (`http://bob:hunter2@gitlab` → `http://gitlab`), whoever registered it.
 */
export function shownCheck(state: string): string {
  return redact(state).replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1");
}

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
