/**
 * What the commands build from the configuration: the database (migrated when asked), the core
 * shared by serve and sync (broker, publisher, GitLab client, job repository, runner, service),
 * and the readiness check of the probes. Each resource registers its release with the lifecycle
 * right after it is created.
 */
import pkg from "../../package.json" with { type: "json" };
import { createJobRepository, type JobRepository } from "../batch/repository.ts";
import { createJobRunner, type JobRunner } from "../batch/runner.ts";
import { createJobService, type JobService } from "../batch/service.ts";
import type { Config } from "../config.ts";
import { type Db, type DbOptions, openDb } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { createGitlabClient, type GitlabClient } from "../gitlab/client.ts";
import type { HealthCheck } from "../http/routes-health.ts";
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { SECOND } from "../lib/time.ts";
import type { Lifecycle } from "../lifecycle.ts";
import { type Broker, createBroker } from "../queue/broker.ts";
import { createJobMessage } from "../queue/messages.ts";
import { createPublisher, type Publisher } from "../queue/publisher.ts";
import { createSeenStore } from "../sync/seen-store.ts";
import { createSyncJob, SYNC_JOB_NAME } from "../sync/sync-step.ts";

export const VERSION: string = pkg.version;

/** Graceful shutdown must finish inside this (the Helm chart's grace period is longer). */
export const SHUTDOWN_GRACE_MS = 25 * SECOND;

export const EXIT = { ok: 0, failed: 1, usage: 2, alreadyRunning: 3 } as const;

/**
 * Postgres guards, both tied to the job lease: a transaction idle longer than the lease (at
 * least 10 s) belongs to a client that lost track of it, so the server ends it and frees its
 * locks; and no caller waits longer than the lease (at least 30 s) for an answer. Migrations
 * run without the answer limit: a long one must not be cut short.
 */
export function dbOptions(config: Config): DbOptions {
  return {
    idleInTransactionTimeoutMs: Math.max(config.jobLeaseMs, 10 * SECOND),
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
  if (runMigrations) {
    const applied = await migrateDatabase(config);
    if (applied.length) logger.info("database migrated", { applied });
  }
  const db = openDb(config.databaseUrl, dbOptions(config));
  lifecycle?.defer("database", () => db.close());
  return db;
}

/** Applies the pending migrations on a connection of their own, without the answer limit. */
export async function migrateDatabase(config: Config): Promise<string[]> {
  const { idleInTransactionTimeoutMs } = dbOptions(config);
  const db = openDb(config.databaseUrl, { idleInTransactionTimeoutMs });
  try {
    return await migrate(db);
  } finally {
    await db.close();
  }
}

/** Connects to the broker and declares the topology; closed by the lifecycle. */
export async function startBroker(config: Config, lifecycle: Lifecycle, logger: Logger): Promise<Broker> {
  const broker = createBroker(config.amqp, logger);
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
export async function buildCore(config: Config, lifecycle: Lifecycle, logger: Logger): Promise<Core> {
  const db = await openDatabase(config, lifecycle, logger, config.dbMigrate);
  const broker = await startBroker(config, lifecycle, logger);
  const publisher = createPublisher(broker, logger);
  const gitlab = createGitlabClient(config.gitlab, { logger });
  const repository = createJobRepository(db, { leaseMs: config.jobLeaseMs });
  const syncJob = createSyncJob({
    gitlab,
    seen: createSeenStore(db),
    skipLimit: config.syncSkipLimit,
    deleteMaxFraction: config.syncDeleteMaxFraction,
    projectConcurrency: 4 * config.gitlab.concurrency,
    publish: (type, executionId, project, gate) =>
      publisher.publish(
        createJobMessage(type, executionId, { projectId: project.id, projectPath: project.path }),
        { gate },
      ),
  });
  const runner = createJobRunner({ repository, jobs: [syncJob], leaseMs: config.jobLeaseMs, logger });
  const jobs = createJobService({ jobName: SYNC_JOB_NAME, repository, runner, leaseMs: config.jobLeaseMs });
  return { db, gitlab, broker, publisher, repository, jobs, runner };
}

const READY_DB_TIMEOUT_MS = 800;

/** Readiness of a serving process: its database answers and its broker connection is up. */
export function readiness(db: Db, broker: Broker): HealthCheck {
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
      } catch (err) {
        checks.database = `unavailable: ${coerceError(err).message}`;
      } finally {
        clearTimeout(timer);
      }
      const state = broker.state();
      checks.broker = state.connected ? "ok" : `unavailable since ${state.since.toISOString()}`;
      return { ok: Object.values(checks).every((c) => c === "ok"), checks };
    },
  };
}

/** Serves until a signal: the lifecycle's signal handler exits the process. */
export function untilSignal(): Promise<number> {
  return new Promise<number>(() => {});
}
