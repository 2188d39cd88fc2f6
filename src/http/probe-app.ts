/**
 * The HTTP server of `item-sync worker`: only what Kubernetes and Prometheus need — liveness,
 * readiness (database and broker) and /metrics (the consumers' figures live in this process).
 * No API, no dashboard, no authentication: nothing here changes state.
 */
import { Elysia } from "elysia";
import type { Logger } from "../lib/log.ts";
import { mapError } from "./errors.ts";
import { type HealthCheck, healthRoutes } from "./routes-health.ts";

export interface ProbeAppDeps {
  health: HealthCheck;
  metrics(): Promise<string>;
  logger: Logger;
}

export function createProbeApp(deps: ProbeAppDeps) {
  return new Elysia()
    .onError(({ code, error, request }) => mapError(code, error, deps.logger, new URL(request.url).pathname))
    .use(healthRoutes(deps));
}
