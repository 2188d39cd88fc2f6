/**
 * OpenTelemetry traces of the compiled binary, received by a local OTLP/HTTP receiver
 * (test/helpers/otlp-receiver.ts, the exporter set to http/json): `serve` with its ingest
 * workers, Postgres, RabbitMQ and the GitLab simulator.
 *
 *  - A sync execution is one trace: the execution's span, a `sync page` span per listing page,
 *    the GitLab requests and the publishes inside, the execution id on them.
 *  - A webhook push is one connected trace from GitLab's delivery to the row: the HTTP server
 *    span → publish → consume (the context carried in the AMQP headers) → handler → GitLab
 *    requests and the database write, with the project, message and execution attributes.
 *  - An incoming `traceparent` is continued; log lines carry `trace_id`/`span_id`.
 *  - Without an endpoint nothing is sent and no log line carries a trace id.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  freePort,
  type RunningProcess,
  serviceEnv,
  startBinary,
  waitFor,
  waitForExecution,
  waitForItemsAtHead,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import {
  OTLP_KIND,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
  traceOf,
} from "../helpers/otlp-receiver.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

/** Three listing pages of 100. */
const PROJECTS = 250;
const TOKEN = "tracing-e2e-api-token-0123456789";
const GITLAB_TOKEN = "glpat-tracing-e2e-0123456789";

let sim: GitlabSim;
let database: TestDatabase;
let receiver: OtlpReceiver;
let serve: RunningProcess | undefined;
const names = brokerNames("otel");
const port = freePort();
const webhookUrl = `http://127.0.0.1:${port}/webhooks/gitlab`;

beforeAll(async () => {
  sim = startGitlabSim({
    projects: PROJECTS,
    // no hook yet: the sync's monitor-items create them, pointing at this serve
    monitoredFraction: 0,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl,
    token: GITLAB_TOKEN,
  });
  database = await createTestDatabase("pg");
  receiver = startOtlpReceiver();
});

afterAll(async () => {
  await serve?.kill("SIGKILL");
  await sim.close();
  await receiver.stop();
  await deleteBrokerNames(names);
  await database.drop();
});

const env = () =>
  serviceEnv(sim, names, {
    PORT: String(port),
    DATABASE_URL: database.url,
    GITLAB_TOKEN: GITLAB_TOKEN,
    GITLAB_CONCURRENCY: "8",
    WEBHOOK_URL: webhookUrl,
    API_TOKENS: TOKEN,
  });

const str = (v: unknown) => (v === undefined ? undefined : String(v));
const find = (spans: ReceivedSpan[], what: string, pred: (s: ReceivedSpan) => boolean) => {
  const s = spans.find(pred);
  if (!s)
    throw new Error(`no ${what} among ${spans.length} spans: ${[...new Set(spans.map((x) => x.name))]}`);
  return s;
};

