/**
 * The /metrics figures behind the charts of the dashboard and of the chart's Grafana dashboard,
 * read at scrape time:
 * - `item_sync_recent_execution_start_timestamp_seconds` / `_end_timestamp_seconds`
 *   {execution_id, status, mode} and `item_sync_recent_execution_counts{execution_id, count}`:
 *   the ended executions among the most recent RECENT_RUNS, one series each, so Grafana can draw
 *   one bar per run (duration = end − start) and link a slow run to its trace by its id. The
 *   id label is bounded: at most RECENT_RUNS series at a time, one new series per run.
 * - `item_sync_gitlab_max_requests_per_second`: GITLAB_MAX_RPS of this process's GitLab client
 *   (0 = no cap), the line the request rate is drawn against.
 * - `item_sync_queue_messages_ready{queue, role}`: messages waiting in each work queue and its
 *   `.dead` queue, as the broker counts them (passive declares; left out while it cannot answer).
 */
import { Gauge, type Registry } from "prom-client";
import { isRunning, type JobExecution } from "../batch/types.ts";
import type { QueueDepth } from "../queue/queue-depths.ts";

/** Runs the dashboard's and Grafana's per-run charts show. */
export const RECENT_RUNS = 30;

/**
 * /metrics needs no token: the broker is asked for queue depths at most once per this interval.
 * Shorter than the database figures' cache because the dashboard samples them every second
 * while a run is going.
 */
export const QUEUE_FIGURES_MAX_AGE_MS = 1000;

/**
 * The per-run figures, from `recent`: the most recent executions, newest first (at least
 * RECENT_RUNS of them), as /metrics already reads them for `item_sync_job_executions` — no
 * query of their own.
 */
export function registerRunFigures(recent: () => Promise<JobExecution[]>, registers: Registry[]): void {
  // a running execution has no end yet: the live charts show it
  const recentEnded = async () =>
    (await recent())
      .slice(0, RECENT_RUNS)
      .filter((e) => e.startTime !== null && e.endTime !== null && !isRunning(e.status));
  const runLabels = ["execution_id", "status", "mode"] as const;
  const labelsOf = (e: JobExecution) => ({
    execution_id: String(e.id),
    status: e.status,
    mode: e.mode ?? "",
  });
  const seconds = (d: Date | null) => (d?.getTime() ?? 0) / 1000;
  /** One series per recent ended run: its start or end time (Unix seconds). */
  const runTimeGauge = (which: "start" | "end", time: (e: JobExecution) => Date | null) =>
    new Gauge({
      name: `item_sync_recent_execution_${which}_timestamp_seconds`,
      help: `${which === "start" ? "Start" : "End"} time (Unix seconds) of each ended execution among the ${RECENT_RUNS} most recent.`,
      labelNames: runLabels,
      registers,
      async collect() {
        const runs = await recentEnded();
        this.reset();
        for (const e of runs) this.set(labelsOf(e), seconds(time(e)));
      },
    });
  runTimeGauge("start", (e) => e.startTime);
  runTimeGauge("end", (e) => e.endTime);
  new Gauge({
    name: "item_sync_recent_execution_counts",
    help: `Counts (read, updatePublished, deletePublished, unchanged, …) of each ended execution among the ${RECENT_RUNS} most recent.`,
    labelNames: ["execution_id", "count"] as const,
    registers,
    async collect() {
      const runs = await recentEnded();
      this.reset();
      for (const e of runs) {
        for (const [count, value] of Object.entries(e.counts))
          this.set({ execution_id: String(e.id), count }, value);
      }
    },
  });
}

export interface RateFiguresDeps {
  gitlabMaxRps?: number;
  queueDepths?: () => Promise<QueueDepth[]>;
}

/** GITLAB_MAX_RPS and the queue depths; `memoize` caches an answer for at most `maxAgeMs`. */
export function registerRateFigures(
  deps: RateFiguresDeps,
  registers: Registry[],
  memoize: <T>(fn: () => Promise<T>, maxAgeMs: number) => () => Promise<T>,
): void {
  if (deps.gitlabMaxRps !== undefined) {
    const cap = deps.gitlabMaxRps;
    new Gauge({
      name: "item_sync_gitlab_max_requests_per_second",
      help: "GITLAB_MAX_RPS: this process's cap on GitLab requests per second (0 = none; 429s are honoured either way).",
      registers,
      collect() {
        this.set(cap);
      },
    });
  }

  if (deps.queueDepths) {
    const depths = memoize(deps.queueDepths, QUEUE_FIGURES_MAX_AGE_MS);
    new Gauge({
      name: "item_sync_queue_messages_ready",
      help: "Messages waiting in each of item-sync's queues (role work) and their .dead queues (role dead), as the broker counts them; absent while the broker cannot answer.",
      labelNames: ["queue", "role"] as const,
      registers,
      async collect() {
        this.reset();
        const answer = await depths().catch(() => null);
        for (const q of answer ?? []) this.set({ queue: q.queue, role: q.role }, q.ready);
      },
    });
  }
}
