/**
 * Shared set-up for the GitLab client tests: a GitlabConfig pointing at a simulator, and a
 * retry policy with short backoff so fault tests stay quick.
 */
import type { GitlabConfig } from "../../src/config.ts";
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
