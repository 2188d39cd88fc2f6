/**
 * A push carrying our webhook secret suggests our hook is on its project — but anyone holding the
 * secret can send a push naming any project, and a hook recorded as verified is not checked by
 * incremental scans for SYNC_FULL_EVERY_HOURS. So a push only *asks* for verification: the hook is
 * recorded as verified once GitLab confirms our hook (WEBHOOK_URL) is on the project.
 *
 * The checks run in the background, after the delivery was answered, and cost a bounded amount:
 *   - none for a project the database does not know, or whose hook was verified within
 *     `freshForMs`, or that GitLab said lacks our hook within `negativeForMs`;
 *   - one at a time per project, `concurrency` at once, at most `maxPending` waiting — beyond,
 *     a request is dropped (the next sync checks that hook anyway).
 * Failures are logged, never retried: verification is an optimisation, not a duty.
 */
import { coerceError } from "../lib/errors.ts";
import { createLimiter } from "../lib/limiter.ts";
import type { Logger } from "../lib/log.ts";
import { MINUTE } from "../lib/time.ts";

export interface HookVerifierDeps {
  /** Whether GitLab lists our hook on the project (GitlabClient.isMonitored). */
  isMonitored(projectId: number): Promise<boolean>;
  /** When the project's hook was last verified: null never, undefined for an unknown project. */
  verifiedAt(projectId: number): Promise<Date | null | undefined>;
  markVerified(projectId: number, at: Date): Promise<void>;
  /** SYNC_FULL_EVERY_HOURS: how long a verification is trusted. */
  freshForMs: number;
  logger: Logger;
  negativeForMs?: number;
  concurrency?: number;
  maxPending?: number;
  now?: () => number;
}

export interface HookVerifier {
  /** Asks for the project's hook to be verified; returns at once. */
  request(projectId: number): void;
  /** Resolves once every request made so far is done (tests, shutdown). */
  idle(): Promise<void>;
  /** Takes no more requests and waits for those in hand. */
  close(): Promise<void>;
}

export function createHookVerifier(deps: HookVerifierDeps): HookVerifier {
  const now = deps.now ?? Date.now;
  const negativeForMs = deps.negativeForMs ?? 10 * MINUTE;
  const maxPending = deps.maxPending ?? 100;
  const limit = createLimiter(deps.concurrency ?? 2);
  const inHand = new Map<number, Promise<void>>();
  // projects GitLab said lack our hook, and when: bounded, oldest first out
  const lacking = new Map<number, number>();
  let closed = false;

  async function verify(projectId: number): Promise<void> {
    const refusedAt = lacking.get(projectId);
    if (refusedAt !== undefined && now() - refusedAt < negativeForMs) return;
    const at = await deps.verifiedAt(projectId);
    if (at === undefined) return; // not an item of ours: nothing to record
    if (at !== null && now() - at.getTime() < deps.freshForMs) return;
    if (!(await deps.isMonitored(projectId))) {
      lacking.delete(projectId);
      lacking.set(projectId, now());
      if (lacking.size > 10_000) lacking.delete(lacking.keys().next().value as number);
      deps.logger.info("a push named a project without our hook: not recorded as verified", { projectId });
      return;
    }
    lacking.delete(projectId);
    await deps.markVerified(projectId, new Date(now()));
  }

  return {
    request(projectId) {
      if (closed || inHand.has(projectId)) return;
      if (inHand.size >= maxPending) {
        deps.logger.debug("hook verification dropped: too many waiting", { projectId });
        return;
      }
      const done = limit(() => verify(projectId))
        .catch((err: unknown) =>
          deps.logger.warn("could not verify the hook of a pushed project", {
            projectId,
            err: coerceError(err),
          }),
        )
        .finally(() => inHand.delete(projectId));
      inHand.set(projectId, done);
    },
    async idle() {
      while (inHand.size > 0) await Promise.all(inHand.values());
    },
    async close() {
      closed = true;
      await this.idle();
    },
  };
}
