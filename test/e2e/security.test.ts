/**
 * Secure by default, against the compiled binary, a real RabbitMQ (behind a TCP proxy the test
 * can cut), real Postgres and the GitLab simulator: no foreign items, the webhook secret and
 * body limits, authentication before anything, roles with audit lines and launchedBy, redaction
 * of stored messages, and the security headers. Start-up refusals run the binary without any
 * service: they exit before connecting to anything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { STUBBED_MODULES } from "../../scripts/build-stubs.ts";
import { redact, registerSecret } from "../../src/lib/log.ts";
import {
  amqpUrl,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  requireBinary,
  serviceEnv,
  startBinary,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { sampleValue } from "../metrics/prometheus-text.ts";
import { scrapeMetrics } from "../metrics/scrape.ts";
import { startTcpProxy, type TcpProxy } from "../reliability/lib/tcp-proxy.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const WEBHOOK_URL = TEST_WEBHOOK_URL;
const SECRET = "security-e2e-webhook-secret-4f9a";
const TOKENS = {
  read: "reader-token-0123456789",
  operate: "operator-token-0123456789",
  admin: "admin-token-0123456789ab",
};
const SHA = "0123456789abcdef0123456789abcdef01234567";

let sim: GitlabSim;
let database: TestDatabase;
let proxy: TcpProxy;
let serve: RunningProcess;
const names = brokerNames("sec");

function env(): Record<string, string> {
  const amqp = new URL(amqpUrl());
  amqp.host = `127.0.0.1:${proxy.port}`;
  return serviceEnv(sim, names, {
    DATABASE_URL: database.url,
    WEBHOOK_SECRET: SECRET,
    AMQP_URL: amqp.toString(),
    // bare = admin; the order gives the subjects token#1, token#2, token#3
    API_TOKENS: `${TOKENS.read}:read,${TOKENS.operate}:operate,${TOKENS.admin}`,
  });
}

beforeAll(async () => {
  sim = startGitlabSim({
    projects: 5,
    monitoredFraction: 1,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: WEBHOOK_URL,
  });
  const amqp = new URL(amqpUrl());
  proxy = startTcpProxy(amqp.hostname, Number(amqp.port || 5672));
  database = await createTestDatabase("pg");
  serve = await startBinary(["serve"], env());
});

afterAll(async () => {
  await serve?.kill("SIGKILL");
  proxy?.close();
  await sim?.close();
  await deleteBrokerNames(names);
  await database?.drop();
});

const call = (method: string, path: string, init: { token?: string; body?: string } = {}) =>
  fetch(`${serve.url}${path}`, {
    method,
    headers: init.token ? { authorization: `Bearer ${init.token}` } : {},
    body: init.body,
  });

const hook = (body: unknown, token: string | null = SECRET) =>
  fetch(`${serve.url}/webhooks/gitlab`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-gitlab-event": "Push Hook",
      ...(token === null ? {} : { "x-gitlab-token": token }),
    },
    body: JSON.stringify(body),
  });

/** Writes raw bytes to the server and resolves with the status line of its answer. */
async function rawRequest(head: string, body: (write: (chunk: string) => void) => void): Promise<string> {
  const { port, hostname } = new URL(serve.url);
  let received = "";
  return new Promise<string>((resolve, reject) => {
    Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open(socket) {
          socket.write(head);
          body((chunk) => socket.write(chunk));
        },
        data(socket, data) {
          received += data.toString();
          const line = received.split("\r\n")[0];
          if (line && received.includes("\r\n")) {
            resolve(line);
            socket.end();
          }
        },
        error(_socket, err) {
          reject(err);
        },
      },
    }).catch(reject);
  });
}

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("a running serve", () => {
  test("no foreign items: a push claiming an in-group path for an outside project changes nothing", async () => {
    const outsider = sim.state.addProject({ namespaceId: sim.state.outside.id });
    const res = await hook({
      object_kind: "push",
      ref: "refs/heads/main",
      checkout_sha: SHA,
      project: { id: outsider.id, path_with_namespace: `${sim.group}/forged`, default_branch: "main" },
    });
    expect(res.status).toBe(202); // the payload looks fine: GitLab decides when it is handled
    const outcome = (f: Awaited<ReturnType<typeof scrapeMetrics>>, result: string) =>
      sampleValue(f, "item_sync_ingest_items_total", { result }) ?? 0;
    const families = await waitFor("the update-item to be handled", async () => {
      const f = await scrapeMetrics(serve.url);
      return outcome(f, "foreign_refused") + outcome(f, "created") + outcome(f, "updated") >= 1 && f;
    });
    expect(sampleValue(families, "item_sync_ingest_items_total", { result: "foreign_refused" })).toBe(1);
    expect(sampleValue(families, "item_sync_ingest_items_total", { result: "created" })).toBe(0);
    const [row] = await database.db.all<{ n: number }>(
      "select (select count(*) from item_git where project_id = $1) + (select count(*) from sync_project where project_id = $1) as n",
      [outsider.id],
    );
    expect(Number(row?.n)).toBe(0);
    const warnings = serve
      .logs()
      .split("\n")
      .filter((l) => l.includes("update-item refused"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: "warn", projectId: outsider.id });
  }, 30_000);

  test("authentication first: no token gets 401 whatever the query or body, never a 422 or 400", async () => {
    for (const [method, path, body] of [
      ["GET", "/jobs?limit=abc", undefined],
      ["GET", "/jobs/not-a-number", undefined],
      ["GET", "/items?cursor=%%%", undefined],
      ["POST", "/sync?fresh=maybe", "{not json"],
      ["POST", "/jobs/1/reset?force=sometimes", undefined],
    ] as const) {
      const res = await call(method, path, { body });
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
      expect(res.headers.get("www-authenticate")).toStartWith("Bearer");
      expect(await res.text()).not.toContain("pattern");
    }
    // with a token the same request is validated
    expect((await call("GET", "/jobs?limit=abc", { token: TOKENS.read })).status).toBe(422);
  });

  test("roles: 403 FORBIDDEN names the role needed; launches record who and write one audit line each", async () => {
    expect((await call("GET", "/jobs", { token: TOKENS.read })).status).toBe(200);
    const denied = await call("POST", "/sync", { token: TOKENS.read });
    expect(denied.status).toBe(403);
    const body = (await denied.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("FORBIDDEN");
    expect(body.error.message).toContain("operate");
    const mass = await call("POST", "/sync?allowMassDelete=true", { token: TOKENS.operate });
    expect(mass.status).toBe(403);
    expect(await mass.text()).toContain("admin");

    const launched = await call("POST", "/sync", { token: TOKENS.operate });
    expect(launched.status).toBe(202);
    const execution = (await launched.json()) as { id: number; launchedBy: string };
    expect(execution.launchedBy).toBe("token#2");
    const admin = async (method: string, path: string) => {
      const r = await call(method, path, { token: TOKENS.admin });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> & { counts: never } };
    };
    await waitForExecution(admin, execution.id, { proc: serve });
    // an admin may force a reset (here of a finished run: 409, but not 403)
    const forced = await call("POST", `/jobs/${execution.id}/reset?force=true`, { token: TOKENS.admin });
    expect(forced.status).toBe(409);
    expect(
      (await call("POST", `/jobs/${execution.id}/reset?force=true`, { token: TOKENS.operate })).status,
    ).toBe(403);

    const audit = serve
      .logs()
      .split("\n")
      .filter((l) => l.includes('"msg":"audit"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // mutating calls only: read, denied ×2, launch, forced reset, denied reset
    expect(audit.map((a) => [a.subject, a.role, a.outcome, a.status])).toEqual([
      ["token#1", "read", "forbidden", 403],
      ["token#2", "operate", "forbidden", 403],
      ["token#2", "operate", "success", 202],
      ["token#3", "admin", "failure", 409],
      ["token#2", "operate", "forbidden", 403],
    ]);
    expect(audit[2]).toMatchObject({ action: "POST /sync", target: "/sync" });

    // the CLI shows who launched it too
    const show = await startBinary(["jobs", "show", String(execution.id)], { DATABASE_URL: database.url });
    expect(await show.exited).toBe(0);
    expect(JSON.parse(show.logs())).toMatchObject({ id: execution.id, launchedBy: "token#2" });
  }, 30_000);

  test("one decision per request: a repeated flag or a trailing slash never lifts an admin-only guard for operate", async () => {
    const [row] = await database.db.all<{ id: number }>(
      "select max(job_execution_id) as id from batch_job_execution",
    );
    const id = Number(row?.id);
    const before = serve.logs().length;
    const attempts = [
      [`/jobs/${id}/reset?force=false&force=true`, 400],
      [`/jobs/${id}/reset/?force=true`, 404],
      [`/jobs//${id}/reset?force=true`, 404],
      [`/jobs/${id}/reset?force=true&%66orce=false`, 400],
      [`/jobs/${id}/reset?Force=true`, 422],
      ["/sync?allowMassDelete=false&allowMassDelete=true", 400],
      ["/sync/?allowMassDelete=true", 404],
    ] as const;
    for (const [path, status] of attempts) {
      const res = await call("POST", path, { token: TOKENS.operate });
      expect({ path, status: res.status }).toEqual({ path, status });
    }
    // the execution was not touched, and every attempt is audited as what it was
    const after = (await (await call("GET", `/jobs/${id}`, { token: TOKENS.read })).json()) as {
      status: string;
    };
    expect(after.status).not.toBe("ABANDONED");
    const audit = serve
      .logs()
      .slice(before)
      .split("\n")
      .filter((l) => l.includes('"msg":"audit"'))
      .map((l) => JSON.parse(l) as { role: string; outcome: string });
    expect(audit).toHaveLength(attempts.length);
    expect(audit.every((a) => a.role === "operate" && a.outcome === "failure")).toBe(true);
  });

  test("stored messages pass through redaction in the API and in `jobs show`", async () => {
    const [row] = await database.db.all<{ id: number }>(
      "select max(job_execution_id) as id from batch_job_execution",
    );
    const id = Number(row?.id);
    await database.db.run("update batch_job_execution set exit_message = $1 where job_execution_id = $2", [
      `upstream said: token ${SECRET} refused`,
      id,
    ]);
    const api = await call("GET", `/jobs/${id}`, { token: TOKENS.read });
    const text = await api.text();
    expect(text).not.toContain(SECRET);
    expect(text).toContain("[redacted]");
    const show = await startBinary(["jobs", "show", String(id)], {
      DATABASE_URL: database.url,
      WEBHOOK_SECRET: SECRET,
    });
    expect(await show.exited).toBe(0);
    expect(show.logs()).not.toContain(SECRET);
    expect(show.logs()).toContain("[redacted]");
  });

  test("API answers carry Cache-Control: no-store and X-Content-Type-Options: nosniff", async () => {
    for (const res of [
      await call("GET", "/jobs", { token: TOKENS.read }),
      await call("GET", "/jobs"),
      await call("GET", "/jobs/999999", { token: TOKENS.read }),
      await call("POST", "/sync", { token: TOKENS.read }),
      await call("GET", "/health/ready"),
    ]) {
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  test("webhook: the token is checked before the body is read; big bodies get 413 unbuffered", async () => {
    expect((await hook({ object_kind: "push" }, null)).status).toBe(401);
    expect(await errorCode(await hook({ object_kind: "push" }, "x".repeat(SECRET.length)))).toBe(
      "UNAUTHORIZED",
    );
    // a body announced but never sent: only an answer that does not wait for it can arrive
    const unauthenticated = await rawRequest(
      "POST /webhooks/gitlab HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
      (write) => write('{"object_kind":'),
    );
    expect(unauthenticated).toContain(" 401 ");
    // announced too big: refused from the header
    const announced = await rawRequest(
      `POST /webhooks/gitlab HTTP/1.1\r\nHost: localhost\r\nX-Gitlab-Token: ${SECRET}\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`,
      () => {},
    );
    expect(announced).toContain(" 413 ");
    // chunked, no length: cut off once past 1 MiB, while the client is still sending
    const chunk = "x".repeat(64 * 1024);
    const chunked = await rawRequest(
      `POST /webhooks/gitlab HTTP/1.1\r\nHost: localhost\r\nX-Gitlab-Token: ${SECRET}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      (write) => {
        for (let i = 0; i < 20; i++) write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      },
    );
    expect(chunked).toContain(" 413 ");
  });

  test("webhook: during a broker outage a push gets 503 within 10 s", async () => {
    proxy.refuse(60_000);
    proxy.drop();
    const started = Date.now();
    const res = await hook(
      {
        object_kind: "push",
        ref: "refs/heads/main",
        checkout_sha: SHA,
        project: {
          id: sim.state.projects[0]?.id,
          path_with_namespace: sim.state.fullPathOf(sim.state.projects[0] as never),
          default_branch: "main",
        },
      },
      SECRET,
    );
    expect(res.status).toBe(503);
    expect(await errorCode(res)).toBe("BROKER_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);
});

test("readiness names GitLab's refusal and since when, never the password in GITLAB_URL", async () => {
  const gitlab = startGitlabSim({ projects: 2, subgroupFraction: 0, sharedFraction: 0 });
  const t = await createTestDatabase("sqlite");
  const names = brokerNames("ready");
  const password = "hunter2-in-the-gitlab-url";
  const base = new URL(gitlab.url);
  let p: RunningProcess | undefined;
  try {
    p = await startBinary(["serve"], {
      DATABASE_URL: t.url,
      GITLAB_URL: `http://bob:${password}@${base.host}`,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_GROUP: gitlab.group,
      WEBHOOK_URL,
      WEBHOOK_SECRET: SECRET,
      AMQP_URL: amqpUrl(),
      API_TOKENS: TOKENS.admin,
      ...names,
    });
    const project = gitlab.state.projects[0];
    gitlab.set({ token: "rotated-elsewhere" }); // GitLab now refuses our token
    const push = await fetch(`${p.url}/webhooks/gitlab`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-gitlab-event": "Push Hook",
        "x-gitlab-token": SECRET,
      },
      body: JSON.stringify({
        object_kind: "push",
        ref: "refs/heads/main",
        checkout_sha: SHA,
        project: {
          id: project?.id,
          path_with_namespace: gitlab.state.fullPathOf(project as never),
          default_branch: "main",
        },
      }),
    });
    expect(push.status).toBe(202);
    const ready = await waitFor("readiness to name GitLab's refusal", async () => {
      const body = (await (await fetch(`${p?.url}/health/ready`)).json()) as {
        checks?: Record<string, string>;
      };
      return body.checks?.gitlab?.startsWith("unavailable since") && body;
    });
    const text = JSON.stringify(ready);
    expect(text).toContain("401");
    expect(text).not.toContain(password);
    expect(text).not.toContain("bob:");
    // the log says it too, redacted the same way
    expect(p.logs()).not.toContain(password);
  } finally {
    await p?.kill("SIGKILL");
    await gitlab.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}, 60_000);

test("GitLab redirects are never followed: the run fails naming the target's origin, never the token", async () => {
  let followed = 0;
  const target = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => {
      followed++;
      return Response.json({});
    },
  });
  const redirecting = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) =>
      Response.redirect(`http://127.0.0.1:${target.port}/collect${new URL(req.url).pathname}?t=secret`, 302),
  });
  const t = await createTestDatabase("sqlite");
  const names = brokerNames("redir");
  try {
    const token = "glpat-redirect-test-token-0123";
    const sync = await startBinary(["sync", "--wait"], {
      DATABASE_URL: t.url,
      GITLAB_URL: `http://127.0.0.1:${redirecting.port}`,
      GITLAB_TOKEN: token,
      GITLAB_GROUP: "imrt/items",
      WEBHOOK_URL,
      AMQP_URL: amqpUrl(),
      ...names,
    });
    expect(await sync.exited).toBe(1);
    expect(followed).toBe(0);
    const out = sync.logs();
    expect(out).toContain(`a redirect to http://127.0.0.1:${target.port}: not followed`);
    expect(out).not.toContain("/collect");
    expect(out).toContain('"launchedBy":"cli"');
    expect(out).not.toContain(token);
  } finally {
    redirecting.stop(true);
    target.stop(true);
    await deleteBrokerNames(names);
    await t.drop();
  }
}, 30_000);

