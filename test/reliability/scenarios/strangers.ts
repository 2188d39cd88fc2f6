/**
 * Strangers at the door: `serve` (compiled binary, Postgres, a real broker, no METRICS_PORT — so
 * /metrics and the detailed readiness are on the API port, the worst case) under `strangers`
 * concurrent unauthenticated clients for `durationMs`, each looping as fast as the server lets it:
 * a quarter scrape /metrics, a quarter ask /health/ready, a quarter send made-up bearer tokens,
 * a quarter announce a body and trickle it a byte every 200 ms. Meanwhile an operator's token
 * calls GET /jobs in a loop and the server's RSS is sampled.
 *
 * Measured: the operator's latency (p50/p99/max, every answer must be 200), the server's RSS
 * peak, how long a slow body held its connection, what the strangers got, and the refusal
 * counters and log lines. The load generator runs in this process on the same 2 cores as the
 * server: its own CPU is part of what the operator's calls wait behind.
 */
import { join } from "node:path";
import {
  API_TOKEN,
  amqpUrl,
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  waitForExecution,
} from "../../helpers/binary.ts";
import { createTestDatabase } from "../../helpers/db.ts";
import { startGitlabSim } from "../../sim/gitlab.ts";
import { formatKb, procStats, serviceEnv } from "../lib/harness.ts";
import { check, faultCheck, type ScenarioResult } from "../lib/report.ts";

export interface StrangersResult extends ScenarioResult {
  operator: { calls: number; non200: number; p50Ms: number; p99Ms: number; maxMs: number };
  baselineP99Ms: number;
  rssPeakKb: number;
  rssStartKb: number;
  slowBodyHeldMaxMs: number;
  strangerStatuses: Record<string, number>;
  crashed: boolean;
  refusalLogLines: number;
  tokenInLog: boolean;
}

/** The serve container's memory limit in the chart (charts/item-sync/values.yaml). */
export const CHART_MEMORY_LIMIT_KB = 512 * 1024;
/** The operator's p99 bound; why 3 s: test/reliability/strangers.test.ts. */
export const OPERATOR_P99_BOUND_MS = 3000;

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

