/**
 * A GitLab REST API simulator for tests, the demo and benchmarks. `startGitlabSim(opts)` serves
 * the routes of gitlab-routes.ts on 127.0.0.1 with fault and load controls (latency, a per-token
 * request-rate limit answering 429 with Retry-After and RateLimit-* headers, injected 429/5xx,
 * dropped connections) and records what clients did (requests per route and status, peak
 * concurrency, arrival times, requests sent before a Retry-After had elapsed).
 *
 * Its projects hold IAT items with commit histories (iat-items.ts, iat-history.ts). It delivers
 * push events to project hooks and keeps their health as GitLab does (gitlab-hooks.ts), and
 * project events to system hooks (gitlab-system-hooks.ts).
 *
 * Standalone: `bun test/sim/gitlab.ts --help` lists the flags (gitlab-cli.ts). Once listening it
 * prints one JSON line `{"url","token","group","groupId"}` on stdout (tools parse it) and what it
 * serves on stderr.
 */
import { parseArgs, serveSummary, USAGE } from "./gitlab-cli.ts";
import { type AutoDisablePolicy, createHookDeliveries, forceDisable, recordOutcome } from "./gitlab-hooks.ts";
import { matchRoute, type RouteMatch } from "./gitlab-routes.ts";
import { createSimState, type SeedOptions, type SimHook } from "./gitlab-state.ts";
import { createSystemHookDeliveries } from "./gitlab-system-hooks.ts";

export interface SimControls {
  token: string; // the only valid token; "" accepts none
  latencyMs: number; // added before every answer
  rateLimitRps: number; // per token, fixed one-second windows; 0 = none
  fault429Rate: number; // share of requests answered 429 at random
  fault5xxRate: number; // share of requests answered fault5xxStatus at random
  fault5xxStatus: number;
  dropRate: number; // share of requests whose connection is reset without an answer
  retryAfterSeconds: number; // Retry-After of injected 429s
  /** requests a client may have under way when a 429 reaches it: its concurrency (see earlyRequests) */
  earlyAllowance: number;
  /**
   * The first request on each new connection arrives this much later (a TCP + TLS handshake with
   * a remote GitLab): it is recorded, counted and answered only after the delay. Warm requests on
   * other connections may overtake it — the cold start a pacer must allow for.
   */
  newConnectionDelayMs: number;
}

export interface SimOptions extends Partial<SeedOptions>, Partial<SimControls> {
  port?: number;
  random?: () => number; // for reproducible fault injection
  /** the clock hook health is judged by (disabled_until, the test endpoint's rate limit) */
  now?: () => number;
  /** deliver a push event to the project's hooks on every pushCommit (default false) */
  deliverPushes?: boolean;
  /** how failing hooks are disabled (gitlab-hooks.ts); default "gitlab-17.11" */
  hookAutoDisable?: AutoDisablePolicy;
  /** a delivery that has no answer after this long is a timeout (GitLab's default: 10 s) */
  hookTimeoutMs?: number;
  /** test requests per project and client a minute before 429 (GitLab 17.1+: 5); 0 = no limit */
  hookTestRateLimit?: number;
  /** registers a system hook at start: project events are POSTed to it */
  systemHookUrl?: string;
  systemHookToken?: string;
}

export interface SimStats {
  requests: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>; // "ROUTE STATUS" -> count, "ROUTE dropped" for resets
  concurrency: number;
  peakConcurrency: number;
  rateLimited: number; // 429 answers (limit and injected)
  /**
   * Requests that arrived while a Retry-After given to the same token was running, beyond the
   * first `earlyAllowance` of them: those may have been under way before the 429 reached the
   * client. Counted, not timed, so a slow machine cannot make an innocent request look early.
   */
  earlyRequests: number;
  arrivals: number[]; // arrival time of each request, ms (performance.now clock)
}

const DEFAULT_CONTROLS: SimControls = {
  token: "sim-token",
  latencyMs: 0,
  rateLimitRps: 0,
  fault429Rate: 0,
  fault5xxRate: 0,
  fault5xxStatus: 502,
  dropRate: 0,
  retryAfterSeconds: 1,
  earlyAllowance: 0,
  newConnectionDelayMs: 0,
};

function emptyStats(): SimStats {
  return {
    requests: 0,
    byRoute: {},
    byStatus: {},
    concurrency: 0,
    peakConcurrency: 0,
    rateLimited: 0,
    earlyRequests: 0,
    arrivals: [],
  };
}

const jsonHeaders = { "content-type": "application/json" };

