/**
 * The job runner: launches executions through the repository, runs each job's step in this
 * process with a heartbeat, reacts to stop/reset requests, sweeps dead executions, and ends
 * every execution it owns with a status — STOPPED on shutdown, never left STARTED.
 */
import { hostname } from "node:os";
import { isDatabaseUnavailable } from "../db/client.ts";
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { inExecutionSpan, recordExecutionOutcome } from "./execution-span.ts";
import { createLeaseFence, type LeaseFence, LeaseLostError, type StepFence } from "./fence.ts";
import { startHeartbeat } from "./heartbeat-timer.ts";
import {
  PROGRESS_INTERVAL_MS,
  type ProgressReporter,
  type ProgressSnapshot,
  startProgress,
} from "./progress.ts";
import type { JobRepository } from "./repository.ts";
import { startSweeper } from "./sweeper.ts";
import {
  type Counts,
  type JobExecution,
  type JobStatus,
  type LaunchRequest,
  type LaunchResult,
  type SyncModeChoice,
  type Trigger,
  zeroCounts,
} from "./types.ts";

/** Why a step's signal was aborted. */
export type AbortReason = "stop" | "shutdown" | "lease-lost" | "database-unavailable";

export interface StepContext {
  execution: JobExecution;
  /** The step context saved by the execution this one resumes ({} on a fresh run). */
  restored: Record<string, unknown>;
  /** Live counts: the runner writes them with every heartbeat and checkpoint. */
  counts: Counts;
  /** Aborted when the step must stop at its next checkpoint; `signal.reason` is an AbortReason. */
  signal: AbortSignal;
  /** Durably saves the step context (the checkpoint) with the counts. */
  saveCheckpoint(context: Record<string, unknown>): Promise<void>;
  /** Call `fence.assertOwned()` right before each publish; pass `fence.owner` to each write of the
   *  step's own tables (see fence.ts). */
  fence: StepFence;
  /** The logger of the execution (its lines carry executionId). */
  logger: Logger;
  /**
   * Tells the progress lines how many projects the listing holds (null: unknown), for an ETA, and
   * how many of them executions this one resumes already handled.
   */
  setTotal?(total: number | null, handledBefore?: number): void;
}

/** A step either finishes (COMPLETED), or returns STOPPED after noticing its signal; a throw FAILs it. */
export type StepOutcome = { status: "COMPLETED" | "STOPPED"; exitMessage?: string };

export interface JobDefinition {
  name: string;
  stepName: string;
  run(ctx: StepContext): Promise<StepOutcome>;
}

export interface LaunchOptions {
  trigger: Trigger;
  /** Who asked: `token#N`, an OAuth2 subject, `cron` or `cli` (recorded on the execution). */
  launchedBy?: string;
  fresh?: boolean;
  identifying?: Record<string, string>;
  params?: Record<string, string>;
  /** Scan mode asked for (`auto` resolved at launch); a resumed execution keeps its own. */
  mode?: SyncModeChoice | null;
  /** For `auto`: a full run is due when none COMPLETED within this many ms. */
  fullEveryMs?: number;
}

export interface JobRunner {
  launch(jobName: string, opts: LaunchOptions): Promise<LaunchResult>;
  /** Executions this process is running now, with their live counts. */
  active(): JobExecution[];
  /** Live counts of an execution this process runs (fresher than the database), if any. */
  liveCounts(executionId: number): Counts | undefined;
  /** Live progress (rates, total and ETA when known) of an execution this process runs, if any. */
  liveProgress(executionId: number): ProgressSnapshot | undefined;
  /** Asks a locally running execution to stop now rather than at its next heartbeat. */
  notifyStop(executionId: number): void;
  /** Resolves when the execution, if run by this process, has ended. */
  whenDone(executionId: number): Promise<void>;
  /** Periodic sweep of dead executions. */
  startSweeper(): void;
  /** Stops every local execution at its next checkpoint (STOPPED) and waits for them. */
  shutdown(): Promise<void>;
}

interface Active {
  execution: JobExecution;
  counts: Counts;
  controller: AbortController;
  done: Promise<void>;
  progress?: ProgressReporter;
}

