/**
 * Composition root and CLI dispatch: loadConfig → build dependencies → start → wire shutdown.
 * Each resource registers its release with the lifecycle right after it is created.
 */
import pkg from "../package.json" with { type: "json" };
import { createJobRepository, type JobRepository } from "./batch/repository.ts";
import { createJobRunner } from "./batch/runner.ts";
import { createJobService, type JobService } from "./batch/service.ts";
import { JOB_STATUSES, type JobStatus } from "./batch/types.ts";
import { type ParsedArgs, parseArgs, parseId, USAGE, UsageError } from "./cli.ts";
import { type Config, type ConfigNeeds, loadConfig, secretValues } from "./config.ts";
import { type Db, openDb } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { createGitlabClient, type GitlabClient } from "./gitlab/client.ts";
import { createApp } from "./http/app.ts";
import { combineAuthenticators, createStaticTokenAuthenticator } from "./http/auth.ts";
import { createOAuthAuthenticators } from "./http/oauth.ts";
import { executionDetailJson, executionJson } from "./http/serialize.ts";
import { createItemStore } from "./ingest/item-store.ts";
import { type Ingest, startIngest } from "./ingest/workers.ts";
import { AppError, ConfigError, coerceError } from "./lib/errors.ts";
import { createLogger, type Logger, redact, registerSecret } from "./lib/log.ts";
import { collectProcessMetrics } from "./lib/telemetry.ts";
import { SECOND } from "./lib/time.ts";
import { createLifecycle, type Lifecycle } from "./lifecycle.ts";
import { createMetrics } from "./metrics.ts";
import { type Broker, createBroker } from "./queue/broker.ts";
import {
  createJobMessage,
  createWebhookDeleteMessage,
  createWebhookUpdateMessage,
} from "./queue/messages.ts";
import { createPublisher, type Publisher } from "./queue/publisher.ts";
import { startScheduler } from "./scheduler.ts";
import { createSeenStore } from "./sync/seen-store.ts";
import { createSyncJob, SYNC_JOB_NAME } from "./sync/sync-step.ts";

export const VERSION: string = pkg.version;

const NEEDS: Record<string, ConfigNeeds> = {
  serve: { gitlab: true, auth: true },
  worker: { gitlab: true, auth: false },
  sync: { gitlab: true, auth: false },
  migrate: { gitlab: false, auth: false },
  jobs: { gitlab: false, auth: false },
};

/** Graceful shutdown must finish inside this (the Helm chart's grace period is longer). */
const SHUTDOWN_GRACE_MS = 25 * SECOND;

const EXIT = { ok: 0, failed: 1, usage: 2, alreadyRunning: 3 } as const;

async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(redact(`item-sync: ${coerceError(err).message}\n\n${USAGE}`));
    return EXIT.usage;
  }
  if (args.command === "help") {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (args.command === "version") {
    process.stdout.write(`item-sync ${VERSION}\n`);
    return EXIT.ok;
  }

  let config: Config;
  try {
    config = loadConfig(process.env, NEEDS[args.command] ?? { gitlab: true, auth: true });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(redact(`item-sync: ${err.message}\n`));
      return EXIT.usage;
    }
    throw err;
  }
  for (const secret of secretValues(config)) registerSecret(secret);
  const logger = createLogger(config.logLevel, { service: "item-sync" });
  collectProcessMetrics();

  try {
    switch (args.command) {
      case "serve":
        return await serve(config, logger);
      case "worker":
        return await worker(config, logger);
      case "sync":
        return await syncCommand(config, logger, args);
      case "migrate":
        return await migrateCommand(config, logger);
      case "jobs":
        return await jobsCommand(config, logger, args);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(redact(`item-sync: ${err.message}\n`));
      return EXIT.usage;
    }
    const e = coerceError(err);
    logger.error(`${args.command} failed`, { err: e });
    process.stderr.write(redact(`item-sync: ${e.message}\n`));
    return EXIT.failed;
  }
  return EXIT.usage;
}

async function openDatabase(
  config: Config,
  lifecycle: Lifecycle | null,
  logger: Logger,
  runMigrations: boolean,
) {
  const db = openDb(config.databaseUrl);
  lifecycle?.defer("database", () => db.close());
  if (runMigrations) {
    const applied = await migrate(db);
    if (applied.length) logger.info("database migrated", { applied });
  }
  return db;
}

interface Core {
  db: Db;
  gitlab: GitlabClient;
  broker: Broker;
  publisher: Publisher;
  repository: JobRepository;
  jobs: JobService;
  runner: ReturnType<typeof createJobRunner>;
}

