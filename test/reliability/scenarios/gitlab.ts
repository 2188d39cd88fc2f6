/**
 * GitLab faults during a sync, against the compiled binary: the simulator's own 429 storms and
 * 5xx bursts, and through a fault proxy: answers hanging past GITLAB_TIMEOUT_SECONDS, connections
 * reset mid-body, malformed JSON, a page shorter than per_page in the middle of the list; and
 * projects deleted mid-scan. The sync completes or fails with a clear reason (then a relaunch
 * resumes it), and no project still in GitLab is left without its update-item.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  amqpUrl,
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  startTap,
  waitFor,
} from "../../helpers/binary.ts";
import type { GitlabSim } from "../../sim/gitlab.ts";
import { instanceLines, ledgerOf } from "../lib/accounting.ts";
import { type Execution, scenarioSim, serviceEnv, waitTerminal } from "../lib/harness.ts";
import { type HttpFault, startFaultProxy } from "../lib/http-fault-proxy.ts";
import { type Check, check, faultCheck, lostCheck, type ScenarioResult } from "../lib/report.ts";

const PROJECTS_ROUTE = /\/groups\/[^/]+\/projects$/;

interface Setup {
  sim: GitlabSim;
  proxy: ReturnType<typeof startFaultProxy>;
  /** called once the first execution is launched */
  during?: (sim: GitlabSim) => Promise<void>;
  expectedIds: () => number[];
  /** whether the faults this scenario is about were injected, from the simulator's and proxy's counts */
  injected: (stats: ReturnType<GitlabSim["stats"]>, proxyCounts: Record<string, number>) => Check;
}

