/**
 * The chart's operability objects against the real thing: the PrometheusRule with
 * `promtool check rules` and `promtool test rules` (test/chart/alerts.promtool.yaml, synthetic
 * series); every metric the alerts and the Grafana dashboard query exists in a real /metrics
 * scrape of the compiled binary after a COMPLETED sync; and the NetworkPolicy's shape.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { find, type K8sObject, renderChart } from "../container/pod.ts";
import {
  API_TOKEN,
  amqpUrl,
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import type { Family } from "../metrics/prometheus-text.ts";
import { handledCount, scrapeMetrics } from "../metrics/scrape.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const ENABLED = [
  "--set",
  "metrics.prometheusRule.enabled=true,metrics.grafanaDashboard.enabled=true,networkPolicy.enabled=true,worker.enabled=true",
];

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
type RuleGroups = { name: string; rules: Rule[] }[];

let objects: K8sObject[] = [];
let work = "";

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "item-sync-alerts-"));
  objects = await renderChart(null, null, ENABLED);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function ruleGroups(): RuleGroups {
  return (find(objects, "PrometheusRule", "rel-item-sync").spec as unknown as { groups: RuleGroups }).groups;
}

function dashboardExprs(): string[] {
  const cm = find(objects, "ConfigMap", "rel-item-sync-dashboard");
  const dashboard = JSON.parse(cm.data?.["item-sync.json"] ?? "{}") as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  expect(dashboard.panels.length).toBeGreaterThan(5);
  return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

function promtool(args: string[]) {
  const proc = Bun.spawnSync(["promtool", ...args], { cwd: work });
  return { code: proc.exitCode, out: `${proc.stdout}${proc.stderr}` };
}

describe("PrometheusRule", () => {
  test("passes promtool check rules, and its unit tests on synthetic series", async () => {
    const groups = ruleGroups();
    expect(groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual([
      "ItemSyncNoCompletedSync",
      "ItemSyncExecutionFailed",
      "ItemSyncMessagesDeadLettered",
      "ItemSyncDeadLetterQueueFull",
      "ItemSyncDeadLetterQueueUnbounded",
      "ItemSyncRequestsShed",
      "ItemSyncGitlabRateLimited",
      "ItemSyncNotReady",
    ]);
    await Bun.write(join(work, "full.yaml"), JSON.stringify({ groups }));
    const checked = promtool(["check", "rules", "full.yaml"]);
    expect({ code: checked.code, out: checked.out }).toMatchObject({ code: 0 });
    // promtool compares annotations too; those are checked above, the tests are about when alerts fire
    const bare = groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _, ...r }) => r) }));
    await Bun.write(join(work, "rules.yaml"), JSON.stringify({ groups: bare }));
    await Bun.write(join(work, "tests.yaml"), Bun.file(join(import.meta.dir, "alerts.promtool.yaml")));
    const tested = promtool(["test", "rules", "tests.yaml"]);
    if (tested.code !== 0) throw new Error(tested.out);
    expect(tested.code).toBe(0);
  });
});

describe("NetworkPolicy", () => {
  test("denies by default in and out, allowing http, metrics, DNS, database, broker, GitLab, token provider", () => {
    const np = find(objects, "NetworkPolicy", "rel-item-sync").spec as unknown as {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: { ports: { port: string | number }[] }[];
      egress: { ports: { port: number; protocol: string }[] }[];
    };
    expect(np.policyTypes).toEqual(["Ingress", "Egress"]);
    // every pod of the release (serve, worker, migration Job), whatever its component
    expect(np.podSelector.matchLabels).toEqual({
      "app.kubernetes.io/name": "item-sync",
      "app.kubernetes.io/instance": "rel",
    });
    for (const kind of ["Deployment", "Job"]) {
      for (const o of objects.filter((x) => x.kind === kind)) {
        const template = o.spec?.template as unknown as { metadata: { labels: Record<string, string> } };
        expect(template.metadata.labels).toMatchObject(np.podSelector.matchLabels);
      }
    }
    expect(np.ingress.map((r) => r.ports.map((p) => p.port))).toEqual([["http"], ["metrics"]]);
    expect(np.egress.map((r) => r.ports.map((p) => `${p.port}/${p.protocol}`))).toEqual([
      ["53/UDP", "53/TCP"],
      ["5432/TCP"],
      ["5672/TCP", "5671/TCP"],
      ["443/TCP"],
      ["443/TCP"],
    ]);
  });

  test("who may connect is an explicit list: the defaults name the ingress controller and Prometheus; empty lets no one in", async () => {
    type Rule = { ports: { port: string }[]; from?: unknown[] };
    const ingressOf = (objs: typeof objects) =>
      (find(objs, "NetworkPolicy", "rel-item-sync").spec as unknown as { ingress: Rule[] }).ingress;
    const defaults = await renderChart(null, null, []);
    const rules = ingressOf(defaults);
    expect(rules.map((r) => [r.ports[0]?.port, r.from])).toEqual([
      ["http", [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }]],
      ["metrics", [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }]],
    ]);
    // no rule without its peers: a rule without `from` would let anyone in
    const closed = await renderChart(null, null, ["--set-json", "networkPolicy.metricsFrom=[]"]);
    expect(ingressOf(closed).map((r) => [r.ports[0]?.port, r.from?.length])).toEqual([["http", 1]]);
    const none = await renderChart(null, null, [
      "--set-json",
      "networkPolicy.metricsFrom=[]",
      "--set-json",
      "networkPolicy.httpFrom=[]",
    ]);
    expect(ingressOf(none)).toEqual([]);
  });

  test("a turned-off egress is left out", async () => {
    const off = await renderChart(null, null, [
      ...ENABLED,
      "--set",
      "networkPolicy.egress.tokenProvider.enabled=false",
    ]);
    const np = find(off, "NetworkPolicy", "rel-item-sync").spec as unknown as { egress: unknown[] };
    expect(np.egress).toHaveLength(4);
  });
});

describe("alerts and dashboard query only metrics the binary exports", () => {
  let sim: GitlabSim;
  let db: TestDatabase;
  let serve: RunningProcess | undefined;
  let families = new Map<string, Family>();
  const names = brokerNames("obs");

  beforeAll(async () => {
    sim = startGitlabSim({ projects: 5, subgroupFraction: 0, sharedFraction: 0 });
    db = await createTestDatabase("sqlite", { migrated: false });
    await db.db.close();
    serve = await startBinary(["serve"], {
      DATABASE_URL: db.url,
      GITLAB_URL: sim.url,
      GITLAB_TOKEN: sim.token,
      GITLAB_GROUP: sim.group,
      WEBHOOK_URL: "https://item-sync.test/webhooks/gitlab",
      WEBHOOK_SECRET: "observability-webhook-secret-0123",
      AMQP_URL: amqpUrl(),
      API_TOKENS: API_TOKEN,
      ...names,
    });
    const call = api(serve.url);
    const launched = await call("POST", "/sync");
    expect(launched.status).toBe(202);
    expect((await waitForExecution(call, launched.body.id as number, { proc: serve })).status).toBe(
      "COMPLETED",
    );
    families = await waitFor("the ingest workers to handle the updates", async () => {
      const f = await scrapeMetrics(serve?.url ?? "");
      return handledCount(f, names.AMQP_UPDATE_QUEUE) === 5 && f;
    });
  });
  afterAll(async () => {
    await serve?.kill("SIGKILL");
    await sim.close();
    await deleteBrokerNames(names);
    await db.drop();
  });

  /** Metric names in a PromQL expression (item-sync's own: everything else would be a typo). */
  function metricNames(expr: string): string[] {
    const names = [...expr.matchAll(/\b(item_sync_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
    expect({ expr, names: names.length > 0 }).toEqual({ expr, names: true });
    return names;
  }

  /** The family a sample name belongs to: histograms export name_bucket, name_sum, name_count. */
  function family(name: string): Family | undefined {
    const direct = families.get(name);
    if (direct) return direct;
    const base = name.replace(/_(bucket|sum|count)$/, "");
    const histogram = families.get(base);
    return histogram?.type === "histogram" ? histogram : undefined;
  }

  test("the completed sync shows in the new gauges", () => {
    const last = families.get("item_sync_job_last_end_timestamp_seconds")?.samples ?? [];
    const completed = last.find((s) => s.labels.status === "COMPLETED")?.value ?? 0;
    expect(completed).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(last.find((s) => s.labels.status === "FAILED")?.value).toBe(0);
    const ready = families.get("item_sync_ready")?.samples.map((s) => [s.labels.check, s.value]);
    expect(ready).toEqual([
      ["database", 1],
      ["broker", 1],
      ["gitlab", 1],
    ]);
  });

  test("every metric of the alert rules is in the scrape", () => {
    const missing = ruleGroups()
      .flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr)))
      .filter((n) => !family(n));
    expect(missing).toEqual([]);
  });

  test("every metric of the Grafana dashboard is in the scrape", () => {
    const missing = dashboardExprs()
      .flatMap(metricNames)
      .filter((n) => !family(n));
    expect(missing).toEqual([]);
  });
});
