/**
 * /metrics: the process registry (src/lib/telemetry.ts: GitLab, publisher, consumers, HTTP,
 * process) plus figures read at scrape time — executions by status and the running execution's
 * progress from the job repository and the runner (serve), item rows (serve), ingest outcomes
 * (serve with INGEST_ENABLED, worker); and the figures the charts plot (src/metrics-charts.ts).
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { JobRepository } from "../batch/repository.ts";
import type { JobRunner } from "../batch/runner.ts";
import { type Counts, JOB_STATUSES, zeroCounts } from "../batch/types.ts";
import type { IngestCounters } from "../ingest/handlers.ts";
import { memoize } from "../lib/memoize.ts";
import { METRICS_CONTENT_TYPE, registry } from "../lib/telemetry.ts";
import type { QueueDepth } from "../queue/queue-depths.ts";
import type { HealthCheck } from "./health.ts";
import { RECENT_RUNS, registerRateFigures, registerRunFigures } from "./metrics-charts.ts";

export { METRICS_CONTENT_TYPE };

/** Statuses of `item_sync_job_last_end_timestamp_seconds` (what the alerting rules compare). */
export const TERMINAL_STATUSES = ["COMPLETED", "FAILED", "STOPPED", "ABANDONED"] as const;

/** Executions looked at for `item_sync_job_executions`. */
const RECENT_EXECUTIONS = 100;

/**
 * /metrics needs no token, so whatever the scrape rate, the database is asked for its figures
 * at most once per this interval; scrapes in between get the last answer.
 */
export const DB_FIGURES_MAX_AGE_MS = 5000;

/**
 * The whole exposition is rendered at most once per this interval (~45 ms of CPU each time, with
 * every histogram of the process): scrapes in between, on either port, share the last text.
 */
export const EXPOSITION_MAX_AGE_MS = 1000;

export interface MetricsDeps {
  /** The job runtime of a `serve` process; a `worker` runs no jobs. */
  jobs?: { repository: JobRepository; runner: JobRunner; jobName: string };
  /** Item rows in the database. */
  itemCount?: () => Promise<number>;
  /** This process's ingest handler outcomes, when it runs ingest workers. */
  ingest?: () => IngestCounters;
  /** The readiness checks (database, broker), exported as `item_sync_ready` for alerting. */
  health?: HealthCheck;
  /** GITLAB_MAX_RPS of this process's GitLab client, for the request-rate charts. */
  gitlabMaxRps?: number;
  /** Messages waiting in item-sync's queues (src/queue/queue-depths.ts). */
  queueDepths?: () => Promise<QueueDepth[]>;
  /** Clock of the database figures' and the exposition's caches (tests move it). */
  now?: () => number;
}

