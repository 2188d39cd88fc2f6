/**
 * Progress lines of a running execution: every `intervalMs` one `execution progress` log line
 * with the live counts, the projects fully handled, rates per second, time elapsed and — when the
 * step reported how many projects there are (GitLab's x-total of the first page, absent past
 * 10,000 rows) — an ETA at the rate projects are handled. Operators follow a
 * sync in the logs with these; /jobs/{id} and /metrics carry the same counts.
 */
import type { Logger } from "../lib/log.ts";
import { SECOND } from "../lib/time.ts";
import { type Counts, handledCount } from "./types.ts";

/** How often a running execution logs its progress. */
export const PROGRESS_INTERVAL_MS = 10 * SECOND;

export interface ProgressSnapshot {
  /**
   * Projects fully handled (handledCount: update-item confirmed, or left unchanged by an
   * incremental scan). Progress and ETA count these, not `read` (the listing runs ahead).
   */
  handled: number;
  read: number;
  hooksChecked: number;
  published: number;
  monitorPublished: number;
  updatePublished: number;
  deletePublished: number;
  skipped: number;
  elapsedSeconds: number;
  /** projects read per second since the start */
  readPerSecond: number;
  /** messages confirmed per second since the start */
  publishedPerSecond: number;
  total?: number;
  /**
   * Projects of `total` handled by the executions this one resumes (up to its checkpoint); the
   * listing is done when handledBefore + handled reaches total. Only with a total.
   */
  handledBefore?: number;
  /** projects handled per second since the start */
  handledPerSecond: number;
  /** seconds left to handle every project, at the rate so far; only when the total is known */
  etaSeconds?: number;
}

export interface ProgressReporter {
  /**
   * The number of projects in the listing, when known (null when unknown), and how many of them
   * the executions this one resumes handled.
   */
  setTotal(total: number | null, handledBefore?: number): void;
  snapshot(): ProgressSnapshot;
  stop(): void;
}

/** Runs `tick` every `ms` until the returned function is called; tests pass a hand-driven one. */
export type Every = (tick: () => void, ms: number) => () => void;

const realEvery: Every = (tick, ms) => {
  const timer = setInterval(tick, ms);
  return () => clearInterval(timer);
};

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function startProgress(opts: {
  counts: Counts;
  logger: Logger;
  intervalMs?: number;
  now?: () => number;
  every?: Every;
}): ProgressReporter {
  const now = opts.now ?? (() => performance.now());
  const startedAt = now();
  let total: number | null = null;
  let before = 0;

  const snapshot = (): ProgressSnapshot => {
    const c = opts.counts;
    const elapsed = Math.max(0, (now() - startedAt) / 1000);
    const published = c.monitorPublished + c.updatePublished + c.deletePublished;
    const readRate = elapsed > 0 ? c.read / elapsed : 0;
    // every project gets exactly one update-item, so its confirms count the projects done
    const handled = handledCount(c);
    const handledRate = elapsed > 0 ? handled / elapsed : 0;
    const out: ProgressSnapshot = {
      handled,
      read: c.read,
      hooksChecked: c.hooksChecked,
      published,
      monitorPublished: c.monitorPublished,
      updatePublished: c.updatePublished,
      deletePublished: c.deletePublished,
      skipped: c.skipped,
      elapsedSeconds: round(elapsed),
      readPerSecond: round(readRate),
      handledPerSecond: round(handledRate),
      publishedPerSecond: round(elapsed > 0 ? published / elapsed : 0),
    };
    if (total !== null) {
      out.total = total;
      out.handledBefore = before;
      if (handledRate > 0) out.etaSeconds = Math.round(Math.max(0, total - before - handled) / handledRate);
    }
    return out;
  };

  const cancel = (opts.every ?? realEvery)(
    () => opts.logger.info("execution progress", { ...snapshot() }),
    opts.intervalMs ?? PROGRESS_INTERVAL_MS,
  );
  return {
    setTotal(value, handledBefore = 0) {
      total = value !== null && Number.isFinite(value) && value >= 0 ? value : null;
      before = Number.isFinite(handledBefore) && handledBefore > 0 ? handledBefore : 0;
    },
    snapshot,
    stop: cancel,
  };
}
