/**
 * `bun run soak`: the slow reliability scenarios at full size (20 crashes of a 5,000-project
 * sync, broker down 30 s and 2 min, 20 rounds of 5 × 50 launches, 20 syncs of 2,000 projects with
 * webhooks, the differential test on 3 seeds × 40 steps, …) plus the fast ones, against the
 * compiled binary and real services; rewrites
 * RELIABILITY.md with what was tried, how often, the faults injected, items lost, duplicates and a
 * verdict per scenario — every figure computed by the run from the database and the broker; what
 * the columns mean and the history of findings are in docs/testing.md (section "Reliability").
 *
 * The report starts with the commit it was produced from; a dirty work tree is refused unless
 * `--allow-dirty` is given (the report then says dirty). Uses TEST_PG_URL / TEST_AMQP_URL when
 * set, otherwise starts a private Postgres and RabbitMQ. `bun run soak -- crash fuzz` runs only
 * the scenarios whose key is given.
 *
 * Adding a scenario: one line in SCENARIOS, `{ key, group, name, run }`, where `run` returns a
 * ScenarioResult (test/reliability/lib/report.ts): what it measured and every check it made, by
 * name; a row passes only when every check holds (`verdict`, unit-tested in
 * test/reliability/verdict.test.ts), and RELIABILITY.md names each failed one.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Provenance, requireProvenance } from "../scripts/lib/provenance.ts";
import { createPrivateNode } from "../test/queue/amqp-helpers.ts";
import { createPrivatePostgres } from "../test/reliability/lib/harness.ts";
import { type ScenarioResult, verdict } from "../test/reliability/lib/report.ts";
import { brokerOutage, proxyDrops, queueDeleted } from "../test/reliability/scenarios/broker.ts";
import { clusterNodeLoss } from "../test/reliability/scenarios/cluster.ts";
import { cronReplicas, launchRounds } from "../test/reliability/scenarios/concurrency.ts";
import { consumerAbuse, crashLoop } from "../test/reliability/scenarios/consumers.ts";
import { crashScenario } from "../test/reliability/scenarios/crash.ts";
import { poolExhausted, postgresRestart, sqliteFault } from "../test/reliability/scenarios/database.ts";
import { differentialSeeds } from "../test/reliability/scenarios/differential.ts";
import { postgresFailover } from "../test/reliability/scenarios/failover.ts";
import { fencingScenario } from "../test/reliability/scenarios/fencing.ts";
import { fuzz } from "../test/reliability/scenarios/fuzz.ts";
import { deletedMidScan, mixedFaults, shortPage } from "../test/reliability/scenarios/gitlab.ts";
import { soak } from "../test/reliability/scenarios/soak.ts";
import { strangers } from "../test/reliability/scenarios/strangers.ts";

const ROOT = join(import.meta.dir, "..");

export interface SoakScenario {
  /** picks the scenario on the command line (`bun run soak -- KEY`) */
  key: string;
  /** the report's group heading, e.g. "2. Broker faults" */
  group: string;
  /** a few words naming it, for a row whose scenario ended in an error (no result to name it) */
  name: string;
  run: () => Promise<ScenarioResult>;
}