/** Returns the scrape function: the whole text exposition of this process. */
export function createMetrics(deps: MetricsDeps): () => Promise<string> {
  const scrape = new Registry();
  const registers = [scrape];

  const fresh = <T>(fn: () => Promise<T>) => memoize(fn, DB_FIGURES_MAX_AGE_MS, deps.now);

  if (deps.jobs) {
    const jobs = deps.jobs;
    // one query serves both the counts by status and the charts' last runs
    const recentExecutions = fresh(() =>
      jobs.repository.list({ limit: Math.max(RECENT_EXECUTIONS, RECENT_RUNS) }),
    );
    registerRunFigures(recentExecutions, registers);
    const runningInDb = fresh(() => jobs.repository.running(jobs.jobName));
    new Gauge({
      name: "item_sync_job_executions",
      help: `Job executions among the most recent ${RECENT_EXECUTIONS}, by status.`,
      labelNames: ["status"] as const,
      registers,
      async collect() {
        const recent = await recentExecutions();
        for (const status of JOB_STATUSES) {
          this.set({ status }, recent.filter((e) => e.status === status).length);
        }
      },
    });

    const lastEnds = fresh(() =>
      Promise.all(TERMINAL_STATUSES.map((status) => jobs.repository.list({ status, limit: 1 }))),
    );
    new Gauge({
      name: "item_sync_job_last_end_timestamp_seconds",
      help: "End time (Unix seconds) of the most recent execution ending in each terminal status; 0 when none.",
      labelNames: ["status"] as const,
      registers,
      async collect() {
        const ends = await lastEnds();
        TERMINAL_STATUSES.forEach((status, i) => {
          const last = ends[i]?.[0];
          this.set({ status }, last?.endTime ? last.endTime.getTime() / 1000 : 0);
        });
      },
    });

    const running = async (): Promise<{ id: number; counts: Counts } | undefined> =>
      jobs.runner.active()[0] ?? (await runningInDb()) ?? undefined;

    new Gauge({
      name: "item_sync_current_execution_id",
      help: "Id of the running sync execution, 0 when none.",
      registers,
      async collect() {
        this.set((await running())?.id ?? 0);
      },
    });

    new Gauge({
      name: "item_sync_current_execution_progress",
      help: "Counts of the running sync execution (read, hooksChecked, monitorPublished, updatePublished, deletePublished, skipped); 0 when none runs.",
      labelNames: ["count"] as const,
      registers,
      async collect() {
        const counts = (await running())?.counts ?? zeroCounts();
        for (const [count, value] of Object.entries(counts)) this.set({ count }, value);
      },
    });
  }

  registerRateFigures(
    { gitlabMaxRps: deps.gitlabMaxRps, queueDepths: deps.queueDepths },
    registers,
    (fn, maxAgeMs) => memoize(fn, maxAgeMs, deps.now),
  );

  if (deps.health) {
    const health = deps.health;
    const ready = fresh(() => health.ready());
    new Gauge({
      name: "item_sync_ready",
      help: "1 when the readiness check passes (database answers, broker connected), else 0; by check.",
      labelNames: ["check"] as const,
      registers,
      async collect() {
        const { checks } = await ready();
        for (const [check, state] of Object.entries(checks)) this.set({ check }, state === "ok" ? 1 : 0);
      },
    });
  }

  if (deps.itemCount) {
    const itemCount = fresh(deps.itemCount);
    new Gauge({
      name: "item_sync_items",
      help: "Items the IMRT tables hold (item_git rows).",
      registers,
      async collect() {
        this.set(await itemCount());
      },
    });
  }

  if (deps.ingest) {
    const ingest = deps.ingest;
    // Counters kept by the ingest handlers, copied at scrape time.
    new Counter({
      name: "item_sync_ingest_hooks_created_total",
      help: "Webhooks created by monitor-item.",
      registers,
      collect() {
        this.reset();
        this.inc(ingest().hooksCreated);
      },
    });
    new Counter({
      name: "item_sync_ingest_hooks_adopted_total",
      help: "Hooks of the replaced service (WEBHOOK_LEGACY_URLS) edited in place to ours by monitor-item.",
      registers,
      collect() {
        this.reset();
        this.inc(ingest().hooksAdopted);
      },
    });
    new Counter({
      name: "item_sync_ingest_hooks_disabled_total",
      help: "Our webhooks monitor-item found disabled by GitLab after failed deliveries, by GitLab's alert_status (temporarily_disabled, disabled).",
      labelNames: ["alert_status"] as const,
      registers,
      collect() {
        const c = ingest();
        this.reset();
        this.inc({ alert_status: "temporarily_disabled" }, c.hooksFoundTemporarilyDisabled);
        this.inc({ alert_status: "disabled" }, c.hooksFoundDisabled);
      },
    });
    new Counter({
      name: "item_sync_ingest_hooks_reenabled_total",
      help: "Webhooks disabled by GitLab that monitor-item re-enabled (a test request our receiver answered 2xx).",
      registers,
      collect() {
        this.reset();
        this.inc(ingest().hooksReenabled);
      },
    });
    new Counter({
      name: "item_sync_ingest_hooks_still_disabled_total",
      help: "Webhooks disabled by GitLab that monitor-item could not re-enable (the test request got no 2xx from our receiver); the next sync tries again.",
      registers,
      collect() {
        this.reset();
        this.inc(ingest().hooksStillDisabled);
      },
    });
    new Counter({
      name: "item_sync_ingest_items_total",
      help: "update-item outcomes: created, updated, unchanged, no_item_json (no item.json on the default branch: nothing written), empty (no commit), quarantined (item.json not writable: dead-lettered, no row changed), project_gone, foreign_refused (the project is not in the group: no row written).",
      labelNames: ["result"] as const,
      registers,
      collect() {
        const c = ingest();
        this.reset();
        this.inc({ result: "created" }, c.itemsCreated);
        this.inc({ result: "updated" }, c.itemsUpdated);
        this.inc({ result: "unchanged" }, c.itemsUnchanged);
        this.inc({ result: "no_item_json" }, c.noItemJson);
        this.inc({ result: "empty" }, c.emptyRepositories);
        this.inc({ result: "quarantined" }, c.quarantined);
        this.inc({ result: "project_gone" }, c.projectsGone);
        this.inc({ result: "foreign_refused" }, c.foreignRefused);
      },
    });
    new Counter({
      name: "item_sync_ingest_deletes_total",
      help: "delete-item outcomes: deleted, refused (the project is still in the group).",
      labelNames: ["result"] as const,
      registers,
      collect() {
        const c = ingest();
        this.reset();
        this.inc({ result: "deleted" }, c.itemsDeleted);
        this.inc({ result: "refused" }, c.deletesRefused);
      },
    });
  }

  return memoize(() => Registry.merge([registry, scrape]).metrics(), EXPOSITION_MAX_AGE_MS, deps.now);
}
