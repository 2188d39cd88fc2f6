/**
 * One decision per request, whatever the spelling: every protected route × every spelling
 * variant (duplicate keys, trailing slash, doubled slash, encoded characters, case, dot segments)
 * × every role (none, read, operate, admin), sent as raw bytes over a real socket to the app
 * served as serve serves it. What each request made the job service do is recorded at its
 * boundary (the handler's collaborator), with the audit lines the app wrote.
 *
 * A variant that means the same request (an encoded character the router decodes, a dot segment)
 * must have exactly the outcome of its canonical spelling; any other variant must be refused
 * (400, 401, 404 or 422) and do nothing. Whatever the spelling, no role ever gets an effect
 * beyond its own, and no refused request is audited as a success.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { JobService } from "../../src/batch/service.ts";
import type { JobExecution } from "../../src/batch/types.ts";
import { zeroCounts } from "../../src/batch/types.ts";
import { createApp } from "../../src/http/app.ts";
import { createStaticTokenAuthenticator } from "../../src/http/auth/auth.ts";
import { createHttpGate, type HttpServer } from "../../src/http/server.ts";
import type { ItemViews } from "../../src/items/item-views.ts";
import { createLogger } from "../../src/lib/log.ts";
import { testAppDeps } from "../helpers/app.ts";

const TOKENS = {
  read: "variants-read-token-0123456789",
  operate: "variants-operate-token-0123456789",
  admin: "variants-admin-token-0123456789",
} as const;
type Role = "none" | keyof typeof TOKENS;
const ROLES: Role[] = ["none", "read", "operate", "admin"];

/** Every call the handlers made to their collaborators, as text. */
const effects: string[] = [];
const auditLines: { outcome: string; status: number }[] = [];

function execution(id: number): JobExecution {
  const now = new Date();
  return {
    id,
    jobInstanceId: 1,
    jobName: "itemSynchronizationJob",
    status: "STARTED",
    exitCode: "EXECUTING",
    exitMessage: "",
    createTime: now,
    startTime: now,
    endTime: null,
    lastUpdated: now,
    trigger: "api",
    restartOf: null,
    launchedBy: null,
    runner: null,
    mode: "full",
    counts: zeroCounts(),
    params: {},
    stepExecutionId: null,
  };
}

const jobs: JobService = {
  jobName: "itemSynchronizationJob",
  leaseMs: 60_000,
  launch: async (opts) => {
    effects.push(
      `launch allowMassDelete=${opts.params?.allowMassDelete ?? "-"} fresh=${opts.fresh ?? false} mode=${opts.mode ?? "-"}`,
    );
    return { kind: "started", execution: execution(7) };
  },
  get: async (id) => {
    effects.push(`get ${id}`);
    return { ...execution(id), step: null } as never;
  },
  list: async (q) => {
    effects.push(`list limit=${q.limit}`);
    return [];
  },
  stop: async (id) => {
    effects.push(`stop ${id}`);
    return execution(id);
  },
  reset: async (id, force) => {
    effects.push(`reset ${id} force=${force}`);
    return execution(id);
  },
};

const items = {
  list: async (q: { limit: number }) => {
    effects.push(`items limit=${q.limit - 1}`);
    return [];
  },
  get: async (id: number) => {
    effects.push(`item ${id}`);
    return null;
  },
  commits: async () => [],
  events: async () => [],
} as unknown as ItemViews;

/** What each role may cause, whatever it sends. */
const allowed: Record<Role, (effect: string) => boolean> = {
  none: () => false,
  read: (e) => /^(get|list|items|item|metrics) /.test(e),
  operate: (e) => !e.includes("allowMassDelete=true") && !e.includes("force=true"),
  admin: () => true,
};

let server: HttpServer;

beforeAll(() => {
  const logger = createLogger("info", {}, (line) => {
    const record = JSON.parse(line) as { msg: string; outcome: string; status: number };
    if (record.msg === "audit") auditLines.push({ outcome: record.outcome, status: record.status });
  });
  const gate = createHttpGate();
  const app = createApp(
    testAppDeps({
      jobs,
      items,
      syncProject: async (projectId) => {
        effects.push(`sync-project ${projectId}`);
        return { projectId, projectPath: `imrt/items/item-${projectId}`, published: ["update-item"] };
      },
      authenticator: createStaticTokenAuthenticator([
        { token: TOKENS.read, role: "read" },
        { token: TOKENS.operate, role: "operate" },
        { token: TOKENS.admin, role: "admin" },
      ]),
      health: { ready: async () => ({ ok: true, checks: { database: "ok" } }) },
      metrics: async () => {
        effects.push("metrics scraped");
        return "";
      },
      logger,
      // METRICS_PORT set: /metrics on the API port is a protected route like the others
      probes: "api",
      context: gate,
    }),
  );
  server = gate.listen(app, { hostname: "127.0.0.1", port: 0, variable: "PORT" });
});

