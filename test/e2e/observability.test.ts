/**
 * Logs and metrics of a full run, with the compiled binary: `serve` with ingest on, Postgres (its
 * URL carrying a password, which the test server's trust auth ignores), RabbitMQ and the GitLab
 * simulator slowed down so the sync lasts longer than one progress interval (then at full speed for
 * the rest of the ingest). After the sync and
 * the ingest workers are done, /metrics parses with a strict text-format parser and shows the
 * run's counts; the process's whole output is JSON lines with at least one progress line, and no
 * configured secret appears in it in any form.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PROGRESS_INTERVAL_MS } from "../../src/batch/progress.ts";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  serviceEnv,
  startBinary,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { conventionProblems, sampleSum, sampleValue } from "../metrics/prometheus-text.ts";
import { handledCount, scrapeMetrics } from "../metrics/scrape.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const WEBHOOK_URL = TEST_WEBHOOK_URL;
const PROJECTS = 300;
const CONCURRENCY = 4;
/** 300 hook checks alone take 300 × 150 ms / 4 ≈ 11 s: longer than one progress interval. */
const LATENCY_MS = 150;

const SECRETS = {
  gitlabToken: "glpat-obs-e2e-Zq81xv0",
  apiToken: "obs-e2e-api-token-7Hk2pL9w",
  webhookSecret: "obs-e2e-webhook-secret-Rt5",
  dbPassword: "obs-e2e-db-password-Pw3",
};

let sim: GitlabSim;
let database: TestDatabase;
let serve: RunningProcess | undefined;
const names = brokerNames("obs");

beforeAll(async () => {
  expect(PROJECTS * LATENCY_MS).toBeGreaterThan(PROGRESS_INTERVAL_MS * CONCURRENCY);
  sim = startGitlabSim({
    projects: PROJECTS,
    monitoredFraction: 0.6,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: WEBHOOK_URL,
    token: SECRETS.gitlabToken,
    latencyMs: LATENCY_MS,
  });
  database = await createTestDatabase("pg");
});

afterAll(async () => {
  await serve?.kill("SIGKILL");
  await sim.close();
  await deleteBrokerNames(names);
  await database.drop();
});

