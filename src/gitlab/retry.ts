/**
 * When a failed GitLab request is tried again: 5xx, timeouts and connection errors get jittered
 * exponential backoff up to a bound; other 4xx never. 429 is not here: the pacer makes every
 * caller wait out Retry-After instead.
 */

export interface RetryPolicy {
  retries: number; // further attempts after the first
  baseMs: number;
  maxMs: number;
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseMs: 250, maxMs: 8_000, random: Math.random };

/** Delay before retry number `attempt` (0-based): half fixed, half random ("equal jitter"). */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + policy.random() * (ceiling / 2));
}

/**
 * How long a 429 asks us to wait, in ms: `Retry-After` (seconds or an HTTP date), else
 * `RateLimit-Reset` (Unix seconds), else `fallbackMs`. Never below 0, never above an hour.
 */
export function retryAfterMs(headers: Headers, fallbackMs: number, nowMs = Date.now()): number {
  const clamp = (ms: number) => Math.min(Math.max(0, Math.ceil(ms)), 3_600_000);
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return clamp(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return clamp(at - nowMs);
  }
  const reset = headers.get("ratelimit-reset")?.trim();
  if (reset && /^\d+$/.test(reset)) {
    const n = Number(reset);
    // GitLab sends Unix seconds; small values are read as a delay in seconds.
    return clamp(n > 1e9 ? n * 1000 - nowMs : n * 1000);
  }
  return clamp(fallbackMs);
}