/** Database, broker, publisher, GitLab client, job runner: what serve and sync share. */
async function buildCore(config: Config, lifecycle: Lifecycle, logger: Logger): Promise<Core> {
  const db = await openDatabase(config, lifecycle, logger, config.dbMigrate);
  const broker = createBroker(config.amqp, logger);
  lifecycle.defer("broker", () => broker.close());
  await broker.start();
  const publisher = createPublisher(broker, logger);
  const gitlab = createGitlabClient(config.gitlab, { logger });
  const repository = createJobRepository(db, { leaseMs: config.jobLeaseMs });
  const syncJob = createSyncJob({
    gitlab,
    seen: createSeenStore(db),
    skipLimit: config.syncSkipLimit,
    deleteMaxFraction: config.syncDeleteMaxFraction,
    projectConcurrency: 4 * config.gitlab.concurrency,
    publish: (type, executionId, project) =>
      publisher.publish(
        createJobMessage(type, executionId, { projectId: project.id, projectPath: project.path }),
      ),
  });
  const runner = createJobRunner({ repository, jobs: [syncJob], leaseMs: config.jobLeaseMs, logger });
  const jobs = createJobService({ jobName: SYNC_JOB_NAME, repository, runner, leaseMs: config.jobLeaseMs });
  return { db, gitlab, broker, publisher, repository, jobs, runner };
}

async function serve(config: Config, logger: Logger): Promise<number> {
  const lifecycle = createLifecycle(logger);
  lifecycle.handleSignals({ graceMs: SHUTDOWN_GRACE_MS, exit: (code) => process.exit(code) });
  try {
    const core = await buildCore(config, lifecycle, logger);
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
    if (config.gitlab.webhookSecret === "") {
      logger.warn("WEBHOOK_SECRET is empty: /webhooks/gitlab accepts deliveries without a token");
    }
    const items = createItemStore(core.db);
    const ingestCounters = ingest?.counters;
    const app = createApp({
      jobs: core.jobs,
      items,
      webhooks: {
        gitlab: config.gitlab,
        logger,
        publishRemoval: (removal) =>
          core.publisher.publish(
            createWebhookDeleteMessage(removal.eventName, {
              projectId: removal.projectId,
              projectPath: removal.projectPath,
            }),
          ),
        publishPush: (push) =>
          core.publisher.publish(
            createWebhookUpdateMessage(push.checkoutSha, {
              projectId: push.projectId,
              projectPath: push.projectPath,
            }),
          ),
      },
      authenticator: combineAuthenticators([
        createStaticTokenAuthenticator(config.auth.apiTokens),
        ...createOAuthAuthenticators(config.auth, { logger }),
      ]),
      health: { ready: () => readiness(core.db, core.broker) },
      metrics: createMetrics({
        repository: core.repository,
        runner: core.runner,
        jobName: SYNC_JOB_NAME,
        itemCount: () => items.count(),
        ingest: ingestCounters ? () => ingestCounters : undefined,
      }),
      logger,
      version: VERSION,
      ui: { clientId: config.auth.uiClientId ?? "", authorizeUrl: config.auth.authorizeUrl ?? "" },
    });
    app.listen({ hostname: config.host, port: config.port, maxRequestBodySize: 1024 * 1024 });
    lifecycle.defer("http server", async () => {
      await app.stop();
    });
    logger.info("serving", { host: config.host, port: app.server?.port, version: VERSION });
    return await new Promise<number>(() => {}); // runs until a signal
  } catch (err) {
    await lifecycle.shutdown("start-up failed");
    throw err;
  }
}

async function worker(config: Config, logger: Logger): Promise<number> {
  const lifecycle = createLifecycle(logger);
  lifecycle.handleSignals({ graceMs: SHUTDOWN_GRACE_MS, exit: (code) => process.exit(code) });
  try {
    const db = await openDatabase(config, lifecycle, logger, config.dbMigrate);
    const broker = createBroker(config.amqp, logger);
    lifecycle.defer("broker", () => broker.close());
    await broker.start();
    const gitlab = createGitlabClient(config.gitlab, { logger });
    const ingest = await startIngest({ config, broker, db, gitlab, logger });
    lifecycle.defer("ingest workers", () => ingest.close());
    logger.info("worker started", { version: VERSION });
    return await new Promise<number>(() => {});
  } catch (err) {
    await lifecycle.shutdown("start-up failed");
    throw err;
  }
}

