/**
 * /metrics through createApp: the exposition parses with a strict Prometheus text parser, names,
 * types and labels follow the conventions, and the figures of what happened (an execution, GitLab
 * requests, HTTP requests) are in it with bounded route labels. Also the pieces behind it: the
 * GitLab route template, the progress lines, log redaction.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startProgress } from "../../src/batch/progress.ts";
import { createJobRepository } from "../../src/batch/repository.ts";
import { createJobRunner, type JobRunner } from "../../src/batch/runner.ts";
import { createJobService } from "../../src/batch/service.ts";
import { zeroCounts } from "../../src/batch/types.ts";
import { readiness } from "../../src/commands/compose.ts";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { gitlabRoute } from "../../src/gitlab/requester.ts";
import { type App, createApp } from "../../src/http/app.ts";
import { createStaticTokenAuthenticator } from "../../src/http/auth/auth.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createItemViews } from "../../src/items/item-views.ts";
import { createLogger, redact, registerSecret, silentLogger } from "../../src/lib/log.ts";
import { collectProcessMetrics } from "../../src/lib/telemetry.ts";
import { createMetrics, METRICS_CONTENT_TYPE, TERMINAL_STATUSES } from "../../src/observability/metrics.ts";
import type { Broker } from "../../src/queue/broker.ts";
import { testAppDeps } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { countingJob } from "../helpers/steps.ts";
import { startGitlabSim } from "../sim/gitlab.ts";
import { conventionProblems, parsePrometheusText, sampleSum, sampleValue } from "./prometheus-text.ts";

const TOKEN = "metrics-test-token-0123456789";
const JOB = "itemSynchronizationJob";

describe("/metrics", () => {
  let t: TestDatabase;
  let app: App;
  let runner: JobRunner;

  beforeAll(async () => {
    collectProcessMetrics();
    t = await createTestDatabase("sqlite");
    const repository = createJobRepository(t.db, { leaseMs: 60_000 });
    runner = createJobRunner({
      repository,
      jobs: [countingJob({ total: 30, pageSize: 10 })],
      leaseMs: 60_000,
      logger: silentLogger,
    });
    const items = createItemViews(t.db, imrtTables(t.db.dialect));
    app = createApp(
      testAppDeps({
        jobs: createJobService({ jobName: JOB, repository, runner, leaseMs: 60_000 }),
        items,
        authenticator: createStaticTokenAuthenticator([{ token: TOKEN, role: "admin" }]),
        metrics: createMetrics({
          jobs: { repository, runner, jobName: JOB },
          itemCount: () => items.count(),
          ingest: () => ({
            hooksCreated: 2,
            hooksAdopted: 0,
            hooksFoundDisabled: 1,
            hooksFoundTemporarilyDisabled: 2,
            hooksReenabled: 2,
            hooksStillDisabled: 1,
            itemsCreated: 3,
            itemsUpdated: 0,
            itemsUnchanged: 1,
            noItemJson: 4,
            emptyRepositories: 0,
            quarantined: 5,
            projectsGone: 0,
            itemsDeleted: 0,
            deletesRefused: 0,
            foreignRefused: 0,
          }),
        }),
      }),
    );
  });
  afterAll(async () => {
    await runner.shutdown();
    await t.drop();
  });

  const call = (method: string, path: string, token: string | null = TOKEN) =>
    app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      }),
    );

  test("parses strictly, follows the naming conventions and shows what happened", async () => {
    // an execution to COMPLETED
    const launched = await call("POST", "/sync");
    expect(launched.status).toBe(202);
    const { id } = (await launched.json()) as { id: number };
    await runner.whenDone(id);
    // HTTP requests: a template route, an unknown path, a refusal
    expect((await call("GET", `/jobs/${id}`)).status).toBe(200);
    expect((await call("GET", `/jobs/${id + 1000}`)).status).toBe(404);
    expect((await call("GET", "/jobs/123", null)).status).toBe(401);
    expect((await call("GET", "/no/such/path/42")).status).toBe(404);
    // GitLab requests through the real client and requester
    const sim = startGitlabSim({
      projects: 120,
      monitoredFraction: 0.5,
      subgroupFraction: 0,
      sharedFraction: 0,
    });
    try {
      const gitlab = createGitlabClient(
        {
          url: sim.url,
          token: sim.token,
          group: sim.group,
          includeSubgroups: false,
          withShared: false,
          ignoreProjects: [],
          concurrency: 4,
          maxRps: 0,
          timeoutMs: 5_000,
          webhookUrl: "https://item-sync.test/webhooks/gitlab",
          webhookSecret: "",
        },
        { logger: silentLogger },
      );
      const ids: number[] = [];
      for await (const page of gitlab.projectSource(50).pages()) ids.push(...page.projects.map((p) => p.id));
      expect(ids.length).toBe(120);
      for (const pid of ids.slice(0, 5)) await gitlab.isMonitored(pid);
    } finally {
      await sim.close();
    }

    const res = await call("GET", "/metrics", null);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(METRICS_CONTENT_TYPE);
    const families = parsePrometheusText(await res.text());
    expect(conventionProblems(families)).toEqual([]);

    // every family we promise exists with the right type
    const expected: Record<string, string> = {
      item_sync_job_executions: "gauge",
      item_sync_current_execution_id: "gauge",
      item_sync_current_execution_progress: "gauge",
      item_sync_items: "gauge",
      item_sync_gitlab_requests_total: "counter",
      item_sync_gitlab_request_duration_seconds: "histogram",
      item_sync_gitlab_requests_in_flight: "gauge",
      item_sync_gitlab_requests_waiting: "gauge",
      item_sync_gitlab_rate_limited_total: "counter",
      item_sync_gitlab_rate_limit_wait_seconds_total: "counter",
      item_sync_gitlab_retries_total: "counter",
      item_sync_messages_published_total: "counter",
      item_sync_messages_confirmed_total: "counter",
      item_sync_messages_failed_total: "counter",
      item_sync_messages_resent_total: "counter",
      item_sync_publish_duration_seconds: "histogram",
      item_sync_consumer_messages_total: "counter",
      item_sync_consumer_dead_lettered_total: "counter",
      item_sync_consumer_dead_lettered_again_total: "counter",
      item_sync_consumer_retries_total: "counter",
      item_sync_consumer_handle_duration_seconds: "histogram",
      item_sync_consumer_messages_in_flight: "gauge",
      item_sync_http_requests_total: "counter",
      item_sync_http_request_duration_seconds: "histogram",
      item_sync_ingest_hooks_created_total: "counter",
      item_sync_ingest_hooks_disabled_total: "counter",
      item_sync_ingest_hooks_reenabled_total: "counter",
      item_sync_ingest_hooks_still_disabled_total: "counter",
      item_sync_ingest_items_total: "counter",
      item_sync_ingest_deletes_total: "counter",
      process_resident_memory_bytes: "gauge",
      process_open_fds: "gauge",
      nodejs_eventloop_lag_seconds: "gauge",
    };
    for (const [name, type] of Object.entries(expected)) {
      expect({ name, type: families.get(name)?.type as string | undefined }).toEqual({ name, type });
    }

    expect(sampleValue(families, "item_sync_job_executions", { status: "COMPLETED" })).toBe(1);
    expect(sampleValue(families, "item_sync_job_executions", { status: "FAILED" })).toBe(0);
    expect(sampleValue(families, "item_sync_current_execution_id")).toBe(0);
    expect(sampleValue(families, "item_sync_current_execution_progress", { count: "read" })).toBe(0);
    expect(sampleValue(families, "item_sync_items")).toBe(0);
    expect(sampleValue(families, "item_sync_ingest_items_total", { result: "created" })).toBe(3);
    expect(sampleValue(families, "item_sync_ingest_items_total", { result: "no_item_json" })).toBe(4);
    expect(sampleValue(families, "item_sync_ingest_items_total", { result: "quarantined" })).toBe(5);
    expect(sampleValue(families, "item_sync_ingest_hooks_disabled_total", { alert_status: "disabled" })).toBe(
      1,
    );
    expect(
      sampleValue(families, "item_sync_ingest_hooks_disabled_total", {
        alert_status: "temporarily_disabled",
      }),
    ).toBe(2);
    expect(sampleValue(families, "item_sync_ingest_hooks_reenabled_total")).toBe(2);
    expect(sampleValue(families, "item_sync_ingest_hooks_still_disabled_total")).toBe(1);

    // GitLab: by route template and status, latency observed for each
    const listing = { method: "GET", route: "/groups/:id/projects" };
    const listed = sampleValue(families, "item_sync_gitlab_requests_total", { ...listing, status: "200" });
    expect(listed).toBeGreaterThanOrEqual(3); // 3 pages of 50 (and any seam checks)
    expect(
      sampleValue(families, "item_sync_gitlab_requests_total", {
        method: "GET",
        route: "/projects/:id/hooks",
        status: "200",
      }),
    ).toBe(5);
    expect(sampleValue(families, "item_sync_gitlab_request_duration_seconds_count", listing)).toBe(listed);

    // HTTP: route templates, unknown paths under one label
    const http = (labels: Record<string, string>) =>
      sampleSum(families, "item_sync_http_requests_total", { method: "GET", ...labels });
    expect(http({ route: "/jobs/:id", status: "200" })).toBe(1);
    expect(http({ route: "/jobs/:id", status: "404" })).toBe(1);
    // refused before routing (authentication comes first): counted without a route template
    expect(http({ route: "unmatched", status: "401" })).toBe(1);
    expect(http({ route: "unmatched", status: "404" })).toBe(1);
    expect(sampleSum(families, "item_sync_http_requests_total", { method: "POST", route: "/sync" })).toBe(1);
    const routes = new Set(
      families.get("item_sync_http_requests_total")?.samples.map((s) => s.labels.route) ?? [],
    );
    expect([...routes].some((r) => r?.includes("42") || r?.includes("no/such"))).toBe(false);
  }, 30_000);

  test("a running execution's progress is on /metrics while it runs", async () => {
    const repository = createJobRepository(t.db, { leaseMs: 60_000 });
    const held = countingJob({ total: 50, pageSize: 10, hold: true });
    const local = createJobRunner({ repository, jobs: [held], leaseMs: 60_000, logger: silentLogger });
    try {
      const scrape = createMetrics({ jobs: { repository, runner: local, jobName: JOB } });
      const launched = await local.launch(JOB, { trigger: "api", fresh: true });
      if (launched.kind !== "started") throw new Error(`not started: ${launched.kind}`);
      held.release();
      await local.whenDone(launched.execution.id);
      const after = parsePrometheusText(await scrape());
      expect(sampleValue(after, "item_sync_current_execution_id")).toBe(0);
      // and while one runs (held at its first page)
      const held2 = countingJob({ total: 50, pageSize: 10, hold: true });
      const local2 = createJobRunner({ repository, jobs: [held2], leaseMs: 60_000, logger: silentLogger });
      const second = await local2.launch(JOB, { trigger: "api", fresh: true });
      if (second.kind !== "started") throw new Error(`not started: ${second.kind}`);
      const during = parsePrometheusText(
        await createMetrics({ jobs: { repository, runner: local2, jobName: JOB } })(),
      );
      expect(sampleValue(during, "item_sync_current_execution_id")).toBe(second.execution.id);
      expect(sampleValue(during, "item_sync_current_execution_progress", { count: "read" })).toBe(0);
      await local2.shutdown();
    } finally {
      await local.shutdown();
    }
  });
});

describe("the strict parser", () => {
  test("refuses what Prometheus would refuse", () => {
    const bad = [
      "x 1", // no final newline
      "# TYPE x counter\n# TYPE x counter\nx 1\n",
      '# TYPE x gauge\nx{a="1} 2\n',
      '# TYPE x gauge\nx{a="\\q"} 2\n',
      "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx 2\n",
      "# TYPE x gauge\nx 1\nx 2\n",
      "# TYPE x gauge\nx one\n",
      "# TYPE x gauge\nx 1e\n",
      "# TYPE 1x gauge\n",
      '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 3\n',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
      "# TYPE c counter\nc -1\n",
    ];
    for (const text of bad) expect(() => parsePrometheusText(text)).toThrow();
    const ok = parsePrometheusText(
      '# HELP h d\n# TYPE h histogram\nh_bucket{le="1",a="x\\"y"} 1\nh_bucket{le="+Inf",a="x\\"y"} 2\nh_sum{a="x\\"y"} 3\nh_count{a="x\\"y"} 2\n',
    );
    expect(ok.get("h")?.samples[0]?.labels.a).toBe('x"y');
  });
});

describe("GitLab route templates", () => {
  test("never hold ids, paths or refs", () => {
    expect(gitlabRoute("/api/v4/groups/imrt%2Fitems/projects")).toBe("/groups/:id/projects");
    expect(gitlabRoute("/gitlab/api/v4/groups/1234")).toBe("/groups/:id");
    expect(gitlabRoute("/api/v4/projects/42/hooks")).toBe("/projects/:id/hooks");
    expect(gitlabRoute("/api/v4/projects/42/hooks/7")).toBe("/projects/:id/hooks/:hook_id");
    expect(gitlabRoute("/api/v4/projects/42/repository/commits")).toBe("/projects/:id/repository/commits");
    expect(gitlabRoute("/api/v4/projects/42/repository/files/item.json")).toBe(
      "/projects/:id/repository/files/:file_path",
    );
    expect(gitlabRoute("/api/v4/projects/imrt%2Fitems%2Fitem-1")).toBe("/projects/:id");
    expect(gitlabRoute("/api/v4/unknown/Weird-Segment/9")).toBe("/unknown/:id/:id");
  });
});

describe("progress lines", () => {
  test("log projects handled, read, published, rates and elapsed at each interval; an ETA at the handled rate only with a total", () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger("info", {}, (line) => lines.push(JSON.parse(line)));
    const counts = zeroCounts();
    let clock = 0;
    // The interval is driven by hand: `ticks` holds the scheduled callbacks, with their period.
    const ticks = new Set<{ tick: () => void; ms: number }>();
    const every = (tick: () => void, ms: number) => {
      const entry = { tick, ms };
      ticks.add(entry);
      return () => ticks.delete(entry);
    };
    const fire = () => {
      for (const t of ticks) t.tick();
    };
    const progress = startProgress({ counts, logger, intervalMs: 20_000, now: () => clock, every });
    try {
      expect([...ticks].map((t) => t.ms)).toEqual([20_000]);
      expect(lines).toEqual([]);
      clock = 10_000;
      counts.read = 500;
      counts.hooksChecked = 500;
      counts.updatePublished = 400;
      counts.monitorPublished = 100;
      fire();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: "info",
        msg: "execution progress",
        handled: 400,
        handledPerSecond: 40,
        read: 500,
        published: 500,
        readPerSecond: 50,
        publishedPerSecond: 50,
        elapsedSeconds: 10,
      });
      expect(lines[0]?.etaSeconds).toBeUndefined();
      progress.setTotal(2000);
      fire();
      expect(lines).toHaveLength(2);
      // 1,600 projects left at 40 handled a second, not 1,500 at the 50 read ahead
      expect(lines[1]).toMatchObject({ total: 2000, etaSeconds: 40 });
      // an incremental scan's projects left unchanged are handled too
      counts.unchanged = 200;
      fire();
      expect(lines[2]).toMatchObject({ handled: 600, handledPerSecond: 60 });
    } finally {
      progress.stop();
    }
    expect(ticks.size).toBe(0);
  });

  test("the real interval logs and stops", async () => {
    let logged = 0;
    let first: () => void = () => {};
    const firstLine = new Promise<void>((resolve) => {
      first = resolve;
    });
    const logger = createLogger("info", {}, () => {
      logged++;
      first();
    });
    const progress = startProgress({ counts: zeroCounts(), logger, intervalMs: 5 });
    await firstLine;
    progress.stop();
    const after = logged;
    // a stopped interval never fires again: let several periods pass
    await Bun.sleep(30);
    expect(logged).toBe(after);
  });
});

describe("log redaction", () => {
  test("registered secrets, in any form, and URL passwords never reach a line", () => {
    const secret = 'gl"pat\\tok/en+1';
    registerSecret(secret);
    const lines: string[] = [];
    const logger = createLogger("debug", { service: "t" }, (line) => lines.push(line)).child({
      executionId: 3,
    });
    logger.info("plain", { token: secret });
    logger.warn(`in a message ${secret}`, { url: `https://x.test/?t=${encodeURIComponent(secret)}` });
    const cause = new Error("connect postgres://app:db-pass-1@db.test:5432/imrt failed");
    logger.error("wrapped", {
      projectId: 9,
      attempt: 2,
      err: new Error("GET https://user:pw-xyz@gitlab.test/api failed", { cause }),
    });
    const out = lines.join("");
    expect(out).not.toContain(secret);
    expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain("db-pass-1");
    expect(out).not.toContain("pw-xyz");
    const last = JSON.parse(lines[2] ?? "{}");
    expect(last).toMatchObject({
      level: "error",
      msg: "wrapped",
      executionId: 3,
      projectId: 9,
      attempt: 2,
      err: { name: "Error", cause: { name: "Error" } },
    });
    expect(typeof last.time).toBe("string");
    expect(redact("amqp://guest:guest@h:5672")).toBe("amqp://guest:[redacted]@h:5672");
  });
});

describe("/metrics without a token touches the database at most once per 5 s", () => {
  test("many scrapes, one query of each figure; the next after 5 s", async () => {
    const t = await createTestDatabase("sqlite");
    try {
      const real = createJobRepository(t.db, { leaseMs: 60_000 });
      const queries = { list: 0, lastEnd: 0, running: 0, items: 0 };
      // the real repository and item table, counted
      const repository = {
        ...real,
        list: (q: Parameters<typeof real.list>[0]) => {
          if (q?.status) queries.lastEnd++;
          else queries.list++;
          return real.list(q);
        },
        running: (name: string) => {
          queries.running++;
          return real.running(name);
        },
      };
      const runner = createJobRunner({ repository, jobs: [], leaseMs: 60_000, logger: silentLogger });
      const items = createItemViews(t.db, imrtTables(t.db.dialect));
      let clock = Date.now();
      const scrape = createMetrics({
        jobs: { repository, runner, jobName: JOB },
        itemCount: () => {
          queries.items++;
          return items.count();
        },
        now: () => clock,
      });
      await Promise.all(Array.from({ length: 20 }, () => scrape()));
      for (let i = 0; i < 20; i++) await scrape();
      // the last end of each terminal status is one query per status
      const ends = TERMINAL_STATUSES.length;
      expect(queries).toEqual({ list: 1, lastEnd: ends, running: 1, items: 1 });
      clock += 5_000;
      const text = await scrape();
      expect(queries).toEqual({ list: 2, lastEnd: 2 * ends, running: 2, items: 2 });
      expect(sampleValue(parsePrometheusText(text), "item_sync_items")).toBe(0);
      await runner.shutdown();
    } finally {
      await t.drop();
    }
  });
});

describe("/health/ready without a token", () => {
  test("says a database is unavailable and since when, never why; the reason goes to the log once", async () => {
    const t = await createTestDatabase("pg");
    const lines: string[] = [];
    const logger = createLogger("info", {}, (line) => lines.push(line));
    const broker = { state: () => ({ connected: true, since: new Date() }) } as unknown as Broker;
    const health = readiness(t.db, broker, logger);
    expect(await health.ready()).toEqual({ ok: true, checks: { database: "ok", broker: "ok" } });
    await t.drop(); // the database is gone: its connection answers with an error naming it
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await health.ready());
    const since = /^unavailable since (\S+)$/.exec(answers[0]?.checks.database ?? "")?.[1];
    expect(Number.isNaN(Date.parse(since ?? ""))).toBe(false);
    // the same outage, the same since
    for (const answer of answers)
      expect(answer).toEqual({ ok: false, checks: { database: `unavailable since ${since}`, broker: "ok" } });
    expect(lines.filter((l) => l.includes("readiness: the database does not answer"))).toHaveLength(1);
  });
});
