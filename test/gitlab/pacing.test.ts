/**
 * Pacing against the simulator: injected 429s and 502s (the scan completes, nobody sends before
 * Retry-After), GitLab's own rate limit, GITLAB_CONCURRENCY as peak concurrency, GITLAB_MAX_RPS
 * over every one-second window, per-request timeouts, dropped connections, and 4xx not retried.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { GitlabError } from "../../src/gitlab/errors.ts";
import { createPacer, type Pacer } from "../../src/gitlab/pacer.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { waitFor } from "../helpers/binary.ts";
import { type GitlabSim, type SimOptions, startGitlabSim } from "../sim/gitlab.ts";
import { FAST_RETRY, forEachLimited, seededRandom, simConfig } from "./helpers.ts";

let sim: GitlabSim | undefined;
const start = (opts: SimOptions) => {
  sim = startGitlabSim({ random: seededRandom(42), ...opts });
  return sim;
};
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("faults", () => {
  test("5% 429 + 2% 502: the scan and hook checks complete, no request before Retry-After", async () => {
    const s = start({
      projects: 1_000,
      subgroupFraction: 0,
      sharedFraction: 0,
      fault429Rate: 0.05,
      fault5xxRate: 0.02,
      // requests under way when a 429 comes back are innocent: at most the client's concurrency
      earlyAllowance: 8,
    });
    const client = createGitlabClient(simConfig(s), { logger: silentLogger, retry: FAST_RETRY });
    const ids: number[] = [];
    const checks: Promise<boolean>[] = [];
    for await (const page of client.projectSource(20).pages()) {
      for (const p of page.projects) {
        ids.push(p.id);
        if (p.id % 10 === 0) checks.push(client.isMonitored(p.id));
      }
    }
    await Promise.all(checks);
    expect(ids).toEqual(s.state.projects.map((p) => p.id));
    const stats = s.stats();
    expect(stats.rateLimited).toBeGreaterThan(0);
    expect(Object.keys(stats.byStatus).some((k) => k.endsWith(" 502"))).toBe(true);
    expect(stats.earlyRequests).toBe(0);
    expect(client.stats().rateLimited).toBe(stats.rateLimited);
    expect(client.stats().retries).toBeGreaterThan(0);
    expect(client.stats().requests).toBe(stats.requests);
  }, 30_000);

  test("GitLab's own rate limit: every call completes and none arrives early", async () => {
    const s = start({ projects: 200, rateLimitRps: 60, earlyAllowance: 16 });
    const client = createGitlabClient(simConfig(s, { concurrency: 16 }), { logger: silentLogger });
    const results: boolean[] = [];
    await forEachLimited(s.state.projects.slice(0, 150), 32, async (p) => {
      results.push(await client.isMonitored(p.id));
    });
    expect(results).toHaveLength(150);
    expect(s.stats().rateLimited).toBeGreaterThan(0);
    expect(s.stats().earlyRequests).toBe(0);
  }, 30_000);

  test("dropped connections are retried", async () => {
    const s = start({ projects: 800, dropRate: 0.1 });
    const client = createGitlabClient(simConfig(s, { withShared: true, includeSubgroups: true }), {
      logger: silentLogger,
      retry: FAST_RETRY,
    });
    let n = 0;
    for await (const page of client.projectSource(20).pages()) n += page.projects.length;
    expect(n).toBe(800);
    expect(Object.keys(s.stats().byStatus).some((k) => k.endsWith(" dropped"))).toBe(true);
  }, 30_000);

  test("a request slower than the timeout is retried, then fails as retryable", async () => {
    const s = start({ projects: 5, latencyMs: 300 });
    const client = createGitlabClient(simConfig(s, { timeoutMs: 50 }), {
      logger: silentLogger,
      retry: { retries: 2, baseMs: 10, maxMs: 20 },
    });
    const err = await client.isMonitored(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitlabError);
    expect((err as GitlabError).retryable).toBe(true);
    expect((err as GitlabError).projectId).toBe(1);
    expect((err as GitlabError).message).toContain("no answer within 50 ms");
    expect(s.stats().byRoute["GET /projects/:id/hooks"]).toBe(3);
  }, 30_000);

  test("5xx retries are bounded; 4xx are not retried and name the project", async () => {
    const s = start({ projects: 5 });
    const client = createGitlabClient(simConfig(s), {
      logger: silentLogger,
      retry: { retries: 3, baseMs: 5, maxMs: 10 },
    });
    const missing = (await client.isMonitored(4242).catch((e: unknown) => e)) as GitlabError;
    expect(missing).toBeInstanceOf(GitlabError);
    expect(missing.upstreamStatus).toBe(404);
    expect(missing.retryable).toBe(false);
    expect(missing.projectId).toBe(4242);
    expect(missing.message).toContain("4242");
    expect(s.stats().requests).toBe(1);

    s.set({ fault5xxRate: 1, fault5xxStatus: 502 });
    const failing = (await client.isMonitored(1).catch((e: unknown) => e)) as GitlabError;
    expect(failing.retryable).toBe(true);
    expect(failing.upstreamStatus).toBe(502);
    expect(s.stats().requests).toBe(1 + 4);
  }, 30_000);
});

describe("pacing", () => {
  test("GITLAB_CONCURRENCY=16: with 64 callers and GitLab holding answers, exactly 16 requests are open", async () => {
    const s = start({ projects: 400, latencyMs: 5, subgroupFraction: 0, sharedFraction: 0 });
    const client = createGitlabClient(simConfig(s, { concurrency: 16 }), { logger: silentLogger });
    const release = s.hold("GET /projects/:id/hooks");
    let monitored = 0;
    let checked = 0;
    const run = forEachLimited(s.state.projects, 64, async (p) => {
      if (await client.isMonitored(p.id)) monitored++;
      checked++;
    });
    // every caller is either sent (and arrived at GitLab, held there) or queued in the client
    await waitFor("64 callers sent or queued", async () => {
      const c = client.stats();
      return c.inFlight + c.queued === 64 && s.stats().concurrency === c.inFlight;
    });
    expect(client.stats().inFlight).toBe(16);
    expect(s.stats().concurrency).toBe(16);
    release();
    await run;
    expect(checked).toBe(400);
    const url = simConfig(s).webhookUrl;
    expect(monitored).toBe(
      s.state.projects.filter((p) => s.state.hooksOf(p).some((h) => h.url === url)).length,
    );
    expect(s.stats().peakConcurrency).toBe(16);
  }, 30_000);

  test("GITLAB_MAX_RPS=200: the client sends no more than 200 requests in any one-second window", async () => {
    const s = start({ projects: 700 });
    const client = createGitlabClient(simConfig(s, { concurrency: 16, maxRps: 200 }), {
      logger: silentLogger,
    });
    const fetches = recordFetches(s);
    let finished = false;
    try {
      const run = forEachLimited(s.state.projects, 64, async (p) => {
        await client.isMonitored(p.id);
      });
      void run.then(() => {
        finished = true;
      });
      // the cap, not something else, sets the pace: requests wait in the client with slots free
      const seen = await waitFor("requests held by the cap, or the end of the run", async () => {
        const c = client.stats();
        return c.queued > 0 && c.inFlight < 16 ? "held by the cap" : finished && "finished";
      });
      expect(seen).toBe("held by the cap");
      await run;
    } finally {
      fetches.restore();
    }
    expect(client.stats().rateLimited).toBe(0);
    expect(s.stats().requests).toBe(700);
    expect(fetches.sent).toHaveLength(700);
    expect(busiestSecond(fetches.sent)).toBeLessThanOrEqual(200);
  }, 30_000);

  test("GITLAB_MAX_RPS=10: senders that resume late after their grant still keep 10 in any second", async () => {
    const s = start({ projects: 30 });
    // A real pacer whose first five grants reach their senders only with the tenth, all at once:
    // what a garbage collection or a busy machine does between a grant and its fetch.
    const paced = createPacer({ concurrency: 16, maxRps: 10 });
    let granted = 0;
    let resume = () => {};
    const late = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const pacer: Pacer = {
      ...paced,
      async acquire(signal, urgent) {
        const release = await paced.acquire(signal, urgent);
        granted++;
        if (granted === 10) resume();
        if (granted <= 5) await late;
        return release;
      },
    };
    const client = createGitlabClient(simConfig(s), { logger: silentLogger, pacer });
    const fetches = recordFetches(s);
    try {
      await forEachLimited(s.state.projects, 30, async (p) => {
        await client.isMonitored(p.id);
      });
    } finally {
      fetches.restore();
    }
    expect(granted).toBe(30);
    expect(fetches.sent).toHaveLength(30);
    expect(busiestSecond(fetches.sent)).toBeLessThanOrEqual(10);
  }, 30_000);
});

/**
 * Records when each request to `sim` is handed to fetch: the client's decision, which a loaded
 * machine can only spread out. (Arrivals at the simulator also carry the transport's jitter.)
 * Only requests to this simulator count: the test process also runs what other test files left
 * behind, and a fetch of theirs is not one of this client's requests.
 */
function recordFetches(sim: GitlabSim): { sent: number[]; restore: () => void } {
  const sent: number[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = Object.assign(
    (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.startsWith(sim.url)) sent.push(performance.now());
      return realFetch(input, init);
    },
    realFetch,
  );
  return { sent, restore: () => (globalThis.fetch = realFetch) };
}

/** The most requests in any one-second window of `times` (ascending). */
function busiestSecond(times: number[]): number {
  let busiest = 0;
  for (let hi = 0, lo = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= 1000) lo++;
    busiest = Math.max(busiest, hi - lo + 1);
  }
  return busiest;
}