export function startGitlabSim(opts: SimOptions = {}) {
  const state = createSimState(opts);
  const now = opts.now ?? Date.now;
  const policy = opts.hookAutoDisable ?? "gitlab-17.11";
  const controls: SimControls = { ...DEFAULT_CONTROLS };
  for (const key of Object.keys(DEFAULT_CONTROLS) as (keyof SimControls)[]) {
    if (opts[key] !== undefined) Object.assign(controls, { [key]: opts[key] });
  }
  const random = opts.random ?? Math.random;
  let stats = emptyStats();
  // per token, the Retry-After holds still running: until when, and how many requests arrived in each
  const blocked = new Map<string, Array<{ until: number; arrivals: number }>>();
  const windows = new Map<string, { second: number; count: number }>(); // rate-limit windows
  const listeners: Array<(info: { route: string; count: number; url: string }) => void> = [];
  const routeHolds = new Map<string, Promise<void>>(); // route -> released when the test says

  const bump = (rec: Record<string, number>, key: string) => {
    rec[key] = (rec[key] ?? 0) + 1;
  };

  function clientOf(req: Request): string | null {
    const priv = req.headers.get("private-token");
    const bearer = req.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
    const given = priv ?? bearer ?? null;
    return given !== null && controls.token !== "" && given === controls.token ? given : null;
  }

  function tooMany(client: string, retryAfter: number, limit: number, observed: number): Response {
    blocked.set(client, [
      ...(blocked.get(client) ?? []),
      { until: performance.now() + retryAfter * 1000, arrivals: 0 },
    ]);
    stats.rateLimited++;
    const reset = Math.ceil(Date.now() / 1000) + retryAfter;
    return new Response(JSON.stringify({ message: "Retry later" }), {
      status: 429,
      headers: {
        ...jsonHeaders,
        "retry-after": String(retryAfter),
        "ratelimit-name": "throttle_authenticated_api",
        "ratelimit-limit": String(limit),
        "ratelimit-observed": String(observed),
        "ratelimit-remaining": String(Math.max(0, limit - observed)),
        "ratelimit-reset": String(reset),
        "ratelimit-resettime": new Date(reset * 1000).toUTCString(),
      },
    });
  }

  const connections = new Set<number>(); // client ports seen (one per connection)

  async function handle(
    req: Request,
    name: string,
    route: RouteMatch | null,
    clientPort: number | null,
  ): Promise<Response> {
    if (clientPort !== null && !connections.has(clientPort)) {
      connections.add(clientPort);
      if (controls.newConnectionDelayMs > 0) await Bun.sleep(controls.newConnectionDelayMs);
    }
    const arrival = performance.now();
    stats.requests++;
    stats.arrivals.push(arrival);
    bump(stats.byRoute, name);
    for (const fn of listeners) fn({ route: name, count: stats.byRoute[name] ?? 0, url: req.url });
    await routeHolds.get(name);

    const client = clientOf(req);
    const running = (blocked.get(client ?? "") ?? []).filter((h) => h.until > arrival);
    if (client !== null) blocked.set(client, running);
    let early = false;
    for (const h of running) if (++h.arrivals > controls.earlyAllowance) early = true;
    if (early) stats.earlyRequests++;

    let observed = 0;
    if (client !== null && controls.rateLimitRps > 0) {
      const second = Math.floor(Date.now() / 1000);
      const w = windows.get(client);
      if (w && w.second === second) w.count++;
      else windows.set(client, { second, count: 1 });
      observed = windows.get(client)?.count ?? 1;
    }

    if (controls.latencyMs > 0) await Bun.sleep(controls.latencyMs);
    if (client === null)
      return new Response(JSON.stringify({ message: "401 Unauthorized" }), {
        status: 401,
        headers: jsonHeaders,
      });
    if (controls.rateLimitRps > 0 && observed > controls.rateLimitRps) {
      const untilNextSecond = Math.max(
        1,
        Math.ceil((Math.floor(Date.now() / 1000) + 1) * 1000 - Date.now()) / 1000,
      );
      return tooMany(client, Math.ceil(untilNextSecond), controls.rateLimitRps, observed);
    }
    const roll = random();
    if (roll < controls.dropRate) return DROP;
    if (roll < controls.dropRate + controls.fault429Rate) {
      return tooMany(client, controls.retryAfterSeconds, controls.rateLimitRps || 2000, observed);
    }
    if (roll < controls.dropRate + controls.fault429Rate + controls.fault5xxRate) {
      return new Response(JSON.stringify({ message: `${controls.fault5xxStatus} injected` }), {
        status: controls.fault5xxStatus,
        headers: jsonHeaders,
      });
    }
    if (!route)
      return new Response(JSON.stringify({ error: "404 Not Found" }), { status: 404, headers: jsonHeaders });
    return route.handle();
  }

  const hooks = createHookDeliveries(state, {
    policy,
    timeoutMs: opts.hookTimeoutMs ?? 10_000,
    now,
    baseUrl: () => url,
  });
  const system = createSystemHookDeliveries(state, {
    baseUrl: () => url,
    timeoutMs: opts.hookTimeoutMs ?? 10_000,
  });
  if (opts.systemHookUrl) state.addSystemHook(opts.systemHookUrl, opts.systemHookToken ?? "");
  const stopPushes = state.onEvent((e) => {
    // a project removed before the delivery starts has nobody to deliver to: nothing to report
    if (e.kind === "push" && opts.deliverPushes)
      void hooks.deliverPush(e.projectId, e.commits).catch(() => {});
  });
  const hookTests = new Map<string, number[]>(); // project:client -> times of test requests
  const testLimit = opts.hookTestRateLimit ?? 5;
  function allowHookTest(req: Request) {
    return (projectId: number) => {
      if (testLimit <= 0) return true;
      const key = `${projectId}:${clientOf(req) ?? ""}`;
      const t = now();
      const recent = (hookTests.get(key) ?? []).filter((at) => at > t - 60_000);
      if (recent.length >= testLimit) return false;
      hookTests.set(key, [...recent, t]);
      return true;
    };
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req, srv) {
      stats.concurrency++;
      stats.peakConcurrency = Math.max(stats.peakConcurrency, stats.concurrency);
      const current = stats;
      try {
        const route = matchRoute(state, req, new URL(req.url), url, {
          now,
          hooks,
          allowHookTest: allowHookTest(req),
        });
        const name = route?.name ?? `${req.method} (unknown)`;
        const res = await handle(req, name, route, srv.requestIP(req)?.port ?? null);
        bump(current.byStatus, `${name} ${res === DROP ? "dropped" : res.status}`);
        return res === DROP ? dropped() : res;
      } finally {
        current.concurrency--;
      }
    },
  });
  const url = `http://127.0.0.1:${server.port}`;

  return {
    url,
    token: controls.token,
    group: state.group.fullPath,
    groupId: state.group.id,
    state,
    controls,
    /** Changes fault and load controls at run time. */
    set(changes: Partial<SimControls>): void {
      Object.assign(controls, changes);
    },
    stats: () => stats,
    resetStats(): void {
      stats = { ...emptyStats(), concurrency: stats.concurrency };
      blocked.clear();
    },
    /** Forgets the connections seen: the next request on each counts as a new connection's. */
    forgetConnections(): void {
      connections.clear();
    },
    /** The most requests that arrived within any `windowMs` span. */
    maxInWindow(windowMs = 1000): number {
      const a = stats.arrivals;
      let best = 0;
      let lo = 0;
      for (let hi = 0; hi < a.length; hi++) {
        while ((a[hi] ?? 0) - (a[lo] ?? 0) >= windowMs) lo++;
        best = Math.max(best, hi - lo + 1);
      }
      return best;
    },
    /**
     * Holds every request of `route` (e.g. "GET /projects/:id/hooks") unanswered, in flight,
     * until the returned function is called: lets a test see how many a client keeps open.
     */
    hold(route: string): () => void {
      let release = () => {};
      routeHolds.set(
        route,
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      );
      return () => {
        routeHolds.delete(route);
        release();
      };
    },
    /** Called on every request's arrival, before it is answered: lets a test change data mid-scan. */
    onRequest(fn: (info: { route: string; count: number; url: string }) => void): () => void {
      listeners.push(fn);
      return () => {
        const i = listeners.indexOf(fn);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    /**
     * Delivers a push event of `commits` (oldest first; default: the head commit) to the
     * project's hooks with push events on, skipping disabled ones; resolves with each delivery.
     */
    deliverPush: hooks.deliverPush,
    /** Project-hook deliveries made or skipped, oldest first (headers, payload, outcome). */
    hookDeliveries: hooks.deliveries,
    /** System-hook deliveries made, in the order they ended. */
    systemHookDeliveries: system.deliveries,
    /** Resolves once every hook and system-hook delivery under way has ended. */
    async idle(): Promise<void> {
      await Promise.all([hooks.idle(), system.idle()]);
    },
    /** Test controls over a hook's health (GitLab's documented states, set directly). */
    hookHealth: {
      /** temporarily (until `until`, default a minute from now) or permanently disabled */
      disable(hook: SimHook, how: "temporarily" | "permanently", until?: number): void {
        forceDisable(hook, how, now(), until);
      },
      /** enabled again, its failure count cleared (as a successful test delivery does) */
      enable(hook: SimHook): void {
        recordOutcome(hook, { status: 200, body: "" }, now(), policy);
      },
    },
    async close(): Promise<void> {
      stopPushes();
      system.stop();
      await server.stop(true);
    },
  };
}

export type GitlabSim = ReturnType<typeof startGitlabSim>;

/** A connection reset with no answer: a stream that fails before its first byte. */
function dropped(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.error(undefined);
      },
    }),
  );
}

const DROP = new Response(null, { status: 599 }); // marker: reset the connection instead

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  const parsed = parseArgs(args);
  if ("error" in parsed) {
    console.error(`${parsed.error}\n\n${USAGE}`);
    process.exit(2);
  }
  const sim = startGitlabSim(parsed.options as SimOptions);
  // the first line is the contract with scripts/demo.ts, bench/ and the tests: keep it one JSON line
  console.log(JSON.stringify({ url: sim.url, token: sim.token, group: sim.group, groupId: sim.groupId }));
  console.error(serveSummary(sim));
  const stop = () => void sim.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
