/**
 * Small job definitions for batch and HTTP tests: a step that processes numbered "items" in
 * pages, checkpointing after each, until told to stop.
 */
import type { JobDefinition } from "../../src/batch/runner.ts";

export interface CountingStep extends JobDefinition {
  /** Items processed by every execution of this definition, in order. */
  processed: number[];
  /** Lets a held step go on (see `hold`). */
  release(): void;
}

export function countingJob(opts: {
  name?: string;
  total: number;
  pageSize: number;
  pageDelayMs?: number;
  hold?: boolean;
}): CountingStep {
  let releaseHold: () => void = () => {};
  let held = opts.hold ? new Promise<void>((r) => (releaseHold = r)) : Promise.resolve();
  const job: CountingStep = {
    name: opts.name ?? "itemSynchronizationJob",
    stepName: "countingStep",
    processed: [],
    release() {
      releaseHold();
      held = Promise.resolve();
    },
    async run(ctx) {
      let next = typeof ctx.restored.next === "number" ? ctx.restored.next : 0;
      while (next < opts.total) {
        await Promise.race([
          held,
          new Promise((r) => ctx.signal.addEventListener("abort", r, { once: true })),
        ]);
        if (ctx.signal.aborted) return { status: "STOPPED" };
        const end = Math.min(next + opts.pageSize, opts.total);
        for (let i = next; i < end; i++) {
          job.processed.push(i);
          ctx.counts.read++;
        }
        if (opts.pageDelayMs) await Bun.sleep(opts.pageDelayMs);
        next = end;
        await ctx.saveCheckpoint({ next });
        if (ctx.signal.aborted) return { status: "STOPPED" };
      }
      return { status: "COMPLETED" };
    },
  };
  return job;
}
