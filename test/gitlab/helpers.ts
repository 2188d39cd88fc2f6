/**
 * Shared set-up for the GitLab client tests: a GitlabConfig pointing at a simulator, and a
 * retry policy with short backoff so fault tests stay quick.
 */
import type { GitlabConfig } from "../../src/config/config.ts";
import type { RetryPolicy } from "../../src/gitlab/retry.ts";
import type { GitlabSim } from "../sim/gitlab.ts";

export const WEBHOOK_URL = "https://item-sync.example.org/webhooks/gitlab";

export function simConfig(sim: GitlabSim, overrides: Partial<GitlabConfig> = {}): GitlabConfig {
  return {
    url: sim.url,
    token: sim.token,
    group: sim.group,
    includeSubgroups: false,
    withShared: false,
    ignoreProjects: [],
    concurrency: 8,
    maxRps: 0,
    timeoutMs: 5_000,
    webhookUrl: WEBHOOK_URL,
    webhookSecret: "",
    ...overrides,
  };
}

export const FAST_RETRY: Partial<RetryPolicy> = { retries: 6, baseMs: 20, maxMs: 400 };

/** A small seeded PRNG (mulberry32), so fault injection is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn` over `items` with at most `limit` calls outstanding. */
export async function forEachLimited<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>) {
  const running = new Set<Promise<void>>();
  for (const item of items) {
    const p = fn(item).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
}
