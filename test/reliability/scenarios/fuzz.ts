/**
 * A fuzzer against a running `serve`: random methods, paths (known routes, ids of every shape,
 * traversal, encoded garbage), headers, tokens (missing, malformed, near-misses, `?access_token=`),
 * query strings with SQL fragments, oversized and malformed bodies, webhook deliveries. Checks:
 * no 5xx, the process stays up, RSS stays bounded, and every protected route refuses a request
 * without a valid Authorization header. Roles: read and operate tokens are fuzzed too, and no
 * call beyond a token's role may succeed; a webhook delivery without the right X-Gitlab-Token
 * never gets past 401 (or 413); huge (streamed, no length) and deeply nested bodies are thrown in.
 * Every valid push the service accepted (202) reaches the broker once (an independent tap). Also
 * prints a timing comparison of near-miss and random
 * tokens (the comparison hashes both sides and uses timingSafeEqual: see src/http/auth/auth.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_TOKEN,
  amqpUrl,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  startTap,
  waitFor,
} from "../../helpers/binary.ts";
import { startGitlabSim } from "../../sim/gitlab.ts";
import { pushLedger } from "../lib/accounting.ts";
import { formatKb, procStats, serviceEnv, WEBHOOK_SECRET } from "../lib/harness.ts";
import { check, faultCheck, lostCheck, type ScenarioResult } from "../lib/report.ts";

const PROTECTED = [/^\/sync\/?$/, /^\/jobs(\/|$)/, /^\/items(\/|$)/];
/** Tokens with a role below admin (API_TOKEN, bare, is admin). */
const READ_TOKEN = "fuzz-read-only-token-0123456789";
const OPERATE_TOKEN = "fuzz-operate-token-0123456789";
const isProtected = (path: string) => PROTECTED.some((re) => re.test(path));

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const SQL = [
  "' or 1=1 --",
  "1; drop table item;--",
  "1 union select * from batch_job_execution",
  "%27%20OR%20%271%27%3D%271",
  "$1",
  "\\x00",
  "🙂",
];
const IDS = [
  "1",
  "0",
  "-1",
  "999999999999999999999",
  "1.5",
  "1e3",
  "abc",
  "%00",
  "..%2f..%2fetc%2fpasswd",
  "NaN",
  "null",
  " ",
  "%20",
  ...SQL.map(encodeURIComponent),
];
const PATHS = [
  "/sync",
  "/jobs",
  "/jobs/{id}",
  "/jobs/{id}/stop",
  "/jobs/{id}/reset",
  "/items",
  "/items/{id}",
  "/webhooks/gitlab",
  "/health/live",
  "/health/ready",
  "/metrics",
  "/openapi/json",
  "/",
  "/ui/",
  "/../../etc/passwd",
  "/jobs/../items",
  "/%2e%2e/%2e%2e/etc/passwd",
  "/items/..%2F..%2F",
  "//jobs",
  "/jobs//1",
  "/JOBS",
  "/nonexistent/{id}",
  "/jobs/{id}/{id}",
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const QUERIES = [
  "",
  "?limit={id}",
  "?cursor={id}",
  "?status={sql}",
  "?before={id}",
  "?q={sql}",
  "?fresh=true",
  "?force=true",
  "?allowMassDelete=yes",
  "?limit=100000",
  `?access_token=${API_TOKEN}`,
  "?access_token={sql}",
  "?a[b]=c&a[b]=d",
  "?%ZZ",
];

function randomToken(): string | null {
  return pick([
    null,
    "",
    "Bearer",
    "Bearer ",
    `Bearer ${API_TOKEN}x`,
    `Bearer ${API_TOKEN.slice(0, -1)}`,
    `Basic ${btoa(`admin:${API_TOKEN}`)}`,
    `bearer  ${"a".repeat(5000)}`,
    `Bearer ${pick(SQL).replace(/[^\x20-\x7e]/g, "?")}`,
    `Bearer ${crypto.randomUUID()}`,
    `Token ${API_TOKEN}`,
    `Bearer ${API_TOKEN} ${API_TOKEN}`,
  ]);
}

function randomBody(): { body?: BodyInit; type?: string } {
  switch (Math.floor(Math.random() * 9)) {
    case 0:
      return {};
    case 1:
      return { body: "{not json", type: "application/json" };
    case 2:
      return { body: "x".repeat(2 * 1024 * 1024), type: "application/json" }; // oversized
    case 3:
      return {
        body: JSON.stringify({ object_kind: "push", project: { id: pick(IDS) } }),
        type: "application/json",
      };
    case 4:
      return {
        body: new Uint8Array(Array.from({ length: 512 }, () => Math.floor(Math.random() * 256))),
        type: "application/octet-stream",
      };
    case 5:
      return { body: JSON.stringify([1, 2, { a: null }]), type: "application/json" };
    case 6:
      return { body: "a=1&b=2", type: "application/x-www-form-urlencoded" };
    case 7:
      return hostileBody();
    default:
      return {
        body: JSON.stringify({ ["__proto__"]: { admin: true }, constructor: { prototype: 1 } }),
        type: "application/json",
      };
  }
}

/** Deeply nested JSON, or a huge body streamed without a Content-Length. */
function hostileBody(): { body?: BodyInit; type?: string } {
  switch (Math.floor(Math.random() * 3)) {
    case 0:
      return { body: `${"[".repeat(100_000)}${"]".repeat(100_000)}`, type: "application/json" };
    case 1:
      return { body: `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`, type: "application/json" };
    default: {
      const chunk = new Uint8Array(256 * 1024).fill(0x20);
      let left = 12; // 3 MiB
      return {
        body: new ReadableStream<Uint8Array>({
          pull(controller) {
            if (left-- > 0) controller.enqueue(chunk);
            else controller.close();
          },
        }),
        type: "application/json",
      };
    }
  }
}

/** The role a request needs, as the contract says (null: not a protected mutation). */
function roleNeeded(method: string, pathname: string, search: string): "operate" | "admin" | null {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return null;
  const q = new URLSearchParams(search);
  if (pathname === "/sync") return q.get("allowMassDelete") === "true" ? "admin" : "operate";
  if (/^\/jobs\/[^/]+\/reset$/.test(pathname)) return q.get("force") === "true" ? "admin" : "operate";
  if (/^\/jobs\/[^/]+\/stop$/.test(pathname)) return "operate";
  return null;
}

function pushPayload(projectId: number, path: string, sha: string) {
  return {
    object_kind: "push",
    ref: "refs/heads/main",
    checkout_sha: sha,
    project_id: projectId,
    project: { id: projectId, path_with_namespace: path, default_branch: "main" },
  };
}

export async function fuzz(opts: { requests: number; concurrency?: number }): Promise<
  ScenarioResult & {
    fiveXx: string[];
    leaks: string[];
    crashed: boolean;
    rss: [number, number];
    roleLeaks: string[];
    webhookLeaks: string[];
  }
> {
  const sim = startGitlabSim({ projects: 50, subgroupFraction: 0, sharedFraction: 0 });
  const dir = mkdtempSync(join(tmpdir(), "item-sync-rel-fuzz-"));
  const names = brokerNames("fuzz");
  let serve: RunningProcess | undefined;
  const fiveXx: string[] = [];
  const leaks: string[] = []; // a protected route that answered 2xx/3xx without a valid header
  const roleLeaks: string[] = []; // a call beyond the token's role that succeeded
  const webhookLeaks: string[] = []; // a delivery without the right X-Gitlab-Token not refused
  const statuses: Record<string, number> = {};
  const accepted: string[] = []; // messageIds of the valid pushes answered 202, accepted
  const tap = await startTap(names.AMQP_EXCHANGE);
  try {
    serve = await startBinary(
      ["serve"],
      serviceEnv(sim, {
        DATABASE_URL: `sqlite:${join(dir, "db.sqlite")}`,
        AMQP_URL: amqpUrl(),
        API_TOKENS: `${API_TOKEN},${READ_TOKEN}:read,${OPERATE_TOKEN}:operate`,
        ...names,
      }),
    );
    const base = serve.url;
    const pid = serve.proc.pid;
    // warm up, then take the starting figures
    for (let i = 0; i < 200; i++) await fetch(`${base}/health/live`).then((r) => r.arrayBuffer());
    Bun.gc?.(true);
    const start = procStats(pid);
    let sent = 0;
    const one = async () => {
      const validHeader = Math.random() < 0.15;
      const method = pick(METHODS);
      const id = pick(IDS);
      const path = pick(PATHS).replaceAll("{id}", id);
      const query = pick(QUERIES)
        .replaceAll("{id}", id)
        .replaceAll("{sql}", encodeURIComponent(pick(SQL)));
      const headers = new Headers();
      const role = pick(["admin", "operate", "read"] as const);
      const roleToken = { admin: API_TOKEN, operate: OPERATE_TOKEN, read: READ_TOKEN }[role];
      const token = validHeader ? `Bearer ${roleToken}` : randomToken();
      if (token !== null) headers.set("authorization", token);
      if (Math.random() < 0.2)
        headers.set("x-gitlab-token", pick([WEBHOOK_SECRET, "wrong", "", `${WEBHOOK_SECRET}x`]));
      if (Math.random() < 0.2)
        headers.set("x-gitlab-event", pick(["Push Hook", "System Hook", "Tag Push Hook", "x".repeat(300)]));
      if (Math.random() < 0.1) headers.set("x-forwarded-for", "127.0.0.1, evil");
      let { body, type } = method === "GET" || method === "HEAD" ? {} : randomBody();
      let push: string | null = null;
      if (path === "/webhooks/gitlab" && Math.random() < 0.3 && method === "POST") {
        const p = pick(sim.state.projects);
        // a sha of its own per push: its update-item's messageId is `{sha}:update-item:{id}`
        const sha = Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString("hex");
        push = `${sha}:update-item:${p.id}`;
        body = JSON.stringify(pushPayload(p.id, sim.state.fullPathOf(p), sha));
        type = "application/json";
        headers.set("x-gitlab-token", WEBHOOK_SECRET);
        headers.set("x-gitlab-event", "Push Hook");
      }
      if (type) headers.set("content-type", type);
      const label = `${method} ${path}${query}`;
      try {
        const res = await fetch(`${base}${path}${query}`, {
          method,
          headers,
          body,
          redirect: "manual",
          ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
        } as RequestInit);
        const answer = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        // a push that publishes is answered 202 with accepted true (an ignored one has false)
        if (push !== null && res.status === 202 && answer.includes('"accepted":true')) accepted.push(push);
        if (res.status >= 500) fiveXx.push(`${res.status} ${label.slice(0, 200)}`);
        const pathname = new URL(`${base}${path}`).pathname;
        if (!validHeader && isProtected(pathname) && res.status < 400 && method !== "OPTIONS")
          leaks.push(`${res.status} ${label.slice(0, 200)} (authorization: ${String(token).slice(0, 40)})`);
        const url = new URL(`${base}${path}${query}`);
        const need = roleNeeded(method, url.pathname, url.search);
        if (
          validHeader &&
          need &&
          res.status < 400 &&
          (role === "read" || (role === "operate" && need === "admin"))
        )
          roleLeaks.push(`${res.status} ${label.slice(0, 200)} as ${role}`);
        if (
          url.pathname === "/webhooks/gitlab" &&
          method === "POST" &&
          headers.get("x-gitlab-token") !== WEBHOOK_SECRET &&
          res.status !== 401 &&
          res.status !== 413
        )
          webhookLeaks.push(
            `${res.status} ${label.slice(0, 200)} (x-gitlab-token: ${headers.get("x-gitlab-token")})`,
          );
      } catch (err) {
        statuses.error = (statuses.error ?? 0) + 1;
        if (serve?.proc.exitCode !== null) throw err;
      }
    };
    const concurrency = opts.concurrency ?? 32;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < opts.requests) {
          sent++;
          await one();
        }
      }),
    );
    await Bun.sleep(500);
    const crashed = serve.proc.exitCode !== null;
    const end = crashed ? { rssKb: 0, fds: 0 } : procStats(pid);
    // protected routes, one by one, with no header and with ?access_token=
    for (const p of ["/sync", "/jobs", "/jobs/1", "/jobs/1/stop", "/jobs/1/reset", "/items", "/items/1"]) {
      for (const method of ["GET", "POST"]) {
        for (const q of ["", `?access_token=${API_TOKEN}`]) {
          const r = await fetch(`${base}${p}${q}`, { method });
          if (r.status !== 401 && r.status !== 404) leaks.push(`${r.status} ${method} ${p}${q}`);
          else if (r.status === 401 && !r.headers.get("www-authenticate")?.startsWith("Bearer"))
            leaks.push(`401 without WWW-Authenticate: ${method} ${p}${q}`);
        }
      }
    }
    const timing = await tokenTiming(base, 1500);
    await serve.kill("SIGTERM");
    await waitFor(
      "every accepted push on the broker",
      async () => pushLedger(accepted, tap.messages).lost.length === 0,
      10_000,
    ).catch(() => {});
    const pushes = pushLedger(accepted, tap.messages);
    return {
      scenario: "hostile HTTP input",
      tried: `${opts.requests} random requests, ${concurrency} at a time (methods, paths, ids, traversal, SQL fragments, tokens, ?access_token=, oversized / malformed / binary bodies, webhook deliveries)`,
      runs: opts.requests,
      faults: `statuses ${JSON.stringify(statuses)}`,
      // valid pushes answered 202 whose update-item the broker never delivered
      lost: pushes.lost.length,
      duplicates: pushes.duplicates,
      outcome: `${fiveXx.length} × 5xx, ${leaks.length} protected answers without a valid token, process ${crashed ? "CRASHED" : "alive"}; ${accepted.length} valid pushes accepted, ${pushes.unexpected} update-items from no accepted push; RSS ${formatKb(start.rssKb)} → ${formatKb(end.rssKb)}, fds ${start.fds} → ${end.fds}; ${timing}`,
      checks: [
        faultCheck(
          "hostile requests sent",
          Object.values(statuses).reduce((a, b) => a + b, 0) >= opts.requests,
          `${Object.values(statuses).reduce((a, b) => a + b, 0)} answered`,
        ),
        check(
          "no 5xx",
          fiveXx.length === 0,
          fiveXx.length === 0 ? 0 : `${fiveXx.length}: ${fiveXx.slice(0, 3).join("; ")}`,
        ),
        check("the process alive", !crashed, crashed ? "CRASHED" : "alive"),
        check(
          "no protected answer without a valid token",
          leaks.length === 0,
          leaks.length === 0 ? 0 : `${leaks.length}: ${leaks.slice(0, 3).join("; ")}`,
        ),
        check(
          "no call beyond the token's role succeeded",
          roleLeaks.length === 0,
          roleLeaks.length === 0 ? 0 : `${roleLeaks.length}: ${roleLeaks.slice(0, 3).join("; ")}`,
        ),
        check(
          "no webhook without its token accepted",
          webhookLeaks.length === 0,
          webhookLeaks.length === 0 ? 0 : `${webhookLeaks.length}: ${webhookLeaks.slice(0, 3).join("; ")}`,
        ),
        check("no update-item from a push that was not accepted", pushes.unexpected === 0, pushes.unexpected),
        lostCheck(pushes.lost.length, accepted.length, "accepted pushes"),
      ],
      fiveXx,
      leaks,
      roleLeaks,
      webhookLeaks,
      crashed,
      rss: [start.rssKb, end.rssKb],
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median time of a 401 for near-miss tokens (all but the last character right) versus random ones. */
async function tokenTiming(base: string, n: number): Promise<string> {
  const near = `${API_TOKEN.slice(0, -1)}${API_TOKEN.endsWith("x") ? "y" : "x"}`;
  const far = "z".repeat(API_TOKEN.length);
  const near_: number[] = [];
  const far_: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const [token, into] of (i % 2 === 0
      ? [
          [near, near_],
          [far, far_],
        ]
      : [
          [far, far_],
          [near, near_],
        ]) as Array<[string, number[]]>) {
      const t0 = performance.now();
      await fetch(`${base}/jobs`, { headers: { authorization: `Bearer ${token}` } }).then((r) =>
        r.arrayBuffer(),
      );
      into.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  return `token timing (${n} each, not asserted): near-miss median ${us(median(near_))}, random median ${us(median(far_))}, difference ${us(Math.abs(median(near_) - median(far_)))}`;
}