afterAll(async () => {
  await server.stop();
});

interface Outcome {
  status: number;
  effects: string[];
  audits: { outcome: string; status: number }[];
}

/** Sends exactly `target` (path and query, as written) over a socket; the answer's status. */
async function send(method: string, target: string, role: Role): Promise<Outcome> {
  effects.length = 0;
  auditLines.length = 0;
  const auth = role === "none" ? "" : `Authorization: Bearer ${TOKENS[role]}\r\n`;
  const head = `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Length: 0\r\nConnection: close\r\n\r\n`;
  let received = "";
  await new Promise<void>((resolve, reject) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port: server.port,
      socket: {
        open: (socket) => {
          socket.write(head);
        },
        data: (_socket, data) => {
          received += data.toString();
        },
        close: () => resolve(),
        error: (_socket, err) => reject(err),
      },
    }).catch(reject);
  });
  await Bun.sleep(1); // the after-response hook writes the audit line
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
  return { status, effects: [...effects], audits: [...auditLines] };
}

interface Route {
  method: string;
  /** canonical path and its query variants */
  path: string;
  queries: string[];
  /** the index of the id segment, when the route has one */
  idSegment?: number;
  /** a route without parameters that ignores any query (a scrape URL may carry some) */
  takesAnyQuery?: boolean;
}

const ROUTES: Route[] = [
  {
    method: "POST",
    path: "/sync",
    queries: ["", "allowMassDelete=true", "allowMassDelete=false", "fresh=true", "mode=full"],
  },
  { method: "POST", path: "/jobs/7/reset", queries: ["", "force=true", "force=false"], idSegment: 2 },
  { method: "POST", path: "/jobs/7/stop", queries: [""], idSegment: 2 },
  { method: "POST", path: "/sync/7", queries: [""], idSegment: 2 },
  { method: "GET", path: "/jobs", queries: ["", "limit=5"] },
  { method: "GET", path: "/jobs/7", queries: [""], idSegment: 2 },
  { method: "GET", path: "/items", queries: ["", "limit=5"] },
  { method: "GET", path: "/items/7", queries: [""], idSegment: 2 },
  { method: "GET", path: "/metrics", queries: [""], takesAnyQuery: true },
];