test("a sync execution is one trace with a span per page; a webhook push is one trace from the delivery to the IMRT row", async () => {
  serve = await startBinary(["serve"], {
    ...env(),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    OTEL_BSP_MAX_QUEUE_SIZE: "100000",
    OTEL_SERVICE_NAME: "item-sync-e2e",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=e2e",
  });
  const call = api(serve.url, TOKEN);

  // ---- the sync execution
  const launched = await call("POST", "/sync");
  expect(launched.status).toBe(202);
  const id = launched.body.id as number;
  const done = await waitForExecution(call, id, { timeoutMs: 120_000 });
  expect(done.status).toBe("COMPLETED");
  const execution = await waitFor(
    "the execution's span",
    async () =>
      receiver
        .spans()
        .find(
          (s) => s.name === "job itemSynchronizationJob" && s.attributes["item_sync.execution.id"] === id,
        ),
    30_000,
  );
  expect(execution.resource["service.name"]).toBe("item-sync-e2e");
  expect(execution.resource["deployment.environment.name"]).toBe("e2e");
  expect(execution.parentSpanId).toBe(""); // a trace of its own…
  const launchSpan = find(receiver.spans(), "POST /sync span", (s) => s.name === "POST /sync");
  expect(execution.links.map((l) => l.spanId)).toContain(launchSpan.spanId); // …linked to its launch
  expect(launchSpan.attributes["http.route"]).toBe("/sync");
  expect(launchSpan.attributes["http.response.status_code"]).toBe(202);
  expect(launchSpan.kind).toBe(OTLP_KIND.server);

  // every publish of the run has been confirmed: its span has been exported by now or soon
  const sync = await waitFor(
    "the run's publish spans",
    async () => {
      const t = traceOf(receiver.spans(), execution.traceId);
      const publishes = t.spans.filter((s) => s.kind === OTLP_KIND.producer);
      return publishes.length >= PROJECTS * 2 && t; // monitor-item and update-item for each
    },
    60_000,
  );
  const pages = sync.spans.filter((s) => s.name === "sync page");
  expect(pages.map((p) => p.attributes["item_sync.page.number"]).sort()).toEqual([1, 2, 3]);
  for (const p of pages) {
    expect(p.parentSpanId).toBe(execution.spanId);
    expect(p.attributes["item_sync.execution.id"]).toBe(id);
  }
  const listing = sync.spans.filter((s) => s.attributes["url.template"] === "/groups/:id/projects");
  expect(listing.length).toBeGreaterThanOrEqual(3);
  for (const l of listing) {
    expect(l.kind).toBe(OTLP_KIND.client);
    expect(l.attributes["http.request.method"]).toBe("GET");
    expect(l.attributes["http.response.status_code"]).toBe(200);
  }
  // a hook check inside a page, and the page's publishes
  const hookCheck = find(
    sync.spans,
    "hook check",
    (s) => s.attributes["url.template"] === "/projects/:id/hooks",
  );
  expect(pages.some((p) => sync.descends(hookCheck, p))).toBe(true);
  const publish = find(
    sync.spans,
    "update-item publish",
    (s) => s.kind === OTLP_KIND.producer && s.attributes["item_sync.message.type"] === "update-item",
  );
  expect(pages.some((p) => sync.descends(publish, p))).toBe(true);
  expect(publish.attributes).toMatchObject({
    "messaging.system": "rabbitmq",
    "messaging.destination.name": names.AMQP_EXCHANGE,
    "messaging.operation.type": "send",
    "messaging.rabbitmq.destination.routing_key": "item.update",
    "item_sync.execution.id": id,
  });
  expect(str(publish.attributes["messaging.message.id"])).toBe(
    `${id}:update-item:${publish.attributes["item_sync.project.id"]}`,
  );

  // the workers create every hook (monitor-item), then the push can be delivered
  await waitFor(
    "every project's hook",
    async () =>
      sim.state.projects.every((p) => sim.state.hooksOf(p).some((h) => h.url === webhookUrl)) || undefined,
    120_000,
  );
  // a monitor-item's handling continues the sync's trace: publish → consume → handle → GitLab
  const consume = await waitFor(
    "a consume span in the sync's trace",
    async () =>
      traceOf(receiver.spans(), execution.traceId).spans.find(
        (s) => s.kind === OTLP_KIND.consumer && s.attributes["item_sync.queue"] === names.AMQP_MONITOR_QUEUE,
      ),
    30_000,
  );
  const consumeParent = traceOf(receiver.spans(), execution.traceId).parentOf(consume);
  expect(consumeParent?.kind).toBe(OTLP_KIND.producer);
  expect(consumeParent?.attributes["messaging.message.id"]).toBe(consume.attributes["messaging.message.id"]);

  // ---- a webhook push, once the sync's update-items are handled: one still queued for the
  // project would write the pushed commit first, and the push's own message would find it done
  await waitForItemsAtHead(call, sim);
  const project = sim.state.projects[7];
  if (!project) throw new Error("no project 7");
  const commit = sim.state.touchItem(project.id, "traced push");
  const before = receiver.spans().length;
  const [delivery] = await sim.deliverPush(project.id);
  expect((delivery?.outcome as { status?: number } | undefined)?.status).toBe(202);
  const messageId = `${commit.id}:update-item:${project.id}`;
  const write = await waitFor(
    "the push's database write span",
    async () =>
      receiver
        .spans()
        .slice(before)
        .find(
          (s) => s.name === "write item public.item" && s.attributes["item_sync.message.id"] === messageId,
        ),
    60_000,
  );
  const push = traceOf(receiver.spans(), write.traceId);
  const http = find(push.spans, "webhook server span", (s) => s.kind === OTLP_KIND.server);
  expect(http.parentSpanId).toBe(""); // GitLab's delivery starts the trace
  expect(http.name).toBe("POST /webhooks/gitlab");
  expect(http.attributes).toMatchObject({
    "http.request.method": "POST",
    "http.route": "/webhooks/gitlab",
    "http.response.status_code": 202,
  });
  const pushPublish = find(push.spans, "the push's publish", (s) => s.kind === OTLP_KIND.producer);
  expect(pushPublish.parentSpanId).toBe(http.spanId);
  expect(pushPublish.attributes["messaging.message.id"]).toBe(messageId);
  expect(pushPublish.attributes["item_sync.project.id"]).toBe(project.id);
  const pushConsume = find(push.spans, "the push's consume", (s) => s.kind === OTLP_KIND.consumer);
  expect(pushConsume.parentSpanId).toBe(pushPublish.spanId);
  expect(pushConsume.attributes).toMatchObject({
    "messaging.system": "rabbitmq",
    "messaging.operation.type": "process",
    "messaging.message.id": messageId,
    "item_sync.project.id": project.id,
    "item_sync.outcome": "ack",
  });
  const handle = find(push.spans, "the handler run", (s) => s.name === "handle update-item");
  expect(handle.parentSpanId).toBe(pushConsume.spanId);
  expect(handle.attributes["item_sync.attempt"]).toBe(1);
  // every GitLab request of the trace is the handler's, or the receiver's hook check (a push
  // asks for its project's hook to be verified), never outside both
  const gitlab = push.spans.filter((s) => s.kind === OTLP_KIND.client && s.attributes["url.template"]);
  const handlers = gitlab.filter((g) => push.descends(g, handle));
  expect(handlers.map((g) => g.attributes["url.template"])).toContain("/projects/:id");
  for (const g of gitlab) expect(push.descends(g, handle) || push.descends(g, http)).toBe(true);
  expect(push.descends(write, handle)).toBe(true);
  expect(write.attributes).toMatchObject({
    "db.system.name": "postgresql",
    "db.system": "postgresql",
    "db.operation.name": "write item",
    "item_sync.project.id": project.id,
    "item_sync.message.id": messageId,
    "item_sync.write.outcome": "updated",
  });
  expect(write.kind).toBe(OTLP_KIND.client);

  // ---- logs join traces
  const lines = serve
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const started = lines.find((l) => l.msg === "execution started" && l.executionId === id);
  expect(started?.trace_id).toBe(execution.traceId);
  expect(typeof started?.span_id).toBe("string");

  // ---- an incoming traceparent is continued
  const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentSpan = "00f067aa0ba902b7";
  const res = await fetch(`${serve.url}/jobs/${id}`, {
    headers: { authorization: `Bearer ${TOKEN}`, traceparent: `00-${parentTrace}-${parentSpan}-01` },
  });
  expect(res.status).toBe(200);
  const continued = await waitFor(
    "the continued request's span",
    async () => receiver.spans().find((s) => s.traceId === parentTrace),
    15_000,
  );
  expect(continued.parentSpanId).toBe(parentSpan);
  expect(continued.name).toBe("GET /jobs/:id");
  // probes and scrapes make no spans
  expect(receiver.spans().some((s) => String(s.attributes["url.path"]).startsWith("/health"))).toBe(false);
}, 300_000);

