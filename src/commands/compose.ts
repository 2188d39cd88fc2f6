/**
 * What the commands build from the configuration: the database (migrated when asked), the core
 * shared by serve and sync (broker, publisher, GitLab client, job repository, runner, service),
 * and the readiness check of the probes. Each resource registers its release with the lifecycle
 * right after it is created.
 */

import { idleTransactionBoundMs } from "../batch/lease.ts";
import { createJobRepository, type JobRepository } from "../batch/repository.ts";
import { createJobRunner, type JobRunner } from "../batch/runner.ts";
import { createJobService, type JobService } from "../batch/service.ts";
import type { Config } from "../config/config.ts";
import { checkDatabase, explainingConnection, requireExistingSqlite } from "../db/check.ts";
import { type Db, type DbOptions, openDb } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { createGitlabClient, type GitlabClient, type GitlabHealth } from "../gitlab/client.ts";
import { GitlabAccessError } from "../gitlab/errors.ts";
import type { GitlabGateState } from "../ingest/gitlab-gate.ts";
import { imrtTables } from "../items/imrt-names.ts";
import { checkImrtTables, ensureImrtTables } from "../items/imrt-schema.ts";
import { createKnownItems } from "../items/known-items.ts";
import { createSeenStore } from "../items/seen-store.ts";
import { AppError, coerceError, StartupError } from "../lib/errors.ts";
import { type Logger, redact } from "../lib/log.ts";
import { HOUR, MINUTE, SECOND, sleep } from "../lib/time.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { HealthCheck } from "../observability/health.ts";
import { type Broker, createBroker } from "../queue/broker.ts";
import { createJobMessage } from "../queue/messages.ts";
import { createPublisher, type Publisher } from "../queue/publisher.ts";
import { createSyncJob, SYNC_JOB_NAME } from "../sync/sync-step.ts";

/** Graceful shutdown must finish inside this (the Helm chart's grace period is longer). */
export const SHUTDOWN_GRACE_MS = 25 * SECOND;

/**
 * Postgres guards, both tied to the job lease: a transaction idle longer than the lease (at
 * least 10 s) belongs to a client that lost track of it, so the server ends it and frees its
 * locks; and no caller waits longer than the lease (at least 30 s) for an answer. Migrations
 * run without the answer limit: a long one must not be cut short.
 */
export function dbOptions(config: Config): DbOptions {
  return {
    schema: config.databaseSchema,
    idleInTransactionTimeoutMs: idleTransactionBoundMs(config.jobLeaseMs),
    answerTimeoutMs: Math.max(config.jobLeaseMs, 30 * SECOND),
  };
}