const SCENARIOS: SoakScenario[] = [
  {
    key: "crash",
    group: "1. Crash anywhere",
    name: "20 SIGKILLs mid-sync",
    run: () => crashScenario({ projects: 5000, crashes: 20 }),
  },
  {
    key: "broker",
    group: "2. Broker faults",
    name: "broker stopped 5 s",
    run: () => brokerOutage({ downSeconds: 5 }),
  },
  {
    key: "broker",
    group: "2. Broker faults",
    name: "broker stopped 30 s",
    run: () => brokerOutage({ downSeconds: 30 }),
  },
  {
    key: "broker",
    group: "2. Broker faults",
    name: "broker stopped 120 s",
    run: () => brokerOutage({ downSeconds: 120, projects: 3000 }),
  },
  {
    key: "broker",
    group: "2. Broker faults",
    name: "connection resets",
    run: () => proxyDrops({ drops: 10, projects: 5000 }),
  },
  { key: "broker", group: "2. Broker faults", name: "update queue deleted", run: () => queueDeleted() },
  {
    key: "database",
    group: "3. Database faults",
    name: "Postgres restarted",
    run: () => postgresRestart({ downSeconds: 10 }),
  },
  {
    key: "database",
    group: "3. Database faults",
    name: "connection limit below the pool",
    run: () => poolExhausted(),
  },
  {
    key: "database",
    group: "3. Database faults",
    name: "SQLite read-only",
    run: () => sqliteFault("read-only"),
  },
  { key: "database", group: "3. Database faults", name: "SQLite full", run: () => sqliteFault("full") },
  {
    key: "gitlab",
    group: "4. GitLab faults",
    name: "429 storms, 5xx, timeouts",
    run: () => mixedFaults({ projects: 5000 }),
  },
  { key: "gitlab", group: "4. GitLab faults", name: "a short page", run: () => shortPage() },
  {
    key: "gitlab",
    group: "4. GitLab faults",
    name: "projects deleted mid-scan",
    run: () => deletedMidScan({ deletions: 5, projects: 2000 }),
  },
  {
    key: "concurrency",
    group: "5. Concurrency",
    name: "simultaneous launches",
    run: () => launchRounds({ processes: 5, launches: 50, rounds: 20 }),
  },
  {
    key: "concurrency",
    group: "5. Concurrency",
    name: "cron on replicas",
    run: () => cronReplicas({ replicas: 3, seconds: 15 }),
  },
  {
    key: "consumers",
    group: "6. Consumers",
    name: "redelivery storm and poison",
    run: () => consumerAbuse({ projects: 1000, copies: 5 }),
  },
  {
    key: "consumers",
    group: "6. Consumers",
    name: "crash loop, quorum",
    run: () => crashLoop({ projects: 200, queueType: "quorum", deliveryLimit: 10 }),
  },
  {
    key: "consumers",
    group: "6. Consumers",
    name: "crash loop, classic",
    run: () => crashLoop({ projects: 200, queueType: "classic", deliveryLimit: 10 }),
  },
  {
    key: "fuzz",
    group: "7. Hostile HTTP input",
    name: "hostile requests",
    run: () => fuzz({ requests: 20_000 }),
  },
  {
    key: "fuzz",
    group: "7. Hostile HTTP input",
    name: "strangers at the door",
    run: () => strangers({ strangers: 2000, durationMs: 60_000 }),
  },
  {
    key: "soak",
    group: "8. Soak",
    name: "20 syncs with webhooks",
    run: () => soak({ syncs: 20, projects: 2000 }),
  },
  {
    key: "cluster",
    group: "9. Cluster",
    name: "RabbitMQ node lost",
    run: () => clusterNodeLoss({ projects: 5000 }),
  },
  {
    key: "cluster",
    group: "9. Cluster",
    name: "Postgres failover",
    run: () => postgresFailover({ projects: 5000, outageSeconds: 15 }),
  },
  {
    key: "cluster",
    group: "9. Cluster",
    name: "frozen replica fenced",
    run: () => fencingScenario({ projects: 10_000 }),
  },
  {
    key: "differential",
    group: "10. Incremental equals full",
    name: "differential test, 3 seeds × 40 steps",
    run: () => differentialSeeds({ seeds: [1, 2, 3], steps: 40 }),
  },
];

async function withServices<T>(fn: () => Promise<T>): Promise<T> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    if (!process.env.TEST_PG_URL) {
      const pg = await createPrivatePostgres();
      await pg.start();
      cleanups.push(() => pg.destroy());
      process.env.TEST_PG_URL = pg.url;
    }
    if (!process.env.TEST_AMQP_URL) {
      const node = await createPrivateNode();
      await node.start();
      cleanups.push(() => node.destroy());
      process.env.TEST_AMQP_URL = node.url;
    }
    return await fn();
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