test("without an endpoint nothing is sent and log lines carry no trace id, whatever else OTEL_* says", async () => {
  await serve?.kill("SIGTERM");
  serve = undefined;
  receiver.clear();
  const run = await startBinary(
    ["sync", "--fresh"],
    {
      ...env(),
      // everything but an endpoint (and a disabled SDK with one)
      OTEL_SERVICE_NAME: "item-sync-off",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_TRACES_SAMPLER: "always_on",
    },
    { waitForHttp: false },
  );
  expect(await run.exited).toBe(0);
  const disabled = await startBinary(
    ["sync", "--fresh"],
    { ...env(), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: "true" },
    { waitForHttp: false },
  );
  expect(await disabled.exited).toBe(0);
  for (const logs of [run.logs(), disabled.logs()]) {
    expect(logs).toContain("execution started");
    expect(logs).not.toContain("trace_id");
    expect(logs).not.toContain("tracing on");
  }
  expect(receiver.requests()).toEqual([]);
}, 120_000);

test("by default spans leave as OTLP protobuf, and a one-shot sync sends its last ones before it exits", async () => {
  receiver.clear();
  const run = await startBinary(
    ["sync", "--fresh"],
    { ...env(), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` },
    { waitForHttp: false },
  );
  expect(await run.exited).toBe(0);
  // no wait here: the exit itself flushed them (the batch delay is 5 s, the run far shorter)
  const sent = receiver.requests();
  expect(sent.length).toBeGreaterThan(0);
  for (const r of sent)
    expect(r).toMatchObject({ path: "/v1/traces", contentType: "application/x-protobuf" });
  expect(run.logs()).toContain('"msg":"tracing on"');
}, 120_000);