export function createJobRunner(deps: {
  repository: JobRepository;
  jobs: JobDefinition[];
  leaseMs: number;
  logger: Logger;
  /** How often a running execution logs a progress line (default 10 s). */
  progressIntervalMs?: number;
  /**
   * The host (pod) name recorded on every execution this process runs (`runner`), so an
   * operator knows whose `kubectl logs` to read. Default: the host name.
   */
  runnerName?: string;
}): JobRunner {
  const runnerName = deps.runnerName ?? hostname();
  const { repository, leaseMs, logger } = deps;
  const jobs = new Map(deps.jobs.map((j) => [j.name, j]));
  const active = new Map<number, Active>();
  let sweeper: { stop(): void } | undefined;
  let shuttingDown = false;
  const launching = new Set<Promise<LaunchResult>>();

  async function execute(job: JobDefinition, execution: JobExecution, entry: Active): Promise<void> {
    const log = logger.child({ executionId: execution.id, job: job.name });
    const { controller, counts } = entry;
    let leaseLost = false;
    const onStatus = (status: string | null) => {
      if (status === null) {
        leaseLost = true;
        if (!controller.signal.aborted) controller.abort("lease-lost" satisfies AbortReason);
      } else if (status === "STOPPING" && !controller.signal.aborted) {
        controller.abort("stop" satisfies AbortReason);
      }
    };

    const startedAt = new Date();
    if (!(await repository.markStarted(execution.id, startedAt))) {
      log.warn("execution was reset before it started; not running it");
      return;
    }
    // Fencing (fence.ts): publishes and the step's writes go through only while the lease is
    // provably held; the first time it is not, the step is stopped.
    const fence = createLeaseFence(
      { executionId: execution.id, leaseMs },
      startedAt.getTime(),
      (why) => {
        log.error("lease lost: no more publishing or writing for this execution", { why });
        if (!controller.signal.aborted) controller.abort("lease-lost" satisfies AbortReason);
      },
      (err, attempt) => {
        if (attempt === 1)
          log.warn("database unavailable; the step's write waits for it while the lease holds", {
            err: coerceError(err),
          });
      },
    );
    const proven = (status: JobStatus | null, at: Date) => {
      if (status !== null) fence.prove(at.getTime());
      else fence.lose("the database no longer shows it as running with a fresh heartbeat");
      onStatus(status);
    };
    const progress = startProgress({
      counts,
      logger: log,
      intervalMs: deps.progressIntervalMs ?? PROGRESS_INTERVAL_MS,
    });
    entry.progress = progress;
    // From here on every path goes through the `finally` below, which ends the heartbeat: a
    // failure before the step runs must not leave the execution beating, STARTED, for ever.
    const heartbeat = startHeartbeat({
      repository,
      executionId: execution.id,
      counts,
      leaseMs,
      fence,
      log,
      proven,
      onDatabaseUnavailable() {
        if (!controller.signal.aborted) controller.abort("database-unavailable" satisfies AbortReason);
      },
    });

    let outcome: { status: "COMPLETED" | "STOPPED" | "FAILED"; exitMessage: string };
    try {
      // the checkpoint to resume from: read like the step's own writes, through a failover or a
      // refused connection while the lease holds
      const step = await fence.persist(() => repository.getStep(execution.id));
      // What the replaced service's SimpleJobLauncher and SimpleStepHandler lines said, in one.
      log.info("execution started", {
        step: job.stepName,
        parameters: execution.params,
        mode: execution.mode,
        runner: execution.runner,
        restartOf: execution.restartOf,
        trigger: execution.trigger,
      });
      const result = await job.run({
        execution,
        restored: step?.context ?? {},
        counts,
        signal: controller.signal,
        logger: log,
        setTotal: (total, handledBefore) => progress.setTotal(total, handledBefore),
        fence,
        async saveCheckpoint(context) {
          await fence.persist(async () => {
            const at = new Date();
            proven(await repository.saveCheckpoint(execution.id, context, counts, at), at);
          });
        },
      });
      outcome =
        controller.signal.reason === "database-unavailable"
          ? { status: "FAILED", exitMessage: databaseRefusedMessage(leaseMs, heartbeat.error) }
          : fence.lost !== null
            ? { status: "FAILED", exitMessage: leaseLostMessage(fence.lost) }
            : { status: result.status, exitMessage: result.exitMessage ?? stopMessage(controller.signal) };
    } catch (err) {
      const e = coerceError(err);
      outcome =
        heartbeat.error &&
        (e instanceof LeaseLostError || controller.signal.reason === "database-unavailable")
          ? { status: "FAILED", exitMessage: databaseRefusedMessage(leaseMs, heartbeat.error) }
          : e instanceof LeaseLostError && fence.lost !== null
            ? { status: "FAILED", exitMessage: leaseLostMessage(fence.lost) }
            : { status: "FAILED", exitMessage: e.message };
      log.error("execution failed", { err: e });
    } finally {
      heartbeat.stop();
      progress.stop();
    }
    recordExecutionOutcome(outcome.status, outcome.exitMessage, counts);
    if (leaseLost) {
      log.warn("execution was reset or failed by another process while running; its result is not recorded", {
        wouldHaveBeen: outcome.status,
      });
      return;
    }
    await recordEnd(execution.id, outcome, counts, fence, log, progress.snapshot());
  }

  /** Recording the end is the one write that must not be lost: retry it a few times. */
  async function recordEnd(
    executionId: number,
    outcome: { status: "COMPLETED" | "STOPPED" | "FAILED"; exitMessage: string },
    counts: Counts,
    fence: LeaseFence,
    log: Logger,
    { elapsedSeconds, readPerSecond, publishedPerSecond }: ProgressSnapshot,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const recorded = await repository.finish(executionId, outcome.status, outcome.exitMessage, counts);
        log.info("execution ended", {
          status: outcome.status,
          recorded,
          counts,
          exitMessage: outcome.exitMessage,
          elapsedSeconds,
          readPerSecond,
          publishedPerSecond,
        });
        return;
      } catch (err) {
        // a failover under way: wait for it while the lease holds, else give up after 5 tries
        const waiting = isDatabaseUnavailable(err) && fence.lost === null && !fence.expired();
        if (attempt >= 5 && !waiting) {
          log.error("could not record the end of the execution; the lease sweep will mark it FAILED", {
            err: coerceError(err),
          });
          return;
        }
        await Bun.sleep(attempt * 500);
      }
    }
  }

  function stopMessage(signal: AbortSignal): string {
    if (!signal.aborted) return "";
    if (signal.reason === "shutdown") return "stopped because the service shut down; restartable";
    if (signal.reason === "stop") return "stopped on request; restartable";
    return "";
  }

  async function launchJob(job: JobDefinition, request: LaunchRequest): Promise<LaunchResult> {
    const result = await repository.launch(request);
    if (result.kind !== "started") return result;
    if (shuttingDown) {
      // SIGTERM arrived while the launch was in flight: never leave it STARTING
      const ended = await repository.finish(
        result.execution.id,
        "STOPPED",
        "stopped because the service shut down as it was being launched; restartable",
        zeroCounts(),
      );
      logger.info("execution launched during shutdown: ended STOPPED", {
        executionId: result.execution.id,
        recorded: ended,
      });
      return result;
    }
    const entry: Active = {
      execution: result.execution,
      counts: zeroCounts(),
      controller: new AbortController(),
      done: Promise.resolve(),
    };
    active.set(result.execution.id, entry);
    entry.done = inExecutionSpan(job.name, result.execution, () => execute(job, result.execution, entry))
      .catch((err) =>
        logger.error("runner crashed", { executionId: result.execution.id, err: coerceError(err) }),
      )
      .finally(() => active.delete(result.execution.id));
    return result;
  }

  return {
    launch(jobName, opts) {
      const job = jobs.get(jobName);
      if (!job) return Promise.reject(new Error(`no job named ${jobName} is registered`));
      if (shuttingDown) return Promise.reject(new Error("the service is shutting down; launch refused"));
      // shutdown() waits for launches in flight: one that lands after it began is ended at once
      const launched = launchJob(job, { jobName, stepName: job.stepName, runner: runnerName, ...opts });
      launching.add(launched);
      void launched.then(
        () => launching.delete(launched),
        () => launching.delete(launched),
      );
      return launched;
    },

    active: () => [...active.values()].map((a) => ({ ...a.execution, counts: { ...a.counts } })),

    liveCounts: (id) => {
      const a = active.get(id);
      return a ? { ...a.counts } : undefined;
    },

    liveProgress: (id) => active.get(id)?.progress?.snapshot(),

    notifyStop(id) {
      const a = active.get(id);
      if (a && !a.controller.signal.aborted) a.controller.abort("stop" satisfies AbortReason);
    },

    async whenDone(id) {
      await active.get(id)?.done;
    },

    startSweeper() {
      sweeper ??= startSweeper({ repository, leaseMs, logger });
    },

    async shutdown() {
      shuttingDown = true;
      sweeper?.stop();
      sweeper = undefined;
      await Promise.allSettled([...launching]);
      for (const a of active.values()) {
        if (!a.controller.signal.aborted) a.controller.abort("shutdown" satisfies AbortReason);
      }
      await Promise.all([...active.values()].map((a) => a.done));
    },
  };
}

/** The exit message of an execution whose heartbeats the database refused past the lease. */
function databaseRefusedMessage(leaseMs: number, error: Error | undefined): string {
  return `the database refused heartbeats (or left them unanswered) for longer than the lease (${leaseMs / 1000} s): ${error?.message ?? "unknown error"}; stopped at the last checkpoint, restartable`;
}

/** The exit message of an execution whose process lost the lease (fenced). */
function leaseLostMessage(why: string): string {
  return `this process lost the lease (${why}) and stopped publishing and writing at once; restartable`;
}
