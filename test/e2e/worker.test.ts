/**
 * `item-sync worker` as Kubernetes runs it: `serve` with INGEST_ENABLED=false launches the sync,
 * a separate worker process (the compiled binary) drains the queues. The worker answers the
 * probes and serves its own /metrics — the consumer and ingest figures live in its process, not
 * in serve's — and nothing else: the API stays on serve.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
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
const PROJECTS = 40;
const TOKEN = "worker-e2e-api-token";

let sim: GitlabSim;
let database: TestDatabase;
const processes: RunningProcess[] = [];
const names = brokerNames("wrk");

beforeAll(async () => {
  sim = startGitlabSim({
    projects: PROJECTS,
    monitoredFraction: 0.5,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: WEBHOOK_URL,
  });
  database = await createTestDatabase("sqlite");
});

afterAll(async () => {
  for (const p of processes) await p.kill("SIGKILL");
  await sim.close();
  await deleteBrokerNames(names);
  await database.drop();
});

test("a separate worker drains the sync's messages and reports them on its own /metrics and probes", async () => {
  const env = serviceEnv(sim, names, {
    DATABASE_URL: database.url,
    API_TOKENS: TOKEN,
  });
  const serve = await startBinary(["serve"], { ...env, INGEST_ENABLED: "false" });
  processes.push(serve);
  const worker = await startBinary(["worker"], env, { waitForHttp: true });
  processes.push(worker);
  const unmonitored = sim.state.projects.filter(
    (p) => !sim.state.hooksOf(p).some((h) => h.url === WEBHOOK_URL),
  ).length;
  expect(unmonitored).toBeGreaterThan(0);

  // the probes
  expect(await (await fetch(`${worker.url}/health/live`)).json()).toEqual({ status: "ok" });
  const ready = await fetch(`${worker.url}/health/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({
    status: "ok",
    checks: { database: "ok", broker: "ok", gitlab: "ok" },
  });
  // and nothing else: the API is serve's
  for (const [method, path] of [
    ["POST", "/sync"],
    ["GET", "/jobs"],
    ["GET", "/"],
  ] as const) {
    const res = await fetch(`${worker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  }

  const call = api(serve.url, TOKEN);
  const launched = await call("POST", "/sync");
  expect(launched.status).toBe(202);
  const done = await waitForExecution(call, launched.body.id as number, { proc: serve });
  expect(done.status).toBe("COMPLETED");

  const families = await waitFor(
    "the worker to handle every message",
    async () => {
      const f = await scrapeMetrics(worker.url);
      return (
        handledCount(f, names.AMQP_UPDATE_QUEUE) >= PROJECTS &&
        handledCount(f, names.AMQP_MONITOR_QUEUE) >= unmonitored &&
        f
      );
    },
    60_000,
  );
  expect(conventionProblems(families)).toEqual([]);
  expect(handledCount(families, names.AMQP_UPDATE_QUEUE)).toBe(PROJECTS);
  expect(handledCount(families, names.AMQP_MONITOR_QUEUE)).toBe(unmonitored);
  expect(sampleSum(families, "item_sync_consumer_dead_lettered_total")).toBe(0);
  expect(sampleValue(families, "item_sync_ingest_items_total", { result: "created" })).toBe(PROJECTS);
  expect(sampleValue(families, "item_sync_ingest_hooks_created_total")).toBe(unmonitored);
  expect(
    sampleSum(families, "item_sync_gitlab_requests_total", { method: "POST", route: "/projects/:id/hooks" }),
  ).toBe(unmonitored);
  // the worker runs no jobs: the execution figures are serve's alone
  expect(families.has("item_sync_job_executions")).toBe(false);
  // serve's database figures are cached for up to 5 s: wait for the scrape that has the run
  const serveFamilies = await waitFor("serve's /metrics to count the COMPLETED run", async () => {
    const f = await scrapeMetrics(serve.url);
    return sampleValue(f, "item_sync_job_executions", { status: "COMPLETED" }) === 1 && f;
  });
  expect(sampleSum(serveFamilies, "item_sync_consumer_messages_total")).toBe(0);

  expect(await worker.kill("SIGTERM")).toBe(0);
}, 120_000);