test("a full run's /metrics parses and shows its counts; its logs are JSON lines with progress and no secret", async () => {
  const state = sim.state;
  const unmonitored = state.projects.filter(
    (p) => !state.hooksOf(p).some((h) => h.url === WEBHOOK_URL),
  ).length;
  expect(unmonitored).toBeGreaterThan(0);
  // the items the IMRT tables end up holding: projects with a readable item.json
  const itemCount = state.projects.filter((p) => state.itemFacts(p.id).presence === "item").length;
  expect(itemCount).toBeGreaterThan(PROJECTS * 0.9);

  const dbUrl = new URL(database.url);
  dbUrl.password = SECRETS.dbPassword;
  serve = await startBinary(
    ["serve"],
    serviceEnv(sim, names, {
      DATABASE_URL: dbUrl.toString(),
      GITLAB_TOKEN: SECRETS.gitlabToken,
      GITLAB_CONCURRENCY: String(CONCURRENCY),
      WEBHOOK_SECRET: SECRETS.webhookSecret,
      API_TOKENS: SECRETS.apiToken,
    }),
  );
  const call = api(serve.url, SECRETS.apiToken);
  const launched = await call("POST", "/sync");
  expect(launched.status).toBe(202);
  const id = launched.body.id as number;
  const done = await waitForExecution(call, id, { timeoutMs: 180_000 });
  expect(done.status).toBe("COMPLETED");
  // The slow answers made the sync outlast a progress interval; the workers' remaining reads need
  // none of it.
  sim.set({ latencyMs: 0 });

  const serveUrl = serve.url;
  // the ingest workers drain both queues
  const families = await waitFor(
    "the ingest workers to handle every message",
    async () => {
      const f = await scrapeMetrics(serveUrl);
      return (
        handledCount(f, names.AMQP_UPDATE_QUEUE) >= PROJECTS &&
        handledCount(f, names.AMQP_MONITOR_QUEUE) >= unmonitored &&
        // database figures are refreshed at most every 5 s: wait for the final ones
        sampleValue(f, "item_sync_items") === itemCount &&
        sampleValue(f, "item_sync_current_execution_id") === 0 &&
        f
      );
    },
    180_000,
  );

  expect(conventionProblems(families)).toEqual([]);
  // the sync's publishes, all confirmed
  expect(sampleValue(families, "item_sync_messages_confirmed_total", { type: "update-item" })).toBe(PROJECTS);
  expect(sampleValue(families, "item_sync_messages_confirmed_total", { type: "monitor-item" })).toBe(
    unmonitored,
  );
  expect(sampleSum(families, "item_sync_messages_failed_total")).toBe(0);
  expect(sampleValue(families, "item_sync_publish_duration_seconds_count", { type: "update-item" })).toBe(
    PROJECTS,
  );
  // the consumers: every message handled once, none dead-lettered
  expect(handledCount(families, names.AMQP_UPDATE_QUEUE)).toBe(PROJECTS);
  expect(handledCount(families, names.AMQP_MONITOR_QUEUE)).toBe(unmonitored);
  expect(sampleSum(families, "item_sync_consumer_dead_lettered_total")).toBe(0);
  // GitLab requests on every route the run used, with latencies
  const gitlab = (method: string, route: string) =>
    sampleSum(families, "item_sync_gitlab_requests_total", { method, route, status: "200" }) +
    sampleSum(families, "item_sync_gitlab_requests_total", { method, route, status: "201" });
  expect(gitlab("GET", "/groups/:id/projects")).toBeGreaterThanOrEqual(PROJECTS / 100);
  expect(gitlab("GET", "/projects/:id/hooks")).toBeGreaterThanOrEqual(PROJECTS + unmonitored);
  expect(gitlab("POST", "/projects/:id/hooks")).toBe(unmonitored);
  expect(gitlab("GET", "/projects/:id")).toBeGreaterThanOrEqual(PROJECTS);
  expect(gitlab("GET", "/projects/:id/repository/commits")).toBeGreaterThan(0);
  expect(gitlab("GET", "/projects/:id/repository/files/:file_path")).toBeGreaterThan(0);
  const latency = sampleValue(families, "item_sync_gitlab_request_duration_seconds_sum", {
    method: "GET",
    route: "/projects/:id/hooks",
  });
  const latencyCount = sampleValue(families, "item_sync_gitlab_request_duration_seconds_count", {
    method: "GET",
    route: "/projects/:id/hooks",
  });
  // the sync's PROJECTS hook checks each waited LATENCY_MS, and the histogram counted them all
  expect(latencyCount ?? 0).toBeGreaterThanOrEqual(gitlab("GET", "/projects/:id/hooks"));
  expect(latency ?? 0).toBeGreaterThanOrEqual(((PROJECTS * LATENCY_MS) / 1000) * 0.9);
  // executions, items, HTTP
  expect(sampleValue(families, "item_sync_job_executions", { status: "COMPLETED" })).toBe(1);
  expect(sampleValue(families, "item_sync_current_execution_id")).toBe(0);
  expect(sampleValue(families, "item_sync_items")).toBe(itemCount);
  expect(sampleValue(families, "item_sync_ingest_hooks_created_total")).toBe(unmonitored);
  expect(
    sampleValue(families, "item_sync_http_requests_total", { method: "POST", route: "/sync", status: "202" }),
  ).toBe(1);
  expect(
    sampleSum(families, "item_sync_http_requests_total", {
      method: "GET",
      route: "/jobs/:id",
      status: "200",
    }),
  ).toBeGreaterThan(0);
  expect(sampleValue(families, "process_resident_memory_bytes")).toBeGreaterThan(0);

  expect(await serve.kill("SIGTERM")).toBe(0);
  const output = serve.logs();
  serve = undefined;

  // no secret, in any form it could take
  for (const [what, secret] of Object.entries(SECRETS)) {
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      expect({ what, leaked: output.includes(form) }).toEqual({ what, leaked: false });
    }
  }
  // one JSON event per line with level, time, msg
  const lines = output.split("\n").filter((l) => l.trim() !== "");
  const events = lines.map((line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    expect(typeof event.level).toBe("string");
    expect(Number.isNaN(Date.parse(String(event.time)))).toBe(false);
    expect(typeof event.msg).toBe("string");
    return event;
  });
  const progress = events.filter((e) => e.msg === "execution progress");
  expect(progress.length).toBeGreaterThanOrEqual(1);
  expect(progress[0]).toMatchObject({ level: "info", executionId: id });
  for (const key of ["read", "published", "readPerSecond", "publishedPerSecond", "elapsedSeconds"]) {
    expect(typeof progress[0]?.[key]).toBe("number");
  }
  expect(progress[0]?.elapsedSeconds as number).toBeGreaterThanOrEqual(PROGRESS_INTERVAL_MS / 1000 - 1);
  // handler lines carry the execution, the project and the attempt
  const created = events.find((e) => e.msg === "webhook created" && e.executionId === id);
  expect(created).toMatchObject({ executionId: id, attempt: 1 });
  expect(typeof created?.projectId).toBe("number");
  expect(events.find((e) => e.msg === "execution ended")).toMatchObject({
    executionId: id,
    status: "COMPLETED",
  });
}, 420_000);