describe("start-up refusals (exit 2, naming the variables)", () => {
  const base = () => ({
    GITLAB_URL: "https://gitlab.example.org",
    GITLAB_TOKEN: "glpat-0123456789abcdef",
    GITLAB_GROUP: "imrt/items",
    WEBHOOK_URL,
    API_TOKENS: TOKENS.admin,
    DATABASE_URL: "sqlite:/nonexistent/never-opened.db",
  });
  const run = async (extra: Record<string, string>) => {
    const p = await startBinary(["serve"], { ...base(), ...extra }, { waitForHttp: false });
    return { code: await p.exited, out: p.logs() };
  };

  test("serve without WEBHOOK_SECRET, or with a short one, refuses to start; WEBHOOK_ENABLED=false needs none", async () => {
    const missing = await run({ WEBHOOK_SECRET: "" });
    expect(missing.code).toBe(2);
    expect(missing.out).toContain("WEBHOOK_SECRET: required");
    expect(missing.out).toContain("WEBHOOK_ENABLED=false");
    const short = await run({ WEBHOOK_SECRET: "only-23-characters-long" });
    expect(short.code).toBe(2);
    expect(short.out).toContain("WEBHOOK_SECRET: must be at least 24 characters");
    expect(short.out).not.toContain("only-23-characters-long");
    // a worker creates the hooks that carry the secret: it needs it too
    const worker = await startBinary(["worker"], { ...base(), WEBHOOK_SECRET: "" }, { waitForHttp: false });
    expect(await worker.exited).toBe(2);
    expect(worker.logs()).toContain("WEBHOOK_SECRET: required");

    const t = await createTestDatabase("sqlite");
    const names = brokerNames("nohook");
    const without = await startBinary(["serve"], {
      ...base(),
      DATABASE_URL: t.url,
      // serve asks GitLab for the group at start
      GITLAB_URL: sim.url,
      GITLAB_TOKEN: sim.token,
      GITLAB_GROUP: sim.group,
      AMQP_URL: amqpUrl(),
      INGEST_ENABLED: "false",
      WEBHOOK_ENABLED: "false",
      WEBHOOK_SECRET: "",
      ...names,
    });
    try {
      const res = await fetch(`${without.url}/webhooks/gitlab`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(res.status).toBe(404);
    } finally {
      await without.kill("SIGKILL");
      await deleteBrokerNames(names);
      await t.drop();
    }
  });

  test("AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE; URLs must be https unless loopback or allowed", async () => {
    const r = await run({
      AUTH_JWKS_URL: "https://id.example.org/jwks",
      GITLAB_URL: "http://gitlab.example.org",
      AUTH_INTROSPECTION_URL: "http://id.example.org/introspect",
      AUTH_CLIENT_ID: "item-sync",
      AUTH_CLIENT_SECRET: "client-secret-value",
      AMQP_URL: "amqp://user:pw@127.0.0.1:5672",
      GITLAB_TOKEN: "glpat-1",
    });
    expect(r.code).toBe(2);
    // every secret has a floor, so redaction (of any length) never mangles ordinary text
    expect(r.out).toContain("AMQP_URL: a password in it must be at least 4 characters");
    expect(r.out).toContain("GITLAB_TOKEN: must be at least 8 characters");
    expect(r.out).toContain("AUTH_ISSUER, AUTH_AUDIENCE: required with AUTH_JWKS_URL");
    expect(r.out).toContain("GITLAB_URL: must be an https URL");
    expect(r.out).toContain("AUTH_INTROSPECTION_URL: must be an https URL");
    const allowed = await run({
      GITLAB_URL: "http://gitlab.example.org",
      ALLOW_INSECURE_URLS: "true",
      API_TOKENS: "short:read",
    });
    expect(allowed.code).toBe(2);
    expect(allowed.out).not.toContain("GITLAB_URL");
    expect(allowed.out).toContain("API_TOKENS: entry 1: the token must be at least 16 characters long");
  });

  test("WEBHOOK_URL must be https too; a host that merely starts with 127. is not loopback", async () => {
    const r = await run({
      WEBHOOK_URL: "http://item-sync.example.org/webhooks/gitlab",
      GITLAB_URL: "http://127.evil.example",
      API_TOKENS: `${TOKENS.admin},${TOKENS.admin}:read,aaaaaaaaaaaaaaaaaaaa:read,has space-0123456789abc:read`,
    });
    expect(r.code).toBe(2);
    expect(r.out).toContain("WEBHOOK_URL: must be an https URL");
    expect(r.out).toContain("GitLab sends WEBHOOK_SECRET to it with every delivery");
    expect(r.out).toContain("GITLAB_URL: must be an https URL");
    expect(r.out).toContain("API_TOKENS: entry 2: the same token as entry 1");
    expect(r.out).toContain("API_TOKENS: entry 3: the token is guessable");
    expect(r.out).toContain("API_TOKENS: entry 4: a token may hold only letters");
    for (const token of [TOKENS.admin, "aaaaaaaaaaaaaaaaaaaa", "has space"])
      expect(r.out).not.toContain(token);
  });
});

describe("dependencies", () => {
  test("production dependencies are the reviewed ones, each pinned to an exact version", async () => {
    const pkg = (await Bun.file(join(import.meta.dir, "../../package.json")).json()) as {
      dependencies: Record<string, string>;
    };
    const deps = Object.entries(pkg.dependencies);
    // A new one fails here until it is added with why it earns its place (and its commit says so).
    const REVIEWED: Record<string, string> = {
      "@elysiajs/openapi": "the OpenAPI document, served offline",
      "@gitbeaker/rest": "GitLab's REST API (the chosen stack)",
      "@opentelemetry/api": "tracing: the API every span goes through (no-op unless the SDK is started)",
      "@opentelemetry/context-async-hooks":
        "tracing: keeps the active span across awaits (AsyncLocalStorage)",
      "@opentelemetry/core": "tracing: the W3C traceparent propagator and the export error handler",
      "@opentelemetry/exporter-trace-otlp-http": "tracing: OTLP/HTTP export, http/json",
      "@opentelemetry/exporter-trace-otlp-proto":
        "tracing: OTLP/HTTP export, http/protobuf (the standard default)",
      "@opentelemetry/resources": "tracing: service.name and OTEL_RESOURCE_ATTRIBUTES on every span",
      "@opentelemetry/sdk-trace":
        "tracing: the SDK (provider, samplers, batch processor; sdk-trace-base's successor)",
      "@opentelemetry/semantic-conventions": "tracing: the stable attribute names (HTTP, database)",
      croner: "the cron schedule (the chosen stack)",
      "drizzle-orm": "schema and migrations (the chosen stack)",
      elysia: "the HTTP server (the chosen stack)",
      jose: "JWT/JWKS verification",
      parse5: "HTML to text for IMRT keyword rows (§3.6.1), as jsoup parses",
      postgres: "the Postgres driver (the chosen stack)",
      "prom-client": "the Prometheus exposition",
      "rabbitmq-client": "the AMQP client (the chosen stack)",
      uplot: "the dashboard's charts, bundled (no CDN)",
    };
    expect(deps.map(([name]) => name).filter((name) => !(name in REVIEWED))).toEqual([]);
    for (const [name, version] of deps)
      expect({ name, version }).toEqual({ name, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
  });

  test("gitbeaker's unused rate limiter and glob matcher are not in the binary, so never loaded", async () => {
    const binary = Buffer.from(await Bun.file(requireBinary()).arrayBuffer());
    const has = (text: string) => binary.includes(text);
    expect(has("node_modules/@gitbeaker/requester-utils/")).toBe(true); // the check can see modules
    for (const name of STUBBED_MODULES)
      expect({ name, bundled: has(`node_modules/${name}/`) }).toEqual({ name, bundled: false });
    expect(has("RateLimiterRes")).toBe(false); // a class of rate-limiter-flexible
  });
});

test("a registered secret is redacted whatever its length", () => {
  registerSecret("s3c");
  expect(redact('{"msg":"token s3c refused","url":"/x?t=s3c"}')).toBe(
    '{"msg":"token [redacted] refused","url":"/x?t=[redacted]"}',
  );
});
