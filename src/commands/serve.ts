/** `item-sync serve`: HTTP API, dashboard, webhook receiver, cron schedule and (INGEST_ENABLED) ingest workers. */

import { VERSION } from "../cli.ts";
import type { Config } from "../config/config.ts";
import { createApp } from "../http/app.ts";
import { combineAuthenticators, createStaticTokenAuthenticator } from "../http/auth/auth.ts";
import { createOAuthAuthenticators } from "../http/auth/oauth.ts";
import { startStartupProbe } from "../http/listen.ts";
import { listenMetricsPort } from "../http/probe-app.ts";
import { createRefusalLog } from "../http/refusals.ts";
import { createHttpGate, trustedProxyList } from "../http/server.ts";
import { createHookVerifier } from "../ingest/hook-verifier.ts";
import { type Ingest, startIngest } from "../ingest/workers.ts";
import { imrtTables } from "../items/imrt-names.ts";
import { createItemViews } from "../items/item-views.ts";
import { createKnownItems } from "../items/known-items.ts";
import { syncOneProject } from "../items/project-sync.ts";
import { markHooksVerified, recordPush } from "../items/projects.ts";
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { createLifecycle } from "../lifecycle.ts";
import { cachedReadiness } from "../observability/health.ts";
import { createMetrics } from "../observability/metrics.ts";
import {
  createProjectSyncMessage,
  createWebhookDeleteMessage,
  createWebhookProjectMessage,
  createWebhookUpdateMessage,
} from "../queue/messages.ts";
import { readQueueDepths } from "../queue/queue-depths.ts";
import { startScheduler } from "../scheduler.ts";
import { SYNC_JOB_NAME } from "../sync/sync-step.ts";
import {
  buildCore,
  checkGitlabAtStart,
  readiness,
  refuseLaunchWithoutBroker,
  SHUTDOWN_GRACE_MS,
  untilSignal,
} from "./compose.ts";

/** Largest request body the server reads; larger ones are refused with 413. */
const MAX_REQUEST_BODY = 1024 * 1024;

