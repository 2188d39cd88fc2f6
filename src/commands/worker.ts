/**
 * `item-sync worker`: the ingest workers only, with a small HTTP server on HOST:PORT for probes
 * and metrics (/health/live, /health/ready, /metrics).
 */
import type { Config } from "../config.ts";
import { createGitlabClient } from "../gitlab/client.ts";
import { listenExclusively, startStartupProbe } from "../http/listen.ts";
import { createProbeApp } from "../http/probe-app.ts";
import { startIngest } from "../ingest/workers.ts";
import type { Logger } from "../lib/log.ts";
import { createLifecycle } from "../lifecycle.ts";
import { createMetrics } from "../metrics.ts";
import { openDatabase, readiness, SHUTDOWN_GRACE_MS, startBroker, untilSignal, VERSION } from "./compose.ts";

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
    const ingest = await startIngest({ config, broker, db, gitlab, logger });
    lifecycle.defer("ingest workers", () => ingest.close());
    const app = createProbeApp({
      health: readiness(db, broker, { gate: () => ingest.gate.state(), gitlabDecides: true }),
      metrics: createMetrics({ ingest: () => ingest.counters }),
      logger,
    });
    await startup.stop();
    const port = listenExclusively(app, listen);
    lifecycle.defer("http server", async () => {
      await app.stop();
    });
    logger.info("worker started", { host: config.host, port, version: VERSION });
    return await untilSignal();
  } catch (err) {
    await lifecycle.shutdown("start-up failed");
    throw err;
  }
}