const cell = (s: string | number) => String(s).replaceAll("|", "\\|").replaceAll("\n", " ");

type Outcome = { group: string; name: string; result?: ScenarioResult; error?: string; seconds: number };

function render(results: Outcome[], total: number, provenance: Provenance) {
  const failed = results.filter((r) => !verdict(r).ok).length;
  const lost = results.reduce((n, r) => n + (r.result?.lost ?? 0), 0);
  const lines: string[] = [
    "# Reliability",
    "",
    provenance.line,
    "",
    `Run ${new Date().toISOString()}, ${Math.round(total / 60)} min, ${navigator.hardwareConcurrency} cores, bun ${Bun.version}, \`bun run soak${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(" ")}` : ""}\`. Columns and method: docs/testing.md, section "Reliability".`,
    "",
    `**${results.length - failed}/${results.length} scenarios pass; ${lost} lost in all.**`,
    "",
    "| scenario | tried | runs | faults injected | lost | duplicates | outcome | verdict |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    const v = verdict(r);
    if (r.result) {
      const x = r.result;
      lines.push(
        `| ${cell(`${r.group}: ${x.scenario}`)} | ${cell(x.tried)} | ${x.runs} | ${cell(x.faults)} | **${x.lost}** | ${x.duplicates} | ${cell(x.outcome)} (${r.seconds} s) | ${cell(v.text)} |`,
      );
    } else lines.push(`| ${cell(`${r.group}: ${r.name}`)} | | | | | | (${r.seconds} s) | ${cell(v.text)} |`);
  }
  // every check of every scenario, by name, with the figure it was judged by
  lines.push("", "## Checks", "");
  for (const r of results) {
    if (!r.result) continue;
    lines.push(
      `- **${cell(r.result.scenario)}**: ${r.result.checks.map((c) => `${c.ok ? "✓" : "✗ FAILED:"} ${c.name} (${c.figure})`).join("; ")}`,
    );
  }
  const notes = results.flatMap((r) => (r.result?.notes ?? []).map((n) => `- ${r.result?.scenario}: ${n}`));
  if (notes.length > 0) lines.push("", "## Notes", "", ...notes);
  lines.push("");
  return lines.join("\n");
}

async function main() {
  const { provenance, args: only } = requireProvenance(ROOT, process.argv.slice(2));
  const unknown = only.filter((k) => !SCENARIOS.some((s) => s.key === k));
  if (unknown.length > 0) {
    console.error(
      `no scenario with key ${unknown.join(", ")}; keys: ${[...new Set(SCENARIOS.map((s) => s.key))].join(", ")}`,
    );
    process.exit(2);
  }
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("bun run build failed");
  const started = Date.now();
  const results: Outcome[] = [];
  await withServices(async () => {
    for (const s of SCENARIOS) {
      if (only.length > 0 && !only.includes(s.key)) continue;
      const t0 = Date.now();
      console.log(`== ${s.group}`);
      try {
        const result = await s.run();
        results.push({ group: s.group, name: s.name, result, seconds: Math.round((Date.now() - t0) / 1000) });
        console.log(JSON.stringify(result));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // the report's cell keeps the start; the console gets the whole diagnosis
        const error = message.slice(0, 500);
        results.push({ group: s.group, name: s.name, error, seconds: Math.round((Date.now() - t0) / 1000) });
        console.log(`ERROR: ${message}`);
      }
    }
  });
  const total = (Date.now() - started) / 1000;
  writeFileSync(join(ROOT, "RELIABILITY.md"), render(results, total, provenance));
  const lost = results.reduce((n, r) => n + (r.result?.lost ?? 0), 0);
  const failed = results.filter((r) => !verdict(r).ok).length;
  console.log(
    `soak: ${results.length} scenarios, ${failed} not passing, ${lost} lost, ${Math.round(total)} s; RELIABILITY.md written`,
  );
  process.exit(failed > 0 ? 1 : 0);
}

await main();
