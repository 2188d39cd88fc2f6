/**
 * The HTTP server of `item-sync worker`: only what Kubernetes and Prometheus need — liveness,
 * readiness (database and broker) and /metrics (the consumers' figures live in this process).
 * No API, no dashboard, no authentication: nothing here changes state. The same server answers
 * on METRICS_PORT in serve and worker, so probes and scrapes need not share the API's port.
 */
import { Elysia } from "elysia";
import type { Config } from "../config/config.ts";
import type { Logger } from "../lib/log.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { HealthCheck } from "../observability/health.ts";
import { mapError } from "./errors.ts";
import { healthRoutes } from "./routes-health.ts";
import { createHttpGate } from "./server.ts";

export interface ProbeAppDeps {
  health: HealthCheck;
  metrics(): Promise<string>;
  logger: Logger;
}

export function createProbeApp(deps: ProbeAppDeps) {
  return new Elysia({ strictPath: true, systemRouter: false })
    .onError(({ code, error, request }) => mapError(code, error, deps.logger, new URL(request.url).pathname))
    .use(healthRoutes(deps));
}

/**
 * With METRICS_PORT set, serves /metrics and /health/* on HOST:METRICS_PORT too (stopped with the
 * lifecycle); returns the port listened on, or null when METRICS_PORT is unset.
 */
export function listenMetricsPort(
  config: Pick<Config, "host" | "metricsPort">,
  deps: ProbeAppDeps,
  lifecycle: Lifecycle,
): number | null {
  if (config.metricsPort === null) return null;
  const server = createHttpGate({ logger: deps.logger }).listen(createProbeApp(deps), {
    hostname: config.host,
    port: config.metricsPort,
    variable: "METRICS_PORT",
  });
  lifecycle.defer("metrics server", () => server.stop());
  return server.port;
}
