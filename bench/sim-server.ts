/**
 * The GitLab simulator (test/sim/gitlab.ts) in a process of its own, for the benchmarks, plus a
 * control listener on a second port so the harness can read what the simulator saw:
 *
 *   bun bench/sim-server.ts --projects N [--latency-ms L] [--rate-limit RPS] [--monitored-fraction F]
 *
 * Prints one JSON line `{url, token, group, controlUrl}` once listening. Control routes:
 *   GET  /stats  requests, 429s, statuses, peak concurrency, arrival span, busiest second,
 *                the simulator's own CPU time and RSS
 *   POST /reset  zero the counters (between repetitions)
 *   POST /push?fraction=F&salt=S  push a commit (a new item.json) to a share F of the projects,
 *                chosen by S (deterministic), as overnight work would: answers {pushed: [ids]}
 *   [--activity-throttle-ms T] how long GitLab waits before bumping last_activity_at again
 * Every project sits directly in the group (no subgroups, nothing shared in), so a sync with the
 * default flags reads exactly N projects.
 */
import { startGitlabSim } from "../test/sim/gitlab.ts";

function num(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seededAt = performance.now();
const sim = startGitlabSim({
  projects: num("projects", 1000),
  latencyMs: num("latency-ms", 0),
  rateLimitRps: num("rate-limit", 0),
  // requests a client may have under way when a 429 reaches it (its GITLAB_CONCURRENCY)
  earlyAllowance: num("early-allowance", 0),
  monitoredFraction: num("monitored-fraction", 0.5),
  subgroupFraction: 0,
  sharedFraction: 0,
  webhookUrl: "https://item-sync.bench/webhooks/gitlab",
  activityThrottleMs: num("activity-throttle-ms", 60 * 60_000),
});
const seedMs = performance.now() - seededAt;

const control = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (req.method === "POST" && path === "/reset") {
      sim.resetStats();
      return Response.json({ ok: true });
    }
    if (req.method === "POST" && path === "/push") {
      const q = new URL(req.url).searchParams;
      const fraction = Number(q.get("fraction") ?? 0.01);
      const salt = Number(q.get("salt") ?? 1);
      const all = sim.state.projects;
      const want = Math.round(fraction * all.length);
      const pushed: number[] = [];
      // a stride walk from a salted start: distinct projects, spread over every page
      const stride = Math.max(1, Math.floor(all.length / Math.max(1, want)));
      for (let i = 0; i < want; i++) {
        const p = all[(salt * 7919 + i * stride) % all.length];
        if (!p || pushed.includes(p.id)) continue;
        sim.state.touchItem(p.id, `salt ${salt}`);
        pushed.push(p.id);
      }
      return Response.json({ pushed });
    }
    if (path === "/stats") {
      const s = sim.stats();
      const cpu = process.cpuUsage();
      return Response.json({
        requests: s.requests,
        rateLimited: s.rateLimited,
        earlyRequests: s.earlyRequests,
        byStatus: s.byStatus,
        peakConcurrency: s.peakConcurrency,
        firstArrivalMs: s.arrivals[0] ?? null,
        lastArrivalMs: s.arrivals.at(-1) ?? null,
        maxInOneSecond: sim.maxInWindow(1000),
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssBytes: process.memoryUsage.rss(),
      });
    }
    return new Response("not found", { status: 404 });
  },
});

console.log(
  JSON.stringify({
    url: sim.url,
    token: sim.token,
    group: sim.group,
    controlUrl: `http://127.0.0.1:${control.port}`,
    projects: sim.state.projects.length,
    seedMs: Math.round(seedMs),
  }),
);

const stop = () => {
  control.stop(true);
  void sim.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