async function runWithFaults(
  name: string,
  tried: string,
  setup: Setup,
  extraEnv: Record<string, string> = {},
): Promise<ScenarioResult & { ends: Execution[] }> {
  const { sim, proxy } = setup;
  const dir = mkdtempSync(join(tmpdir(), "item-sync-rel-gitlab-"));
  const names = brokerNames("glf");
  const tap = await startTap(names.AMQP_EXCHANGE);
  let serve: RunningProcess | undefined;
  const ends: Execution[] = [];
  try {
    serve = await startBinary(
      ["serve"],
      serviceEnv(
        { url: proxy.url, token: sim.token, group: sim.group },
        {
          DATABASE_URL: `sqlite:${join(dir, "db.sqlite")}`,
          AMQP_URL: amqpUrl(),
          GITLAB_CONCURRENCY: "8",
          GITLAB_TIMEOUT_SECONDS: "1",
          ...names,
          ...extraEnv,
        },
      ),
    );
    const call = api(serve.url);
    for (let attempt = 0; attempt < 4; attempt++) {
      const launched = await call("POST", "/sync");
      if (launched.status !== 202) throw new Error(`launch refused: ${JSON.stringify(launched.body)}`);
      if (attempt === 0) await setup.during?.(sim);
      const end = await waitTerminal(call, launched.body.id as number, 180_000, serve);
      ends.push(end);
      if (end.status === "COMPLETED") break;
      sim.set({ fault429Rate: 0, fault5xxRate: 0, dropRate: 0 });
      proxy.setDecider(() => ({ kind: "pass" }));
    }
    const ids = setup.expectedIds();
    const dbUrl = `sqlite:${join(dir, "db.sqlite")}`;
    await waitFor(
      "every completed sync's update-items",
      async () => (await ledgerOf(dbUrl, tap.messages, ids)).lost === 0,
      20_000,
    ).catch(() => {});
    const ledger = await ledgerOf(dbUrl, tap.messages, ids);
    const skipped = ends.reduce((n, e) => n + (e.counts?.skipped ?? 0), 0);
    await serve.kill("SIGTERM");
    const stats = sim.stats();
    return {
      scenario: name,
      tried,
      runs: ends.length,
      faults: `simulator ${stats.rateLimited} × 429, ${Object.entries(stats.byStatus)
        .filter(([k]) => / 5\d\d$/.test(k))
        .reduce((n, [, v]) => n + v, 0)} × 5xx; proxy ${JSON.stringify(proxy.counts)}`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      outcome: `${ends.map((e) => `${e.status}${e.exitMessage ? ` (${e.exitMessage.slice(0, 200)})` : ""}`).join(" → ")}; ${skipped} hook checks skipped`,
      checks: [
        setup.injected(stats, proxy.counts),
        check("a run COMPLETED", ends.at(-1)?.status === "COMPLETED", ends.map((e) => e.status).join(" → ")),
        check(
          "every failed run says why",
          ends.every((e) => e.status === "COMPLETED" || (e.exitMessage ?? "") !== ""),
          ends.filter((e) => e.status !== "COMPLETED" && !e.exitMessage).length === 0
            ? "yes"
            : "a run failed without a reason",
        ),
        lostCheck(
          ledger.lost,
          ids.length * ledger.instances.filter((i) => i.status === "COMPLETED").length,
          "project-syncs",
        ),
      ],
      notes: [
        ...instanceLines(ledger.instances),
        ...ledger.instances
          .filter((i) => i.lost.length > 0)
          .map(
            (i) => `instance ${i.instanceId}: projects never published: ${i.lost.slice(0, 20).join(", ")}`,
          ),
      ],
      ends,
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await proxy.close();
    await sim.close();
    await deleteBrokerNames(names);
    rmSync(dir, { recursive: true, force: true });
  }
}

function newSim(projects: number) {
  return scenarioSim(projects, 2);
}

/** 429 storms and 5xx bursts from the simulator, hangs, mid-body resets and malformed JSON from the proxy. */
export async function mixedFaults(opts: { projects?: number } = {}) {
  const projects = opts.projects ?? 2000;
  const sim = newSim(projects);
  const proxy = startFaultProxy(sim.url);
  const rate = { hang: 0.01, reset: 0.02, malformed: 0.02 };
  proxy.setDecider(() => {
    const r = Math.random();
    if (r < rate.hang) return { kind: "hang", ms: 2500 };
    if (r < rate.hang + rate.reset) return { kind: "reset-mid-body" };
    if (r < rate.hang + rate.reset + rate.malformed) return { kind: "malformed-json" };
    return { kind: "pass" };
  });
  return runWithFaults(
    "GitLab: 429 storms, 5xx bursts, timeouts, resets mid-body, malformed JSON",
    `${projects}-project sync; alternating 1.5 s storms of 40 % 429 (Retry-After 1) and 30 % 502; throughout 1 % of answers hang 2.5 s (timeout 1 s), 2 % reset mid-body, 2 % malformed JSON`,
    {
      sim,
      proxy,
      async during(s) {
        for (let i = 0; i < 4; i++) {
          s.set(i % 2 === 0 ? { fault429Rate: 0.4, retryAfterSeconds: 1 } : { fault5xxRate: 0.3 });
          await Bun.sleep(1500);
          s.set({ fault429Rate: 0, fault5xxRate: 0 });
          await Bun.sleep(700);
        }
      },
      expectedIds: () => sim.state.projects.map((p) => p.id),
      injected: (stats, counts) => {
        const fiveXx = Object.entries(stats.byStatus)
          .filter(([k]) => / 5\d\d$/.test(k))
          .reduce((n, [, v]) => n + v, 0);
        const kinds = ["hang", "reset-mid-body", "malformed-json"].map((k) => counts[k] ?? 0);
        return faultCheck(
          "429s, 5xx, hangs, resets and malformed JSON all injected",
          stats.rateLimited > 0 && fiveXx > 0 && kinds.every((n) => n > 0),
          `${stats.rateLimited} × 429, ${fiveXx} × 5xx, ${kinds.join("/")} hangs/resets/malformed`,
        );
      },
    },
  );
}

/** Page 3 of the listing comes back with 7 projects fewer than per_page (GitLab hides some). */
export async function shortPage(opts: { projects?: number } = {}) {
  const projects = opts.projects ?? 1000;
  const sim = newSim(projects);
  const proxy = startFaultProxy(sim.url);
  const hidden = new Set(sim.state.projects.slice(210, 217).map((p) => p.id));
  proxy.setDecider(
    (_req, url): HttpFault =>
      PROJECTS_ROUTE.test(url.pathname) ? { kind: "hide-projects", ids: hidden } : { kind: "pass" },
  );
  return runWithFaults(
    "GitLab: a short page in the middle",
    `${projects}-project listing whose page 3 holds 93 projects instead of 100 (7 hidden from listings)`,
    {
      sim,
      proxy,
      expectedIds: () => sim.state.projects.map((p) => p.id).filter((id) => !hidden.has(id)),
      injected: (_stats, counts) =>
        faultCheck(
          "a listing page came back short",
          (counts["hide-projects"] ?? 0) > 0,
          `${counts["hide-projects"] ?? 0} short pages`,
        ),
    },
  );
}

/**
 * Projects deleted mid-scan: while page N is requested, one project of an earlier page is
 * removed — GitLab's offsets shift down by one, so the first project of page N moves onto page N-1,
 * which was already read. Every project still in GitLab must get its update-item.
 */
export async function deletedMidScan(opts: { projects?: number; deletions?: number } = {}) {
  const projects = opts.projects ?? 1000;
  const deletions = opts.deletions ?? 3;
  const sim = newSim(projects);
  const proxy = startFaultProxy(sim.url);
  const removed: number[] = [];
  proxy.setDecider((_req, url) => {
    const page = Number(url.searchParams.get("page") ?? "1");
    if (PROJECTS_ROUTE.test(url.pathname) && page >= 3 && removed.length < deletions && page % 2 === 1) {
      const victim = sim.state.projects[page * 10]?.id; // a project of an earlier page
      if (victim !== undefined && sim.state.removeProject(victim)) removed.push(victim);
    }
    return { kind: "pass" };
  });
  const r = await runWithFaults(
    "GitLab: projects deleted mid-scan",
    `${projects}-project listing; ${deletions} projects of already-read pages deleted while later pages are requested`,
    {
      sim,
      proxy,
      expectedIds: () => sim.state.projects.map((p) => p.id),
      injected: () =>
        faultCheck(
          `${deletions} projects of already-read pages deleted mid-scan`,
          removed.length === deletions,
          `${removed.length} of ${deletions} deleted`,
        ),
    },
  );
  return { ...r, removed };
}