const withQuery = (path: string, query: string) => (query === "" ? path : `${path}?${query}`);
const encodeAll = (s: string) =>
  [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`).join("");

/** Spellings that mean the same request: the outcome must be the canonical one's. */
function sameRequest(route: Route, query: string): [string, string][] {
  const out: [string, string][] = [];
  const segments = route.path.split("/");
  if (route.idSegment !== undefined) {
    const encoded = [...segments];
    encoded[route.idSegment] = encodeAll(segments[route.idSegment] as string);
    out.push(["encoded id", withQuery(encoded.join("/"), query)]);
  }
  if (segments.length > 2) {
    const dotted = [...segments.slice(0, -1), ".", segments.at(-1)].join("/");
    out.push(["dot segment", withQuery(dotted, query)]);
  }
  if (query !== "") {
    const [key = "", value = ""] = query.split("=");
    out.push(["encoded value", withQuery(route.path, `${key}=${encodeAll(value)}`)]);
    out.push(["encoded key", withQuery(route.path, `${encodeAll(key)}=${value}`)]);
    out.push(["lower-case escapes", withQuery(route.path, `${key}=${encodeAll(value).toLowerCase()}`)]);
  }
  return out;
}

/** Spellings that are not the route, or ask ambiguously: refused, with no effect. */
function otherRequest(route: Route, query: string): [string, string][] {
  const out: [string, string][] = [];
  const { path } = route;
  const segments = path.split("/");
  out.push(["trailing slash", withQuery(`${path}/`, query)]);
  out.push(["leading double slash", withQuery(`/${path}`, query)]);
  out.push(["inner double slash", withQuery(path.replace(/\/([^/]+)$/, "//$1"), query)]);
  out.push(["upper-case path", withQuery(path.toUpperCase(), query)]);
  out.push([
    "capitalised first segment",
    withQuery(
      path.replace(/^\/(.)/, (_, c: string) => `/${c.toUpperCase()}`),
      query,
    ),
  ]);
  out.push([
    "encoded static character",
    withQuery(
      path.replace(/^\/(.)/, (_, c: string) => `/${encodeAll(c)}`),
      query,
    ),
  ]);
  out.push(["encoded slash", withQuery(`${path}%2F`, query)]);
  if (!route.takesAnyQuery)
    out.push(["unknown parameter", withQuery(path, query === "" ? "x=1" : `${query}&x=1`)]);
  if (route.idSegment !== undefined) {
    const spaced = [...segments];
    spaced[route.idSegment] = `${segments[route.idSegment]}%20`;
    out.push(["id with a trailing space", withQuery(spaced.join("/"), query)]);
  }
  if (query !== "") {
    const [key = "", value = ""] = query.split("=");
    const other = value === "true" ? "false" : value === "false" ? "true" : value;
    out.push(["duplicate key, canonical last", `${path}?${key}=${other}&${query}`]);
    out.push(["duplicate key, canonical first", `${path}?${query}&${key}=${other}`]);
    out.push(["duplicate key, same value", `${path}?${query}&${query}`]);
    out.push(["duplicate key, encoded twin", `${path}?${key}=${other}&${encodeAll(key)}=${value}`]);
    out.push(["duplicate key, no value", `${path}?${query}&${key}`]);
    out.push(["capitalised key", `${path}?${key.charAt(0).toUpperCase()}${key.slice(1)}=${value}`]);
    if (value.toUpperCase() !== value)
      out.push(["upper-case value", `${path}?${key}=${value.toUpperCase()}`]);
    out.push(["array key", `${path}?${key}[]=${value}`]);
    out.push(["semicolon pair", `${path}?${query};${key}=${other}`]);
  } else {
    out.push(["duplicate unknown key", `${path}?a=1&a=2`]);
  }
  return out;
}

/** Refusals: malformed or ambiguous (400, 422), unknown route (404), no token (401), role (403). */
const REFUSED = [400, 401, 403, 404, 422];

describe("every route × every spelling × every role gets one decision", () => {
  for (const route of ROUTES) {
    for (const query of route.queries) {
      const canonical = withQuery(route.path, query);
      test(`${route.method} ${canonical}`, async () => {
        const problems: string[] = [];
        for (const role of ROLES) {
          const base = await send(route.method, canonical, role);
          if (base.status === 0) problems.push(`${role} ${canonical}: no answer`);
          for (const [name, target] of sameRequest(route, query)) {
            const got = await send(route.method, target, role);
            if (got.status !== base.status || got.effects.join() !== base.effects.join())
              problems.push(
                `${role} ${name} ${target}: ${got.status} [${got.effects}] where ${canonical} gave ${base.status} [${base.effects}]`,
              );
          }
          for (const [name, target] of otherRequest(route, query)) {
            const got = await send(route.method, target, role);
            if (!REFUSED.includes(got.status) || got.effects.length > 0)
              problems.push(`${role} ${name} ${target}: ${got.status} [${got.effects}], not refused`);
            if (got.audits.some((a) => a.outcome === "success"))
              problems.push(`${role} ${name} ${target}: audited as a success`);
          }
        }
        expect(problems).toEqual([]);
      });
    }
  }

  test("no spelling gives a role an effect beyond its own", async () => {
    const beyond: string[] = [];
    for (const route of ROUTES) {
      for (const query of route.queries) {
        const spellings = [
          withQuery(route.path, query),
          ...sameRequest(route, query).map(([, t]) => t),
          ...otherRequest(route, query).map(([, t]) => t),
        ];
        for (const role of ROLES) {
          for (const target of spellings) {
            const got = await send(route.method, target, role);
            for (const e of got.effects) if (!allowed[role](e)) beyond.push(`${role} ${target}: ${e}`);
          }
        }
      }
    }
    expect(beyond).toEqual([]);
  });

  test("the canonical answers are the contract's: admin-only flags refuse operate with 403", async () => {
    expect((await send("POST", "/sync?allowMassDelete=true", "operate")).status).toBe(403);
    expect((await send("POST", "/sync?allowMassDelete=true", "admin")).effects).toEqual([
      "launch allowMassDelete=true fresh=false mode=-",
    ]);
    expect((await send("POST", "/jobs/7/reset?force=true", "operate")).status).toBe(403);
    expect((await send("POST", "/jobs/7/reset?force=true", "admin")).effects).toEqual(["reset 7 force=true"]);
    expect((await send("POST", "/jobs/7/reset", "operate")).effects).toEqual(["reset 7 force=false"]);
    expect((await send("POST", "/sync", "read")).status).toBe(403);
    expect((await send("GET", "/jobs", "none")).status).toBe(401);
    // the two spellings of the issue: refused, and audited as what they were
    const dup = await send("POST", "/sync?allowMassDelete=false&allowMassDelete=true", "operate");
    expect(dup).toMatchObject({ status: 400, effects: [], audits: [{ outcome: "failure", status: 400 }] });
    const slash = await send("POST", "/jobs/7/reset/?force=true", "operate");
    expect(slash).toMatchObject({ status: 404, effects: [], audits: [{ outcome: "failure", status: 404 }] });
  });
});
