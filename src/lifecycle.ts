/**
 * Resource lifecycle: each resource registers its release right after it is created; shutdown
 * releases them last-in-first-out, keeps going past failures and reports the first error.
 * The first SIGTERM/SIGINT shuts down gracefully; a second one, or the watchdog, forces exit.
 */
import { coerceError } from "./lib/errors.ts";
import type { Logger } from "./lib/log.ts";
import { stopTracing } from "./lib/tracing.ts";

export interface Lifecycle {
  /** Registers a release step, run in reverse order of registration. */
  defer(name: string, release: () => Promise<void> | void): void;
  /** Runs every release once; later calls wait for the same shutdown. */
  shutdown(reason: string): Promise<Error | undefined>;
  /** Shutdown on SIGTERM/SIGINT, then exit; a second signal or the watchdog exits at once. */
  handleSignals(opts: { graceMs: number; exit: (code: number) => void }): void;
}

export function createLifecycle(logger: Logger): Lifecycle {
  const releasers: { name: string; release: () => Promise<void> | void }[] = [];
  let stopping: Promise<Error | undefined> | undefined;

  const lifecycle: Lifecycle = {
    defer(name, release) {
      releasers.push({ name, release });
    },
    shutdown(reason) {
      stopping ??= (async () => {
        logger.info("shutting down", { reason });
        let first: Error | undefined;
        for (const { name, release } of releasers.reverse()) {
          try {
            await release();
          } catch (err) {
            const e = coerceError(err);
            logger.error("release failed during shutdown", { resource: name, err: e });
            first ??= e;
          }
        }
        logger.info("shutdown complete");
        await stopTracing(); // the spans of the shutdown too; bounded, a no-op without tracing
        return first;
      })();
      return stopping;
    },
    handleSignals({ graceMs, exit }) {
      let signals = 0;
      const onSignal = (signal: string) => {
        signals++;
        if (signals > 1) {
          logger.warn("second signal: exiting at once", { signal });
          exit(130);
          return;
        }
        const watchdog = setTimeout(() => {
          logger.error("graceful shutdown took too long: exiting", { graceMs });
          exit(1);
        }, graceMs);
        watchdog.unref?.();
        void lifecycle.shutdown(signal).then((err) => exit(err ? 1 : 0));
      };
      process.on("SIGTERM", () => onSignal("SIGTERM"));
      process.on("SIGINT", () => onSignal("SIGINT"));
    },
  };
  return lifecycle;
}