export async function strangers(opts: { strangers: number; durationMs: number }): Promise<StrangersResult> {
  const sim = startGitlabSim({ projects: 20, subgroupFraction: 0, sharedFraction: 0 });
  const db = await createTestDatabase("pg");
  const names = brokerNames("strangers");
  let serve: RunningProcess | undefined;
  const badTokenPrefix = "made-up-token-never-logged-";
  try {
    serve = await startBinary(
      ["serve"],
      serviceEnv(sim, {
        DATABASE_URL: db.url,
        AMQP_URL: amqpUrl(),
        INGEST_ENABLED: "true",
        LOG_LEVEL: "info",
        ...names,
      }),
    );
    const base = serve.url;
    const { port } = new URL(base);
    const pid = serve.proc.pid;
    const call = api(base);
    // something to list, and every histogram of a sync in the exposition
    const launched = await call("POST", "/sync");
    await waitForExecution(call, launched.body.id as number, { proc: serve });

    const operatorCall = async () => {
      const t0 = performance.now();
      const res = await fetch(`${base}/jobs?limit=20`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      await res.arrayBuffer();
      return { ms: performance.now() - t0, status: res.status };
    };
    const baseline: number[] = [];
    for (let i = 0; i < 100; i++) baseline.push((await operatorCall()).ms);
    Bun.gc?.(true);
    const rssStartKb = procStats(pid).rssKb;

    // the strangers come from a process of their own, so that the operator's calls below are
    // not measured through the load generator's own event loop
    const load = Bun.spawn(
      [
        "bun",
        join(import.meta.dir, "strangers-load.ts"),
        String(port),
        String(opts.strangers),
        String(opts.durationMs),
        badTokenPrefix,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const loadReport = new Response(load.stdout).text();
    const stopAt = Date.now() + opts.durationMs;
    const operator: number[] = [];
    let non200 = 0;
    let rssPeakKb = rssStartKb;
    const sampler = setInterval(() => {
      try {
        rssPeakKb = Math.max(rssPeakKb, procStats(pid).rssKb);
      } catch {
        // the process is gone: reported as crashed below
      }
    }, 100);
    await Bun.sleep(1000); // let the strangers arrive
    while (Date.now() < stopAt) {
      const r = await operatorCall().catch(() => ({ ms: Number.POSITIVE_INFINITY, status: 0 }));
      operator.push(r.ms);
      if (r.status !== 200) non200++;
      await Bun.sleep(25);
    }
    await load.exited;
    clearInterval(sampler);
    const { statuses: strangerStatuses, slowBodyHeldMaxMs } = JSON.parse(await loadReport) as {
      statuses: Record<string, number>;
      slowBodyHeldMaxMs: number;
    };
    const crashed = serve.proc.exitCode !== null;

    const metrics = crashed ? "" : await (await fetch(`${base}/metrics`)).text();
    const refusals = [...metrics.matchAll(/^item_sync_http_refusals_total\{reason="([a-z_]+)"\} (\d+)/gm)]
      .map((m) => `${m[1]} ${m[2]}`)
      .join(", ");
    const logs = serve.logs();
    const refusalLogLines = logs.split("\n").filter((l) => /"msg":"requests? refused"/.test(l)).length;
    const tokenInLog = logs.includes(badTokenPrefix);
    const result = {
      calls: operator.length,
      non200,
      p50Ms: Math.round(percentile(operator, 50)),
      p99Ms: Math.round(percentile(operator, 99)),
      maxMs: Math.round(Math.max(...operator)),
    };
    const checks = [
      faultCheck(
        "strangers at the door",
        Object.values(strangerStatuses).reduce((a, b) => a + b, 0) > 0,
        `${Object.values(strangerStatuses).reduce((a, b) => a + b, 0)} stranger requests answered`,
      ),
      check("the process alive", !crashed, crashed ? "CRASHED" : "alive"),
      check("every operator call answered 200", non200 === 0, `${non200} of ${operator.length} not 200`),
      check(
        `operator p99 under ${OPERATOR_P99_BOUND_MS} ms`,
        result.p99Ms < OPERATOR_P99_BOUND_MS,
        `${result.p99Ms} ms`,
      ),
      check(
        "RSS under the chart's memory limit",
        rssPeakKb < CHART_MEMORY_LIMIT_KB,
        `peak ${formatKb(rssPeakKb)}`,
      ),
      check("no made-up token in the log", !tokenInLog, tokenInLog ? "found" : "none"),
    ];
    return {
      scenario: "strangers at the door",
      checks,
      tried: `${opts.strangers} concurrent unauthenticated clients for ${opts.durationMs / 1000} s (metrics, ready, made-up tokens, slow bodies) while an operator's token lists executions`,
      runs: operator.length,
      faults: `strangers: ${JSON.stringify(strangerStatuses)}; refusals: ${refusals}`,
      lost: 0,
      duplicates: 0,
      outcome: `operator GET /jobs p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms (baseline p99 ${Math.round(percentile(baseline, 99))} ms), ${non200} not 200; RSS ${formatKb(rssStartKb)} → peak ${formatKb(rssPeakKb)}; slow bodies held at most ${Math.round(slowBodyHeldMaxMs)} ms; ${refusalLogLines} refusal log lines; process ${crashed ? "CRASHED" : "alive"}`,
      operator: result,
      baselineP99Ms: Math.round(percentile(baseline, 99)),
      rssPeakKb,
      rssStartKb,
      slowBodyHeldMaxMs: Math.round(slowBodyHeldMaxMs),
      strangerStatuses,
      crashed,
      refusalLogLines,
      tokenInLog,
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await sim.close();
    await deleteBrokerNames(names);
    await db.drop();
  }
}
