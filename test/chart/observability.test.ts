/**
 * The chart's operability objects against the real thing: the PrometheusRule with
 * `promtool check rules` and `promtool test rules` (test/chart/alerts.promtool.yaml, synthetic
 * series); every metric the alerts and the Grafana dashboard query exists in a real /metrics
 * scrape of the compiled binary after a COMPLETED sync, with the figures the run and rate panels
 * plot; the Grafana panels matching the service dashboard's charts and their trace link; and the
 * NetworkPolicy's shape.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { find, type K8sObject, renderChart } from "../container/pod.ts";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  serviceEnv,
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

interface Panel {
  id: number;
  type: string;
  title: string;
  targets: { refId: string; expr: string; format?: string; instant?: boolean }[];
  transformations?: { id: string; options: Record<string, unknown> }[];
  fieldConfig: { defaults: { links?: { title: string; url: string; targetBlank?: boolean }[] } };
  options: Record<string, unknown>;
}

function dashboardPanels(from: K8sObject[] = objects): Panel[] {
  const cm = find(from, "ConfigMap", "rel-item-sync-dashboard");
  return (JSON.parse(cm.data?.["item-sync.json"] ?? "{}") as { panels: Panel[] }).panels;
}

function dashboardExprs(): string[] {
  const panels = dashboardPanels();
  expect(panels.length).toBeGreaterThan(5);
  return panels.flatMap((p) => p.targets.map((t) => t.expr));
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

describe("Grafana dashboard: the service dashboard's charts", () => {
  const byTitle = (panels: Panel[], title: string) => {
    const found = panels.filter((p) => p.title === title);
    expect({ title, found: found.length }).toEqual({ title, found: 1 });
    return found[0] as Panel;
  };

  test("run duration and projects per run over the last 30 runs, GitLab requests/s against GITLAB_MAX_RPS, queue depths", () => {
    const panels = dashboardPanels();
    const durations = byTitle(panels, "Run duration (last 30 ended runs)");
    expect(durations.type).toBe("barchart");
    // one bar per run, named by its id: the instant table's execution_id column is the x axis
    expect(durations.options.xField).toBe("execution_id");
    expect(durations.targets.every((t) => t.instant === true && t.format === "table")).toBe(true);
    expect(durations.targets[0]?.expr).toMatch(
      /^max by \(execution_id, status, mode\) \(item_sync_recent_execution_end_timestamp_seconds\{.*\}\) - max by \(execution_id, status, mode\) \(item_sync_recent_execution_start_timestamp_seconds\{/,
    );
    const changes = byTitle(panels, "Projects per run (last 30 ended runs)");
    expect(changes.options).toMatchObject({ xField: "execution_id", stacking: "normal" });
    expect(changes.targets[0]?.expr).toContain('count=~"updatePublished|deletePublished|unchanged"');
    const rps = byTitle(panels, "GitLab requests / s against GITLAB_MAX_RPS");
    expect(rps.targets.map((t) => t.expr)).toEqual([
      'sum by (instance) (rate(item_sync_gitlab_requests_total{namespace="$namespace"}[1m]))',
      'max by (instance) (item_sync_gitlab_max_requests_per_second{namespace="$namespace"}) > 0',
    ]);
    const queues = byTitle(panels, "Queue depths (messages ready)");
    expect(queues.targets.map((t) => t.expr)).toEqual([
      'max by (queue) (item_sync_queue_messages_ready{namespace="$namespace",role="work"})',
      'max by (queue) (item_sync_queue_messages_ready{namespace="$namespace",role="dead"})',
    ]);
    // no trace link unless a tracing UI is configured
    expect(durations.fieldConfig.defaults.links).toEqual([]);
  });

  test("config.TRACE_URL_TEMPLATE becomes the run-duration bars' data link: the bar's run id and its window", async () => {
    const template =
      "https://jaeger.example.org/search?service=item-sync&tags=%7B%22item_sync.execution.id%22%3A%22{executionId}%22%7D&start={startUs}&end={endUs}&from={startMs}&to={endMs}";
    const rendered = await renderChart(null, null, [
      ...ENABLED,
      "--set-string",
      `config.TRACE_URL_TEMPLATE=${template}`,
    ]);
    const panels = dashboardPanels(rendered);
    // Grafana's data link variable for a field of the clicked bar's row
    const field = (name: string) => `\${__data.fields.${name}}`;
    const durations = panels.find((p) => p.title === "Run duration (last 30 ended runs)") as Panel;
    expect(durations.fieldConfig.defaults.links).toEqual([
      {
        title: `Trace of run ${field("execution_id")}`,
        url: `https://jaeger.example.org/search?service=item-sync&tags=%7B%22item_sync.execution.id%22%3A%22${field("execution_id")}%22%7D&start=${field("start_ms")}000&end=${field("end_ms")}000&from=${field("start_ms")}&to=${field("end_ms")}`,
        targetBlank: true,
      },
    ]);
    // the fields the link names are the ones the panel's queries and transformations make
    const organize = durations.transformations?.find((t) => t.id === "organize")?.options as {
      renameByName: Record<string, string>;
    };
    expect(organize.renameByName).toMatchObject({ "Value #B": "start_ms", "Value #C": "end_ms" });
    expect(durations.targets.map((t) => t.refId)).toEqual(["A", "B", "C"]);
    expect(durations.targets[1]?.expr).toContain("item_sync_recent_execution_start_timestamp_seconds");
    expect(durations.targets[2]?.expr).toContain("item_sync_recent_execution_end_timestamp_seconds");
    // only that panel links; every other panel is as the file has it
    expect(panels.filter((p) => (p.fieldConfig.defaults.links ?? []).length > 0).map((p) => p.id)).toEqual([
      durations.id,
    ]);
    // the service's own dashboard gets the same template
    const cm = find(rendered, "ConfigMap", "rel-item-sync");
    expect(cm.data?.TRACE_URL_TEMPLATE).toBe(template);
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

  test("spans may leave for the OTLP receiver (port 4318) only when the tracing egress is turned on", async () => {
    const egressOf = (docs: Awaited<ReturnType<typeof renderChart>>) =>
      (
        find(docs, "NetworkPolicy", "rel-item-sync").spec as unknown as {
          egress: { ports: { port: number }[] }[];
        }
      ).egress;
    const ports = (docs: Awaited<ReturnType<typeof renderChart>>) =>
      egressOf(docs).flatMap((r) => r.ports.map((p) => p.port));
    expect(ports(await renderChart(null, null, ENABLED))).not.toContain(4318);
    const on = await renderChart(null, null, [
      ...ENABLED,
      "--set",
      "networkPolicy.egress.tracing.enabled=true",
    ]);
    expect(ports(on)).toContain(4318);
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
    serve = await startBinary(
      ["serve"],
      serviceEnv(sim, names, {
        DATABASE_URL: db.url,
        WEBHOOK_SECRET: "observability-webhook-secret-0123",
      }),
    );
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

  test("the run and rate panels' figures: the completed sync's start, end and counts, GITLAB_MAX_RPS, the queues", async () => {
    const call = api(serve?.url ?? "");
    const [run] = (await call("GET", "/jobs?limit=1")).body.jobs as {
      id: number;
      startTime: string;
      endTime: string;
      counts: Record<string, number>;
    }[];
    const byRun = (name: string) =>
      families.get(name)?.samples.filter((s) => s.labels.execution_id === String(run?.id)) ?? [];
    const start = byRun("item_sync_recent_execution_start_timestamp_seconds");
    const end = byRun("item_sync_recent_execution_end_timestamp_seconds");
    expect(start.map((s) => s.labels)).toEqual([
      { execution_id: String(run?.id), status: "COMPLETED", mode: "full" },
    ]);
    expect(start[0]?.value).toBe(Date.parse(run?.startTime ?? "") / 1000);
    expect(end[0]?.value).toBe(Date.parse(run?.endTime ?? "") / 1000);
    const counts = Object.fromEntries(
      byRun("item_sync_recent_execution_counts").map((s) => [s.labels.count, s.value]),
    );
    expect(counts).toEqual(run?.counts ?? {});
    expect(counts.updatePublished).toBe(5);
    expect(families.get("item_sync_gitlab_max_requests_per_second")?.samples.map((s) => s.value)).toEqual([
      0,
    ]);
    // the ingest workers handled every message: each queue is empty, and so is each .dead queue
    const ready = families
      .get("item_sync_queue_messages_ready")
      ?.samples.map((s) => [s.labels.queue, s.labels.role, s.value]);
    expect(ready).toEqual(
      [names.AMQP_MONITOR_QUEUE, names.AMQP_UPDATE_QUEUE, names.AMQP_DELETE_QUEUE].flatMap((q) => [
        [q, "work", 0],
        [`${q}.dead`, "dead", 0],
      ]),
    );
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
