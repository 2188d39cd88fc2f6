/**
 * When GitLab refuses the token (401, or 403 on everything), no message can succeed: each would
 * run out its attempts and land in `.dead`. The gate turns that into a pause shared by every
 * ingest consumer of the process: the message that met the refusal and every later one wait,
 * unacked (so they stay in their queue), while GitLab is probed every few seconds; the first
 * probe that passes reopens the gate and the waiting messages go on. A 403 that concerns one
 * project only (the token works for the group) stays that message's own failure.
 */
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { SECOND, sleep } from "../lib/time.ts";

export interface GitlabGateState {
  open: boolean;
  /** why it is shut (GitLab's refusal, worded for the operator) */
  reason?: string;
  since?: Date;
}

export interface GitlabGate {
  /** Whether a handler's error is GitLab refusing our credentials (401/403). */
  isRefusal(err: Error): boolean;
  /**
   * After a refusal: asks GitLab whether the token still works. "token" — it does not: the gate
   * is shut until a probe passes; "message" — it does: the failure is the message's own.
   */
  report(err: Error): Promise<"token" | "message">;
  /** Resolves when the gate is open (at once when it is), or when `signal` aborts. */
  whenOpen(signal: AbortSignal): Promise<void>;
  state(): GitlabGateState;
  close(): void;
}

const statusOf = (err: unknown): number | undefined => {
  const s = (err as { upstreamStatus?: unknown } | null)?.upstreamStatus;
  return typeof s === "number" ? s : undefined;
};

export function createGitlabGate(deps: {
  /** Throws when GitLab refuses the configured token or group (GitlabClient.checkAccess). */
  probe(): Promise<void>;
  logger: Logger;
  probeIntervalMs?: number;
}): GitlabGate {
  const log = deps.logger.child({ component: "gitlab-gate" });
  const intervalMs = deps.probeIntervalMs ?? 5 * SECOND;
  let state: GitlabGateState = { open: true };
  let opened: { promise: Promise<void>; resolve: () => void } | null = null;
  let checking: Promise<"token" | "message"> | null = null;
  const stop = new AbortController();

  const reopen = () => {
    log.info("GitLab accepts the token again: ingest resumes", { pausedSince: state.since?.toISOString() });
    state = { open: true };
    opened?.resolve();
    opened = null;
  };

  const probeLoop = async () => {
    while (!stop.signal.aborted && !state.open) {
      await sleep(intervalMs, stop.signal);
      if (stop.signal.aborted) return;
      try {
        await deps.probe();
        reopen();
      } catch (thrown) {
        const reason = coerceError(thrown).message;
        if (reason !== state.reason) state = { ...state, reason };
        log.warn("GitLab still refuses: ingest stays paused, messages stay queued", { reason });
      }
    }
  };

  const shut = (reason: string) => {
    if (!state.open) return;
    state = { open: false, reason, since: new Date() };
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    opened = { promise, resolve };
    log.error(`GitLab refuses the token: ingest paused, messages stay in their queues (${reason})`);
    void probeLoop();
  };

  return {
    isRefusal: (err) => statusOf(err) === 401 || statusOf(err) === 403,
    report(err) {
      if (!state.open) return Promise.resolve("token");
      checking ??= (async () => {
        try {
          await deps.probe();
          return "message" as const;
        } catch (thrown) {
          const probeErr = coerceError(thrown);
          // GitLab unreachable or refusing: either way the refusal is not this message's fault
          shut(statusOf(probeErr) === undefined ? err.message : probeErr.message);
          return "token" as const;
        } finally {
          checking = null;
        }
      })();
      return checking;
    },
    async whenOpen(signal) {
      if (state.open || !opened) return;
      await Promise.race([
        opened.promise,
        new Promise<void>((r) => {
          if (signal.aborted) r();
          else signal.addEventListener("abort", () => r(), { once: true });
        }),
      ]);
    },
    state: () => ({ ...state }),
    close() {
      stop.abort();
      opened?.resolve();
    },
  };
}
