/**
 * How alive a running execution looks: the age of its heartbeat and when it will be presumed dead
 * (heartbeat + lease), for the answers that refuse something because it is running.
 */
import type { JobExecution } from "./types.ts";
import { isRunning } from "./types.ts";

export interface HeartbeatInfo {
  /** whole seconds since the last heartbeat */
  ageSeconds: number;
  /** when the lease runs out unless another heartbeat comes */
  presumedDeadAt: string;
  /** whole seconds until then (0 once past) */
  presumedDeadInSeconds: number;
}

export function heartbeatInfo(lastUpdated: Date, leaseMs: number, now = new Date()): HeartbeatInfo {
  const deadAt = lastUpdated.getTime() + leaseMs;
  return {
    ageSeconds: Math.max(0, Math.round((now.getTime() - lastUpdated.getTime()) / 1000)),
    presumedDeadAt: new Date(deadAt).toISOString(),
    presumedDeadInSeconds: Math.max(0, Math.round((deadAt - now.getTime()) / 1000)),
  };
}

/** "last heartbeat 3 s ago; presumed dead in 57 s, at …, unless another comes", or "" when not running. */
export function heartbeatText(
  e: Pick<JobExecution, "status" | "lastUpdated">,
  leaseMs: number,
  now = new Date(),
) {
  if (!isRunning(e.status)) return "";
  const h = heartbeatInfo(e.lastUpdated, leaseMs, now);
  return h.presumedDeadInSeconds > 0
    ? `last heartbeat ${h.ageSeconds} s ago; presumed dead in ${h.presumedDeadInSeconds} s, at ${h.presumedDeadAt}, unless another comes`
    : `heartbeat ${h.ageSeconds} s ago: presumed dead since ${h.presumedDeadAt}; the next launch or sweep marks it FAILED`;
}
