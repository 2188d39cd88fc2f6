/**
 * `item-sync worker`: the ingest workers only, with a small HTTP server on HOST:PORT for probes
 * and metrics (/health/live, /health/ready, /metrics), also on METRICS_PORT when set.
 */

import { VERSION } from "../cli.ts";
import type { Config } from "../config/config.ts";
import { createGitlabClient } from "../gitlab/client.ts";
import { startStartupProbe } from "../http/listen.ts";
import { createProbeApp, listenMetricsPort } from "../http/probe-app.ts";
import { createHttpGate } from "../http/server.ts";
import { startIngest } from "../ingest/workers.ts";
import type { Logger } from "../lib/log.ts";
import { createLifecycle } from "../lifecycle.ts";
import { cachedReadiness } from "../observability/health.ts";
import { createMetrics } from "../observability/metrics.ts";
import { readQueueDepths } from "../queue/queue-depths.ts";
import {
  checkGitlabAtStart,
  openDatabase,
  readiness,
  SHUTDOWN_GRACE_MS,
  startBroker,
  untilSignal,
} from "./compose.ts";

export async function worker(config: Config, logger: Logger): Promise<number> {
  const lifecycle = createLifecycle(logger);
  lifecycle.handleSignals({ graceMs: SHUTDOWN_GRACE_MS, exit: (code) => process.exit(code) });
  try {
    const listen = { hostname: config.host, port: config.port, variable: "PORT" };
    const startup = startStartupProbe(listen);
    lifecycle.defer("start-up probe", () => startup.stop());
    const db = await openDatabase(config, lifecycle, logger, config.dbMigrate);
    const broker = await startBroker(config, lifecycle, logger);
    const gitlab = createGitlabClient(config.gitlab, { logger });
    await checkGitlabAtStart(gitlab, config.gitlab.url, logger);
    const ingest = await startIngest({ config, broker, db, gitlab, logger });
    lifecycle.defer("ingest workers", () => ingest.close());
    const health = cachedReadiness(
      readiness(db, broker, logger, {
        gate: () => ingest.gate.state(),
        health: () => gitlab.health(),
        gitlabDecides: true,
      }),
    );
    const metrics = createMetrics({
      ingest: () => ingest.counters,
      health,
      gitlabMaxRps: config.gitlab.maxRps,
      queueDepths: () => readQueueDepths(broker),
    });
    const probes = { health, metrics, logger };
    const app = createProbeApp(probes);
    await startup.stop();
    const server = createHttpGate({ logger }).listen(app, listen);
    const port = server.port;
    lifecycle.defer("http server", () => server.stop());
    const metricsPort = listenMetricsPort(config, probes, lifecycle);
    logger.info("worker started", { host: config.host, port, metricsPort, version: VERSION });
    return await untilSignal();
  } catch (err) {
    await lifecycle.shutdown("start-up failed");
    throw err;
  }
}
