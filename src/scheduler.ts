/**
 * The nightly schedule (croner). Each tick launches with the scheduled slot as the identifying
 * parameter, so replicas that tick for the same slot start one execution between them, and a
 * replica ticking late does not run a slot that already ran.
 */
import { Cron } from "croner";
import type { JobService } from "./batch/service.ts";
import { coerceError } from "./lib/errors.ts";
import type { Logger } from "./lib/log.ts";

export interface Scheduler {
  nextRun(): Date | null;
  stop(): void;
}

export function startScheduler(opts: {
  pattern: string;
  timezone: string;
  jobs: JobService;
  logger: Logger;
}): Scheduler {
  const { jobs, logger } = opts;
  let slot: Date | null = null;
  const cron = new Cron(opts.pattern, { timezone: opts.timezone, protect: true }, async () => {
    // The slot is the time this tick was scheduled for, not when it fired.
    const scheduled = slot ?? new Date();
    slot = cron.nextRun();
    try {
      const result = await jobs.launch({
        trigger: "cron",
        launchedBy: "cron",
        fresh: true,
        identifying: { "schedule.slot": scheduled.toISOString() },
      });
      if (result.kind === "started")
        logger.info("scheduled sync started", { executionId: result.execution.id, slot: scheduled });
      else if (result.kind === "running")
        logger.info("scheduled sync skipped: one is running", {
          runningJobId: result.runningId,
          slot: scheduled,
        });
      else
        logger.info("scheduled sync skipped: this slot already ran", {
          executionId: result.executionId,
          slot: scheduled,
        });
    } catch (err) {
      logger.error("scheduled launch failed", { err: coerceError(err), slot: scheduled });
    }
  });
  slot = cron.nextRun();
  logger.info("schedule active", { pattern: opts.pattern, timezone: opts.timezone, nextRun: slot });
  return { nextRun: () => cron.nextRun(), stop: () => cron.stop() };
}