export async function serve(config: Config, logger: Logger): Promise<number> {
  const lifecycle = createLifecycle(logger);
  lifecycle.handleSignals({ graceMs: SHUTDOWN_GRACE_MS, exit: (code) => process.exit(code) });
  try {
    const listen = { hostname: config.host, port: config.port, variable: "PORT" };
    const startup = startStartupProbe(listen);
    lifecycle.defer("start-up probe", () => startup.stop());
    const core = await buildCore(config, lifecycle, logger);
    await checkGitlabAtStart(core.gitlab, config.gitlab.url, logger);
    let ingest: Ingest | undefined;
    if (config.ingestEnabled) {
      const started = await startIngest({
        config,
        broker: core.broker,
        db: core.db,
        gitlab: core.gitlab,
        logger,
      });
      lifecycle.defer("ingest workers", () => started.close());
      ingest = started;
    }
    lifecycle.defer("job runner", () => core.runner.shutdown());
    core.runner.startSweeper();
    if (config.syncCron) {
      const scheduler = startScheduler({
        pattern: config.syncCron,
        timezone: config.syncCronTz,
        jobs: core.jobs,
        logger,
      });
      lifecycle.defer("scheduler", () => scheduler.stop());
    }
    const items = createItemViews(core.db, imrtTables(core.db.dialect, config.imrtSchema));
    const ingestCounters = ingest?.counters;
    // one verdict per second for every probe, on both ports, and for item_sync_ready
    const health = cachedReadiness(
      readiness(core.db, core.broker, logger, {
        gate: () => ingest?.gate.state(),
        health: () => core.gitlab.health(),
        gitlabDecides: false,
      }),
    );
    const metrics = createMetrics({
      jobs: { repository: core.repository, runner: core.runner, jobName: SYNC_JOB_NAME },
      itemCount: () => items.count(),
      ingest: ingestCounters ? () => ingestCounters : undefined,
      health,
      gitlabMaxRps: config.gitlab.maxRps,
      queueDepths: () => readQueueDepths(core.broker),
    });
    const authenticator = combineAuthenticators([
      createStaticTokenAuthenticator(config.auth.apiTokens),
      ...createOAuthAuthenticators(config.auth, { logger }),
    ]);
    // a push only asks for its project's hook to be recorded as verified: GitLab confirms it first
    const known = createKnownItems(core.db, SYNC_JOB_NAME);
    const hookVerifier = createHookVerifier({
      isMonitored: (projectId) => core.gitlab.isMonitored(projectId),
      verifiedAt: async (projectId) => (await known.lookup([projectId])).get(projectId)?.hookVerifiedAt,
      markVerified: (projectId, at) => markHooksVerified(core.db, [projectId], at),
      freshForMs: config.syncFullEveryMs,
      logger,
    });
    lifecycle.defer("hook verifier", () => hookVerifier.close());
    const refusals = createRefusalLog(logger);
    lifecycle.defer("refusal log", () => refusals.close());
    const gate = createHttpGate({
      knownToken: (token) => authenticator.known?.(token) ?? false,
      trustedProxies: trustedProxyList(config.trustedProxies),
      refusals,
      logger,
    });
    const app = createApp({
      jobs: refuseLaunchWithoutBroker(core.jobs, core.broker),
      items,
      syncProject: (projectId) =>
        syncOneProject(
          {
            gitlab: core.gitlab,
            publish: (type, project) => core.publisher.publish(createProjectSyncMessage(type, project)),
          },
          projectId,
        ),
      webhooks: {
        gitlab: config.gitlab,
        logger,
        hookVerified: async (projectId) => hookVerifier.request(projectId),
        brokerConnected: () => core.broker.state().connected,
        publishRemoval: (removal) =>
          core.publisher.publish(
            createWebhookDeleteMessage(removal.eventName, {
              projectId: removal.projectId,
              projectPath: removal.projectPath,
            }),
          ),
        // monitor-item first: the hook is in place before the item is read
        publishProjectEvent: async ({ eventName, monitor, ...project }) => {
          if (monitor)
            await core.publisher.publish(createWebhookProjectMessage("monitor-item", eventName, project));
          await core.publisher.publish(createWebhookProjectMessage("update-item", eventName, project));
        },
        publishPush: async (push) => {
          await core.publisher.publish(
            createWebhookUpdateMessage(push.checkoutSha, {
              projectId: push.projectId,
              projectPath: push.projectPath,
            }),
          );
          // the item's last push received (its status block); failing to note it costs the
          // note, never the push, which is already on its way
          await recordPush(core.db, push.projectId, push.checkoutSha, new Date()).catch((err: unknown) =>
            logger.warn("could not record the push", { projectId: push.projectId, err: coerceError(err) }),
          );
        },
      },
      authenticator,
      health,
      metrics,
      logger,
      version: VERSION,
      ui: {
        clientId: config.auth.uiClientId ?? "",
        authorizeUrl: config.auth.authorizeUrl ?? "",
        traceUrl: config.traceUrlTemplate,
      },
      // with METRICS_PORT, scrapers and probes go there: strangers here get the bare minimum
      probes: config.metricsPort === null ? "full" : "api",
      refusals,
      context: gate,
    });
    await startup.stop();
    const server = gate.listen(app, { ...listen, maxRequestBodySize: MAX_REQUEST_BODY });
    const port = server.port;
    lifecycle.defer("http server", () => server.stop());
    const metricsPort = listenMetricsPort(config, { health, metrics, logger }, lifecycle);
    logger.info("serving", { host: config.host, port, metricsPort, version: VERSION });
    return await untilSignal();
  } catch (err) {
    await lifecycle.shutdown("start-up failed");
    throw err;
  }
}