async function readiness(db: Db, broker: Broker) {
  const checks: Record<string, string> = {};
  try {
    await db.all("select 1 as ok");
    checks.database = "ok";
  } catch (err) {
    checks.database = `unavailable: ${coerceError(err).message}`;
  }
  const state = broker.state();
  checks.broker = state.connected ? "ok" : `unavailable since ${state.since.toISOString()}`;
  return { ok: Object.values(checks).every((c) => c === "ok"), checks };
}

async function syncCommand(config: Config, logger: Logger, args: ParsedArgs): Promise<number> {
  const lifecycle = createLifecycle(logger);
  try {
    const core = await buildCore(config, lifecycle, logger);
    lifecycle.defer("job runner", () => core.runner.shutdown());
    const params: Record<string, string> = {};
    if (args.flags["allow-mass-delete"]) params.allowMassDelete = "true";
    const result = await core.jobs.launch({ trigger: "cli", fresh: args.flags.fresh === true, params });
    if (result.kind !== "started") {
      const id = result.kind === "running" ? result.runningId : result.executionId;
      process.stderr.write(`item-sync: job execution ${id} is already running; nothing started\n`);
      return EXIT.alreadyRunning;
    }
    const id = result.execution.id;
    process.stderr.write(
      `item-sync: started job execution ${id}${result.execution.restartOf ? ` (resuming ${result.execution.restartOf})` : ""}\n`,
    );
    // A signal stops the execution at its next checkpoint (STOPPED, restartable) and exits 1.
    const onSignal = () => void core.runner.shutdown();
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const progress = args.flags.wait
      ? setInterval(() => {
          const c = core.runner.liveCounts(id);
          if (c) process.stderr.write(`item-sync: ${id} ${JSON.stringify(c)}\n`);
        }, SECOND)
      : undefined;
    await core.runner.whenDone(id);
    clearInterval(progress);
    const final = await core.repository.get(id);
    process.stdout.write(`${JSON.stringify(final ? executionJson(final) : { id })}\n`);
    return final?.status === "COMPLETED" ? EXIT.ok : EXIT.failed;
  } finally {
    await lifecycle.shutdown("sync finished");
  }
}

async function migrateCommand(config: Config, logger: Logger): Promise<number> {
  const db = openDb(config.databaseUrl);
  try {
    const applied = await migrate(db);
    process.stdout.write(
      applied.length
        ? `applied ${applied.length} migration(s): ${applied.join(", ")}\n`
        : "database is up to date\n",
    );
    logger.debug("migrate done", { applied });
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

async function jobsCommand(config: Config, logger: Logger, args: ParsedArgs): Promise<number> {
  const [sub = "list", idArg] = args.positional;
  const db = await openDatabase(config, null, logger, false);
  try {
    const repository = createJobRepository(db, { leaseMs: config.jobLeaseMs });
    const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    try {
      switch (sub) {
        case "list": {
          const status = args.flags.status;
          if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) {
            throw new UsageError(`--status must be one of ${JOB_STATUSES.join(", ")}`);
          }
          const limit = args.flags.limit === undefined ? 20 : parseId(String(args.flags.limit), "--limit");
          if (limit > 100) throw new UsageError("--limit must be at most 100");
          const list = await repository.list({ status: status as JobStatus | undefined, limit });
          print({ jobs: list.map(executionJson) });
          return EXIT.ok;
        }
        case "show": {
          const id = parseId(idArg, "ID");
          const execution = await repository.get(id);
          if (!execution) throw new AppError("NOT_FOUND", 404, `job execution ${id} does not exist`);
          print(executionDetailJson({ ...execution, step: await repository.getStep(id) }));
          return EXIT.ok;
        }
        case "reset":
          print(
            executionJson(
              await repository.reset(parseId(idArg, "ID"), {
                force: args.flags.force === true,
                leaseMs: config.jobLeaseMs,
              }),
            ),
          );
          return EXIT.ok;
        case "stop":
          print(executionJson(await repository.requestStop(parseId(idArg, "ID"))));
          return EXIT.ok;
        default:
          throw new UsageError(`unknown jobs subcommand: ${sub} (list, show, reset, stop)`);
      }
    } catch (err) {
      if (err instanceof AppError) {
        process.stderr.write(redact(`item-sync: ${err.message}\n`));
        return EXIT.failed;
      }
      throw err;
    }
  } finally {
    await db.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
if (process.exitCode !== undefined) {
  // Commands that return are done; close lingering handles (timers of libraries) by exiting.
  process.exit(process.exitCode);
}
