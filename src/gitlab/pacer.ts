/**
 * One pacer per process, shared by every GitLab call: at most `concurrency` requests in flight,
 * at most `maxRps` (when > 0) in any one-second window *as GitLab counts them* — on arrival — and
 * after a 429 nobody sends anything until the Retry-After has elapsed. Waiters are served first
 * come, first served (urgent ones first).
 *
 * The rate is a GCRA (generic cell rate algorithm, a virtual-scheduling token bucket): requests
 * leave evenly spaced, `intervalMs` apart, with a burst of at most `burst` after an idle spell —
 * never maxRps at once and then an idle rest of the second, which GitLab sees as a spike as soon
 * as arrivals jitter. The interval is chosen so that any maxRps + 1 consecutive requests span at
 * least a second plus `RATE_WINDOW_MARGIN_MS`: arrivals may jitter by that much and a window at
 * the server still holds at most maxRps. Cold connections (TCP and TLS handshakes) arrive later
 * than warm ones, all at once at the start of a run; so the first second after an idle spell is
 * paced as if the window were `COLD_START_MARGIN_MS` longer.
 *
 * A grant is a decision; the request leaves when its caller runs again, which a garbage
 * collection or a busy machine can delay by tens of milliseconds — one late sender and a window
 * holds maxRps + 1. So the cap is checked once more at the moment of sending (`trySend`), over the
 * send times of the last maxRps requests, and a Retry-After that began since the grant holds too.
 */
import type { Logger } from "../lib/log.ts";
import { gitlabRateLimited, gitlabRateLimitWait, gitlabWaiting } from "../lib/telemetry.ts";
import { SECOND } from "../lib/time.ts";

export const RATE_WINDOW_MARGIN_MS = 25;
/** Extra lateness allowed for the handshakes of a cold start (see above). */
export const COLD_START_MARGIN_MS = 250;
/** The pacer is cold again after this long without a request (connections may have closed). */
const IDLE_MS = 5 * SECOND;

export interface PacerStats {
  requests: number; // slots granted (requests sent)
  rateLimited: number; // 429 answers reported
  waitedMs: number; // wall-clock time sending was held by Retry-After
  inFlight: number;
  queued: number;
}

export interface Pacer {
  /**
   * Waits for a slot; call the returned function once the response has been read. `urgent`
   * requests are granted before every queued ordinary one: the scan's list requests, few (one or
   * two per 100 projects) and each holding back a whole page of work.
   */
  acquire(signal?: AbortSignal, urgent?: boolean): Promise<() => void>;
  /**
   * Call right before handing a granted request to fetch, and send in the same turn when it
   * answers 0 (the send is then recorded). Otherwise wait that many milliseconds and ask again:
   * sending now would put maxRps + 1 requests in a window, or fall within a Retry-After.
   */
  trySend(): number;
  /** A 429 arrived: hold every new request for `ms`. */
  rateLimited(ms: number): void;
  stats(): PacerStats;
}

interface Waiter {
  grant: (release: () => void) => void;
  fail: (reason: unknown) => void;
}

/** The steady request rate (per second) the pacer allows under a cap of `maxRps` (0: none). */
export function pacedRate(maxRps: number): number {
  const cap = Math.max(0, Math.floor(maxRps));
  if (cap === 0) return Number.POSITIVE_INFINITY;
  const burst = Math.max(1, Math.floor(cap / 50));
  return (SECOND * Math.max(1, cap + 1 - burst)) / (SECOND + RATE_WINDOW_MARGIN_MS);
}

export function createPacer(opts: { concurrency: number; maxRps: number; logger?: Logger }): Pacer {
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const maxRps = Math.max(0, Math.floor(opts.maxRps));
  // A small burst (1 per 50 req/s) lets a lone request after a pause go at once; any maxRps + 1
  // consecutive grants still span (maxRps + 1 - burst) intervals = the window plus its margin.
  const burst = Math.max(1, Math.floor(maxRps / 50));
  const spread = Math.max(1, maxRps + 1 - burst);
  const intervalMs = SECOND / pacedRate(maxRps);
  const coldIntervalMs = (SECOND + RATE_WINDOW_MARGIN_MS + COLD_START_MARGIN_MS) / spread;
  const toleranceMs = (burst - 1) * intervalMs;
  let tat = Number.NEGATIVE_INFINITY; // theoretical arrival time of the next request
  let coldUntil = 0; // grants before this use the cold-start interval
  const queue: Waiter[] = [];
  const urgentQueue: Waiter[] = [];
  const queued = () => urgentQueue.length + queue.length;
  let inFlight = 0;
  let blockedUntil = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const counters = { requests: 0, rateLimited: 0, waitedMs: 0 };
  // send times of the last maxRps requests, oldest at `oldest` once the ring is full
  const sendTimes = new Float64Array(maxRps);
  let oldest = 0;
  let sends = 0;

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
      if (maxRps > 0 && now < tat - toleranceMs) return wakeAt(tat - toleranceMs);
      const waiter = urgentQueue.shift() ?? queue.shift();
      if (!waiter) return;
      gitlabWaiting.dec();
      inFlight++;
      counters.requests++;
      if (maxRps > 0) {
        if (now - tat > IDLE_MS) coldUntil = now + SECOND + COLD_START_MARGIN_MS;
        tat = Math.max(tat, now) + (now < coldUntil ? coldIntervalMs : intervalMs);
      }
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
    trySend() {
      const now = performance.now();
      if (blockedUntil > now) return blockedUntil - now;
      if (maxRps === 0) return 0;
      if (sends >= maxRps) {
        const wait = (sendTimes[oldest] ?? 0) + SECOND + RATE_WINDOW_MARGIN_MS - now;
        if (wait > 0) return wait;
      }
      sendTimes[oldest] = now;
      oldest = (oldest + 1) % maxRps;
      sends++;
      return 0;
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
