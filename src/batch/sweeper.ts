/**
 * The periodic sweep of dead executions: every sweepIntervalMs, executions whose heartbeat is
 * older than the lease are marked FAILED (restartable). One sweep at a time: a sweep waiting on
 * a row lock must not be joined by the next ones (each would hold a pooled connection; that once
 * exhausted the pool). When a process frozen inside a transaction holds the rows locked, its
 * session is ended once the transaction is older than idleTransactionBoundMs, and the next sweep
 * marks the execution.
 */
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { idleTransactionBoundMs, sweepIntervalMs } from "./lease.ts";
import type { JobRepository } from "./repository.ts";

export function startSweeper(deps: {
  repository: Pick<JobRepository, "failStale" | "endAbandoned">;
  leaseMs: number;
  logger: Logger;
}): { stop(): void } {
  const { repository, leaseMs, logger } = deps;
  const everyMs = sweepIntervalMs(leaseMs);
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      // a sweep waits for a locked row at most until the next one is due
      const failed = await repository.failStale(leaseMs, new Date(), everyMs);
      if (failed === "blocked") {
        const ended = await repository.endAbandoned(idleTransactionBoundMs(leaseMs));
        for (const s of ended)
          logger.warn("ended a database session stuck inside a transaction; its locks are released", {
            ...s,
          });
      } else if (failed.length > 0) {
        logger.warn("marked dead executions FAILED", { executionIds: failed });
      }
    } catch (err) {
      logger.error("sweep of dead executions failed", { err: coerceError(err) });
    } finally {
      sweeping = false;
    }
  };
  void sweep();
  const timer = setInterval(sweep, everyMs);
  return { stop: () => clearInterval(timer) };
}