/** Opens the database; registers its close with `lifecycle` when given; migrates when asked. */
export async function openDatabase(
  config: Config,
  lifecycle: Lifecycle | null,
  logger: Logger,
  runMigrations: boolean,
): Promise<Db> {
  const url = config.databaseUrl;
  if (runMigrations) {
    const { applied, created } = await migrateDatabase(config);
    if (applied.length) logger.info("database migrated", { applied });
    if (created.length) logger.info("IMRT item tables created", { schema: config.imrtSchema, created });
  } else {
    requireExistingSqlite(url);
  }
  const db = await explainingConnection(url, async () => openDb(url, dbOptions(config)));
  try {
    await checkDatabase(db, url, config.databaseSchema);
    await explainingConnection(url, () => checkImrtTables(db, imrtTables(db.dialect, config.imrtSchema)));
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  lifecycle?.defer("database", () => db.close());
  return db;
}

/**
 * Applies the pending migrations on a connection of their own, without the answer limit, then
 * creates the IMRT item tables that are missing (in IMRT_SCHEMA) and checks the existing ones:
 * a column item-sync writes that is missing is a StartupError naming table and column.
 */
export async function migrateDatabase(config: Config): Promise<{ applied: string[]; created: string[] }> {
  const { idleInTransactionTimeoutMs, schema } = dbOptions(config);
  const url = config.databaseUrl;
  const db = await explainingConnection(url, async () => openDb(url, { idleInTransactionTimeoutMs, schema }));
  try {
    return await explainingConnection(url, async () => {
      const applied = await migrate(db, undefined, { schema });
      const tables = imrtTables(db.dialect, config.imrtSchema);
      const created = await ensureImrtTables(db, tables);
      await checkImrtTables(db, tables);
      return { applied, created };
    });
  } finally {
    await db.close().catch(() => {});
  }
}

/** Connects to the broker and declares the topology; closed by the lifecycle. `quiet` for one-shot
 *  CLI commands: their set-up is no news worth a log line. */
export async function startBroker(
  config: Config,
  lifecycle: Lifecycle,
  logger: Logger,
  options: { quiet?: boolean } = {},
): Promise<Broker> {
  const broker = createBroker(config.amqp, logger, { quiet: options.quiet === true });
  lifecycle.defer("broker", () => broker.close());
  await broker.start();
  return broker;
}

export interface Core {
  db: Db;
  gitlab: GitlabClient;
  broker: Broker;
  publisher: Publisher;
  repository: JobRepository;
  jobs: JobService;
  runner: JobRunner;
}

/** Database, broker, publisher, GitLab client, job runner: what serve and sync share. */
export async function buildCore(
  config: Config,
  lifecycle: Lifecycle,
  logger: Logger,
  options: { quiet?: boolean } = {},
): Promise<Core> {
  const db = await openDatabase(config, lifecycle, logger, config.dbMigrate);
  const broker = await startBroker(config, lifecycle, logger, options);
  const publisher = createPublisher(broker, logger);
  const gitlab = createGitlabClient(config.gitlab, { logger });
  const repository = createJobRepository(db, { leaseMs: config.jobLeaseMs });
  if (config.syncMode !== "full" && config.syncActivityMarginMs < HOUR) {
    logger.warn(
      "SYNC_ACTIVITY_MARGIN_MINUTES is below 60: GitLab bumps last_activity_at up to an hour after a push, so incremental scans may miss such pushes until the next full run",
      { marginMinutes: config.syncActivityMarginMs / MINUTE },
    );
  }
  const syncJob = createSyncJob({
    gitlab,
    seen: createSeenStore(db, imrtTables(db.dialect, config.imrtSchema)),
    skipLimit: config.syncSkipLimit,
    deleteMaxFraction: config.syncDeleteMaxFraction,
    deleteEnabled: config.syncDeleteEnabled,
    projectConcurrency: 4 * config.gitlab.concurrency,
    known: createKnownItems(db, SYNC_JOB_NAME),
    hookTrustMs: config.syncFullEveryMs,
    activityMarginMs: config.syncActivityMarginMs,
    publish: (type, executionId, project, gate) =>
      publisher.publish(
        createJobMessage(type, executionId, { projectId: project.id, projectPath: project.path }),
        { gate },
      ),
  });
  const runner = createJobRunner({ repository, jobs: [syncJob], leaseMs: config.jobLeaseMs, logger });
  const jobs = createJobService({
    jobName: SYNC_JOB_NAME,
    repository,
    runner,
    leaseMs: config.jobLeaseMs,
    defaultMode: config.syncMode,
    fullEveryMs: config.syncFullEveryMs,
  });
  return { db, gitlab, broker, publisher, repository, jobs, runner };
}

/** GITLAB_URL as the log may show it: scheme, host and path, never a user or password in it. */
export function gitlabTarget(url: string): { where: string; host: string } {
  try {
    const u = new URL(url);
    return { where: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`, host: u.host };
  } catch {
    return { where: "(GITLAB_URL)", host: "(unknown host)" };
  }
}

/**
 * `serve` and `worker` ask GitLab for the group once at start: a token GitLab refuses (401/403)
 * is a StartupError naming GITLAB_TOKEN, a group it does not know (404) one naming GITLAB_GROUP —
 * exit 2, as for the database and the broker. A GitLab that does not answer (or answers 5xx) is
 * waited for, saying every few seconds what is awaited (GITLAB_URL, its host, the last error),
 * until it answers or the process is stopped.
 */
export async function checkGitlabAtStart(
  gitlab: Pick<GitlabClient, "checkAccess">,
  url: string,
  logger: Logger,
  opts: { retryMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const { where, host } = gitlabTarget(url);
  const since = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await gitlab.checkAccess();
      if (attempt > 1) logger.info(`GitLab at ${where} answers: starting`, { host });
      return;
    } catch (thrown) {
      const err = coerceError(thrown);
      if (err instanceof GitlabAccessError) {
        const variable = err.upstreamStatus === 404 ? "GITLAB_GROUP" : "GITLAB_TOKEN";
        throw new StartupError(`${variable}: ${err.message}`, { cause: err });
      }
      const waited = Math.round((Date.now() - since) / SECOND);
      logger.warn(
        `waiting for GitLab at ${where} (GITLAB_URL, host ${host}): ${err.message}; retrying (waited ${waited} s)`,
        { host, attempt },
      );
    }
    await sleep(opts.retryMs ?? 5 * SECOND, opts.signal);
    if (opts.signal?.aborted)
      throw new StartupError(`GITLAB_URL: stopped while waiting for GitLab at ${where}`);
  }
}

const READY_DB_TIMEOUT_MS = 800;

/**
 * Readiness of a serving process: its database answers and its broker connection is up. The
 * probe needs no token, so a dependency that is down is named with since when, never why; the
 * reason goes to the log, once each time the database becomes unreachable. With a GitLab gate, `checks.gitlab` says whether
 * GitLab accepts the token; `gitlabDecides` makes a refusal fail readiness (the worker, which
 * only ingests; serve keeps answering its API).
 */
export function readiness(
  db: Db,
  broker: Broker,
  logger?: Logger,
  gitlab?: {
    gate: () => GitlabGateState | undefined;
    /** GitLab's last answer to any call of this process (GitlabClient.health) */
    health?: () => GitlabHealth;
    gitlabDecides: boolean;
  },
): HealthCheck {
  let databaseDownSince: Date | null = null;
  return {
    async ready() {
      const checks: Record<string, string> = {};
      // A probe must answer within its own timeout (Kubernetes: 1 s by default): during a failover
      // the query waits for a primary, so "no answer yet" is reported as unavailable at once.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const noAnswer = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${READY_DB_TIMEOUT_MS / 1000} s`)),
          READY_DB_TIMEOUT_MS,
        );
      });
      const query = db.all("select 1 as ok");
      query.catch(() => {});
      try {
        await Promise.race([query, noAnswer]);
        checks.database = "ok";
        databaseDownSince = null;
      } catch (err) {
        if (!databaseDownSince) {
          databaseDownSince = new Date();
          logger?.warn("readiness: the database does not answer", { err: coerceError(err) });
        }
        checks.database = `unavailable since ${databaseDownSince.toISOString()}`;
      } finally {
        clearTimeout(timer);
      }
      const state = broker.state();
      checks.broker = state.connected ? "ok" : `unavailable since ${state.since.toISOString()}`;
      let ok = Object.values(checks).every((c) => c === "ok");
      const gate = gitlab?.gate();
      const last = gitlab?.health?.();
      if (gate && !gate.open) {
        checks.gitlab = `unavailable since ${gate.since?.toISOString()}: ${gate.reason}; ingest paused, messages stay queued`;
        if (gitlab?.gitlabDecides) ok = false;
      } else if (last && last.state !== "ok" && last.state !== "unknown") {
        // never `ok` after GitLab refused us, whichever call met the refusal
        const what = { refused: "refused", unreachable: "unreachable", failing: "failing" }[last.state];
        checks.gitlab = `${what} since ${last.since.toISOString()}: ${redact(last.detail)}`;
        // a 403 may concern one project (a hook the token may not see); a 401 is the token itself
        if (last.state === "refused" && last.detail === "answered 401" && gitlab?.gitlabDecides) ok = false;
      } else if (gate || last) {
        checks.gitlab = "ok";
      }
      return { ok, checks };
    },
  };
}

/**
 * The job service as the HTTP API sees it: an API launch while the broker is unavailable answers
 * 503 at once, instead of accepting an execution that could publish nothing and would fail after
 * AMQP_RECONNECT_TIMEOUT. (Cron launches still go ahead: they wait for the broker.)
 */
export function refuseLaunchWithoutBroker(jobs: JobService, broker: Broker): JobService {
  return {
    ...jobs,
    launch: (opts) => {
      const state = broker.state();
      if (!state.connected) {
        throw new AppError(
          "BROKER_UNAVAILABLE",
          503,
          `the message broker (RabbitMQ) is unavailable since ${state.since.toISOString()}: a sync could publish nothing; try again when /health/ready reports the broker ok`,
        );
      }
      return jobs.launch(opts);
    },
  };
}

/** Serves until a signal: the lifecycle's signal handler exits the process. */
export function untilSignal(): Promise<number> {
  return new Promise<number>(() => {});
}
