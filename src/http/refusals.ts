/**
 * Refused requests — a missing or bad token, a role too low, a webhook without its secret, a
 * query naming a parameter twice, a request shed or timed out — counted by reason
 * (`item_sync_http_refusals_total`) and logged without flooding the log: the first refusal at
 * once, then at most one line per `intervalMs` with the counts by reason since the last line. A
 * line names the reason, method, route and client address; never a token, a query or a body.
 */
import type { Logger } from "../lib/log.ts";
import { httpRefusals } from "../lib/telemetry.ts";
import { SECOND } from "../lib/time.ts";

export const REFUSAL_REASONS = [
  "unauthenticated",
  "invalid_token",
  "insufficient_scope",
  "forbidden",
  "auth_unavailable",
  "webhook_token",
  "duplicate_parameter",
  "overloaded",
  "timeout",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface RefusalContext {
  method: string;
  /** The route template, or `unmatched`; never the raw path (it may carry anything). */
  route: string;
  /** The client's address (see client-address.ts), when known. */
  client?: string;
}

export interface RefusalLog {
  record(reason: RefusalReason, context: RefusalContext): void;
  /** Writes the pending summary now and stops the timer. */
  close(): void;
}

export const REFUSAL_LOG_INTERVAL_MS = 10 * SECOND;

export function createRefusalLog(
  logger: Logger,
  opts: { intervalMs?: number; now?: () => number } = {},
): RefusalLog {
  const intervalMs = opts.intervalMs ?? REFUSAL_LOG_INTERVAL_MS;
  const now = opts.now ?? Date.now;
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let pending = new Map<RefusalReason, number>();
  let lastContext: RefusalContext | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    timer = undefined;
    if (pending.size === 0) return;
    const counts = Object.fromEntries(pending);
    const total = [...pending.values()].reduce((a, b) => a + b, 0);
    pending = new Map();
    lastLineAt = now();
    logger.warn("requests refused", {
      total,
      counts,
      intervalSeconds: intervalMs / SECOND,
      last: lastContext,
    });
  };

  return {
    record(reason, context) {
      httpRefusals.inc({ reason });
      const t = now();
      if (t - lastLineAt >= intervalMs && pending.size === 0) {
        lastLineAt = t;
        logger.warn("request refused", { reason, ...context });
        return;
      }
      pending.set(reason, (pending.get(reason) ?? 0) + 1);
      lastContext = context;
      if (!timer) {
        timer = setTimeout(flush, Math.max(0, lastLineAt + intervalMs - t));
        timer.unref?.();
      }
    },
    close() {
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}
