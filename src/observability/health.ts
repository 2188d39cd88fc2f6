/**
 * Readiness as every part of the process sees it: the HealthCheck port a process composes from
 * its dependencies (database, broker, GitLab), one verdict per READY_MAX_AGE_MS shared by every
 * caller, and a check's state as a probe may show it. The HTTP routes that answer probes live in
 * http/routes-health.ts; the `item_sync_health_check` gauge in metrics.ts reads the same port.
 */
import { redact } from "../lib/log.ts";
import { memoize } from "../lib/memoize.ts";
import { SECOND } from "../lib/time.ts";

export interface HealthCheck {
  /** Readiness: database and broker reachable (and what else the process depends on). */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

/** `detailed`: every check with its state; `bare`: only ok or unavailable. */
export type ProbeDetail = "detailed" | "bare";

/** How long one readiness verdict answers every probe (database query included). */
export const READY_MAX_AGE_MS = 1 * SECOND;

/** The same verdict for every caller within READY_MAX_AGE_MS; one check in flight at a time. */
export function cachedReadiness(check: HealthCheck, now?: () => number): HealthCheck {
  return { ready: memoize(() => check.ready(), READY_MAX_AGE_MS, now) };
}

/**
 * A check's state as a probe may show it: redacted like a log line, and any URL stripped of its
 * user information (`http://bob:hunter2@gitlab` → `http://gitlab`), whoever registered it.
 */
export function shownCheck(state: string): string {
  return redact(state).replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1");
}
