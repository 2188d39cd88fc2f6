/**
 * One pacer per process, shared by every GitLab call: at most `concurrency` requests in flight,
 * at most `maxRps` sent in any sliding one-second window (when > 0), and after a 429 nobody
 * sends anything until the Retry-After has elapsed. Waiters are served first come, first served.
 *
 * GitLab counts requests as they arrive, and arrivals jitter by a few milliseconds, so the rate
 * window is a second plus `RATE_WINDOW_MARGIN_MS`.
 */
import type { Logger } from "../lib/log.ts";
import { gitlabRateLimited, gitlabRateLimitWait, gitlabWaiting } from "../lib/telemetry.ts";
import { SECOND } from "../lib/time.ts";

export const RATE_WINDOW_MARGIN_MS = 25;

export interface PacerStats {
  requests: number; // slots granted (requests sent)
  rateLimited: number; // 429 answers reported
  waitedMs: number; // wall-clock time sending was held by Retry-After
  inFlight: number;
  queued: number;
}

export interface Pacer {
  /** Waits for a slot; call the returned function once the response has been read. */
  /**
   * Waits for a slot. `urgent` requests are granted before every queued ordinary one: the scan's
   * list requests, few (one or two per 100 projects) and each holding back a whole page of work.
   */
  acquire(signal?: AbortSignal, urgent?: boolean): Promise<() => void>;
  /** A 429 arrived: hold every new request for `ms`. */
  rateLimited(ms: number): void;
  stats(): PacerStats;
}

interface Waiter {
  grant: (release: () => void) => void;
  fail: (reason: unknown) => void;
}

export function createPacer(opts: { concurrency: number; maxRps: number; logger?: Logger }): Pacer {
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const maxRps = Math.max(0, Math.floor(opts.maxRps));
  const windowMs = SECOND + RATE_WINDOW_MARGIN_MS;
  const sent: number[] = []; // send times of the last `maxRps` grants, oldest first
  const queue: Waiter[] = [];
  const urgentQueue: Waiter[] = [];
  const queued = () => urgentQueue.length + queue.length;
  let inFlight = 0;
  let blockedUntil = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const counters = { requests: 0, rateLimited: 0, waitedMs: 0 };

  function wakeAt(at: number) {
    if (timer) return; // the pending wake-up re-checks everything
    timer = setTimeout(
      () => {
        timer = null;
        pump();
      },
      Math.max(1, Math.ceil(at - performance.now())),
    );
  }

  function pump() {
    while (queued() > 0) {
      const now = performance.now();
      if (blockedUntil > now) return wakeAt(blockedUntil);
      if (inFlight >= concurrency) return; // a release pumps again
      if (maxRps > 0 && sent.length >= maxRps) {
        const oldest = sent[0] ?? 0;
        if (now - oldest < windowMs) return wakeAt(oldest + windowMs);
        sent.shift();
      }
      const waiter = urgentQueue.shift() ?? queue.shift();
      if (!waiter) return;
      gitlabWaiting.dec();
      inFlight++;
      counters.requests++;
      if (maxRps > 0) sent.push(now);
      let released = false;
      waiter.grant(() => {
        if (released) return;
        released = true;
        inFlight--;
        pump();
      });
    }
  }

  return {
    acquire(signal, urgent = false) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const waiter: Waiter = {
          grant: (release) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(release);
          },
          fail: reject,
        };
        const lane = urgent ? urgentQueue : queue;
        const onAbort = () => {
          const i = lane.indexOf(waiter);
          if (i >= 0) {
            lane.splice(i, 1);
            gitlabWaiting.dec();
          }
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        lane.push(waiter);
        gitlabWaiting.inc();
        pump();
      });
    },
    rateLimited(ms) {
      counters.rateLimited++;
      gitlabRateLimited.inc();
      const now = performance.now();
      const until = now + ms;
      if (until > blockedUntil) {
        const added = until - Math.max(now, blockedUntil);
        counters.waitedMs += added;
        gitlabRateLimitWait.inc(added / 1000);
        blockedUntil = until;
        opts.logger?.warn("gitlab rate limit: holding every request", { waitMs: Math.round(ms) });
      }
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      pump();
    },
    stats: () => ({
      requests: counters.requests,
      rateLimited: counters.rateLimited,
      waitedMs: Math.round(counters.waitedMs),
      inFlight,
      queued: queued(),
    }),
  };
}
