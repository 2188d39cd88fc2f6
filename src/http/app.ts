/**
 * createApp(deps) builds the Elysia application without listening, so tests drive it with
 * `app.handle(request)` and server.ts serves it. Routes live in one file per group; this file
 * wires the cross-cutting parts: OpenAPI, body limit, error mapping, authentication and roles,
 * the audit log, refusals, security headers, and the HTTP request metrics (by route template; a
 * path no route matches counts as `unmatched`); the route template also names the request's
 * server span (server.ts) when tracing is on.
 *
 * One decision per request, in this order:
 *   1. onRequest, before routing, parsing and validation: a request to a protected path
 *      (access.ts) is authenticated — without a valid token it gets 401 whatever its query or
 *      body —, then a query naming a parameter twice gets 400, and an announced body over the
 *      limit 413.
 *   2. onTransform, once the router matched a route (strictly: a trailing slash, `//` or another
 *      case is 404, not another spelling): the route's least role from ROUTE_ACCESS, else 403 —
 *      before validation, so a token lacking the role never sees a 422 describing the schema.
 *   3. validation: unknown query parameters are refused (422), like malformed ones.
 *   4. onBeforeHandle: the role the validated query asks for (`allowMassDelete=true`,
 *      `force=true`), else 403. The handler reads that same validated query.
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia, StatusMap } from "elysia";
import type { JobService } from "../batch/service.ts";
import type { ItemViews } from "../items/item-views.ts";
import type { ProjectSyncResult } from "../items/project-sync.ts";
import type { Logger } from "../lib/log.ts";
import { roleAtLeast } from "../lib/roles.ts";
import { httpRequestDuration, httpRequests, methodLabel } from "../lib/telemetry.ts";
import { nameRoute } from "../lib/tracing.ts";
import type { HealthCheck, ProbeDetail } from "../observability/health.ts";
import { writeAudit } from "./audit.ts";
import {
  accessKey,
  duplicateQueryKey,
  isProtectedPath,
  METRICS_ACCESS,
  ROUTE_ACCESS,
  type RouteAccess,
} from "./auth/access.ts";
import { type Authenticator, bearerToken, type Principal } from "./auth/auth.ts";
import { CHALLENGE, errorResponse, mapError, missingTokenMessage, unauthorized } from "./errors.ts";
import { createRefusalLog, type RefusalLog, type RefusalReason } from "./refusals.ts";
import { healthRoutes } from "./routes-health.ts";
import { itemRoutes } from "./routes-items.ts";
import { jobRoutes } from "./routes-jobs.ts";
import { type UiAuthSettings, uiRoutes } from "./routes-ui.ts";
import { WEBHOOK_PATH, type WebhookDeps, webhookRoutes } from "./routes-webhooks.ts";

/** What the server (server.ts) knows of a request that the app cannot see. */
export interface RequestContext {
  /** The client's address, for refusal lines and per-client fairness. */
  clientOf(request: Request): string | undefined;
  /** The request proved who sent it (a bearer token, the webhook secret): no longer a stranger's. */
  authenticated(request: Request): void;
}

export interface AppDeps {
  jobs: JobService;
  items: ItemViews;
  /** POST /sync/:projectId (null: the project is not in the group). */
  syncProject(projectId: number): Promise<ProjectSyncResult | null>;
  webhooks: WebhookDeps;
  authenticator: Authenticator;
  health: HealthCheck;
  metrics(): Promise<string>;
  logger: Logger;
  version: string;
  /** Largest accepted request body; larger ones get 413. */
  maxBodyBytes?: number;
  /** The dashboard's OAuth2 sign-in (AUTH_UI_CLIENT_ID, AUTH_AUTHORIZE_URL), when configured. */
  ui?: UiAuthSettings;
  /**
   * `full` (default): `/metrics` and the detailed `/health/ready` for anyone, as without
   * METRICS_PORT. `api`: METRICS_PORT serves them to scrapers and probes, so here `/health/ready`
   * says only ok or unavailable and `/metrics` needs a token (the dashboard reads it).
   */
  probes?: "full" | "api";
  refusals?: RefusalLog;
  context?: RequestContext;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Every answer of the API: never cached by a proxy or browser, never sniffed as another type. */
export const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
} as const;

/** Tells an authenticated caller its role (read, operate, admin). */
export const ROLE_HEADER = "x-item-sync-role";

/** The route label of a request no route matched (404s, refusals before routing). */
export const UNMATCHED_ROUTE = "unmatched";

/** A refusal decided in a hook that cannot return a response (onTransform): onError answers it. */
class Refusal extends Error {
  override readonly name = "Refusal";
  constructor(readonly response: Response) {
    super(`refused with ${response.status}`);
  }
}

const isMutating = (method: string) => method !== "GET" && method !== "HEAD";

export function createApp(deps: AppDeps) {
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const probes = deps.probes ?? "full";
  const refusals = deps.refusals ?? createRefusalLog(deps.logger);
  const access: Record<string, RouteAccess> = { ...ROUTE_ACCESS };
  const extraProtected: string[] = [];
  if (probes === "api") {
    access[accessKey("GET", "/metrics")] = METRICS_ACCESS;
    extraProtected.push("/metrics");
  }
  const accessOf = (method: string, route: string | undefined) =>
    route ? access[accessKey(method, route)] : undefined;

  const startedAt = new WeakMap<Request, number>();
  // Elysia's context keeps the handler's status, not the one of the response onError returned.
  const errorStatus = new WeakMap<Request, number>();
  // Who made each authenticated request: read by the routes (launchedBy) and the audit line.
  const principals = new WeakMap<Request, Principal>();
  const audited = new WeakSet<Request>();
  const audit = (request: Request, status: number) => {
    const principal = principals.get(request);
    if (!principal || !isMutating(request.method) || audited.has(request)) return;
    audited.add(request);
    writeAudit(deps.logger, request, principal, status);
  };
  const refuse = (request: Request, reason: RefusalReason, route: string | undefined) =>
    refusals.record(reason, {
      method: methodLabel(request.method),
      route: route || beforeRouting(request),
      client: deps.context?.clientOf(request),
    });
  const observe = (request: Request, route: string | undefined, status: number) => {
    const method = methodLabel(request.method);
    const labels = { method, route: route || UNMATCHED_ROUTE };
    httpRequests.inc({ ...labels, status: String(status) });
    const start = startedAt.get(request);
    if (start !== undefined) httpRequestDuration.observe(labels, (performance.now() - start) / 1000);
  };
  /** A 403 naming the role needed; counted, and audited (before it is sent) for a mutating call. */
  const forbidden = (request: Request, principal: Principal, need: string, route: string) => {
    refuse(request, "forbidden", route);
    audit(request, 403);
    return errorResponse(
      403,
      "FORBIDDEN",
      `this call needs role ${need}; the token has role ${principal.role}`,
      {},
      { [ROLE_HEADER]: principal.role },
    );
  };

  const app = new Elysia({
    // One router, with one spelling per route: a trailing slash is not the same route. Bun's
    // own router is off so that the live server and app.handle() route alike (it folded a
    // route ending in / into the one without).
    strictPath: true,
    systemRouter: false,
    // Unknown query parameters are refused (additionalProperties: false), not silently dropped.
    normalize: false,
  })
    .use(
      openapi({
        provider: null,
        documentation: {
          info: {
            title: "item-sync",
            version: deps.version,
            description: "Keeps the imrt item database in step with the GitLab item group.",
          },
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
        },
      }),
    )
    .onRequest(async ({ request, set }) => {
      startedAt.set(request, performance.now());
      Object.assign(set.headers, SECURITY_HEADERS);
      // Answered here, before routing: no after-response hook runs, so observe() now.
      const answer = (response: Response) => {
        observe(request, undefined, response.status);
        audit(request, response.status);
        return response;
      };
      const url = new URL(request.url);
      if (isProtectedPath(url.pathname, extraProtected)) {
        const outcome = await authorize(deps, request);
        if ("refusal" in outcome) {
          refuse(request, outcome.refusal, undefined);
          return answer(outcome.response);
        }
        principals.set(request, outcome);
        deps.context?.authenticated(request);
        set.headers[ROLE_HEADER] = outcome.role; // the dashboard offers only what the role may do
      }
      // the webhook receiver checks its own token first, then the query (routes-webhooks.ts)
      const twice = url.pathname === WEBHOOK_PATH ? null : duplicateQueryKey(url.search);
      if (twice !== null) {
        refuse(request, "duplicate_parameter", undefined);
        return answer(
          errorResponse(
            400,
            "DUPLICATE_PARAMETER",
            `the query names ${JSON.stringify(twice.slice(0, 60))} more than once; give each parameter once`,
          ),
        );
      }
      const length = Number(request.headers.get("content-length") ?? "0");
      if (Number.isFinite(length) && length > maxBody) {
        return answer(errorResponse(413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${maxBody} bytes`));
      }
    })
    .onTransform({ as: "global" }, ({ request, route }) => {
      nameRoute(methodLabel(request.method), route);
      const rule = accessOf(request.method, route);
      if (!rule) return;
      const principal = principals.get(request);
      // A protected route reached without authentication (its path outside isProtectedPath):
      // createApp refuses to build such an app; this is the second line.
      if (!principal) throw new Refusal(unauthorized(TOKEN_REQUIRED));
      if (!roleAtLeast(principal.role, rule.role))
        throw new Refusal(forbidden(request, principal, rule.role, route));
    })
    .onBeforeHandle({ as: "global" }, ({ request, route, query }) => {
      const rule = accessOf(request.method, route);
      const principal = principals.get(request);
      if (!rule?.roleFor || !principal) return;
      const need = rule.roleFor(query);
      if (!roleAtLeast(principal.role, need)) return forbidden(request, principal, need, route);
    })
    .onError(({ code, error, request }) => {
      const response =
        error instanceof Refusal
          ? error.response
          : mapError(code, error, deps.logger, new URL(request.url).pathname);
      errorStatus.set(request, response.status);
      audit(request, response.status); // before the answer leaves: whoever reads it sees the line
      return response;
    })
    .onAfterHandle({ as: "global" }, ({ request, set, response }) => {
      audit(request, statusOf(response, set.status));
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const status = errorStatus.get(request) ?? statusOf(responseValue, set.status);
      observe(request, route, status); // no route matched: route is empty
      audit(request, status); // written already, unless an earlier hook could not know the status
    })
    .use(healthRoutes({ ...deps, detail: probes === "full" ? "detailed" : ("bare" satisfies ProbeDetail) }))
    .use(
      webhookRoutes({
        ...deps.webhooks,
        maxBodyBytes: maxBody,
        onRefused: (request) => refuse(request, "webhook_token", WEBHOOK_PATH),
        onDuplicateParameter: (request) => refuse(request, "duplicate_parameter", WEBHOOK_PATH),
        onAuthenticated: (request) => deps.context?.authenticated(request),
      }),
    )
    .use(uiRoutes(deps))
    // onRequest and onTransform above authenticated and authorised every route of these; the
    // guard is the last line, for a route added here that ROUTE_ACCESS does not know: it fails
    // closed.
    .guard(
      {
        beforeHandle: ({ request }) => (principals.has(request) ? undefined : unauthorized(TOKEN_REQUIRED)),
      },
      (app) =>
        app
          .use(jobRoutes({ jobs: deps.jobs, principalOf: (request) => principals.get(request) ?? null }))
          .use(itemRoutes(deps)),
    );
  assertEveryRouteHasItsRule(app.routes, access, extraProtected);
  return app;
}

export type App = ReturnType<typeof createApp>;

/**
 * A protected route without a rule in ROUTE_ACCESS, or a rule whose route lies outside the
 * protected paths (so nothing would authenticate it before its role is checked), is a bug that
 * must stop start-up, not one found by an attacker.
 */
function assertEveryRouteHasItsRule(
  routes: readonly { method: string; path: string }[],
  access: Record<string, RouteAccess>,
  extraProtected: readonly string[],
): void {
  const problems: string[] = [];
  for (const r of routes) {
    const key = accessKey(r.method, r.path);
    const protectedPath = isProtectedPath(r.path.replace(/:[^/]+/g, "x"), extraProtected);
    if (protectedPath && !access[key]) problems.push(`${key} has no rule in ROUTE_ACCESS`);
    if (!protectedPath && access[key]) problems.push(`${key} is not under a protected path`);
  }
  if (problems.length > 0) throw new Error(`createApp: ${problems.join("; ")}`);
}

/** The status of a handler's answer: its own when it is a Response, else what `set` says. */
function statusOf(response: unknown, status: number | string | undefined): number {
  if (response instanceof Response) return response.status;
  if (typeof status === "number") return status;
  return StatusMap[(status ?? "OK") as keyof typeof StatusMap] ?? 200;
}

/** Where a request refused before routing was going: its first path segment only (`/jobs…`). */
function beforeRouting(request: Request): string {
  const first = /^\/[A-Za-z0-9_-]{0,40}/.exec(new URL(request.url).pathname)?.[0] ?? "/";
  return `${first}…`;
}

/** For a protected route reached unauthenticated: a bug path (see the guards below), kept neutral. */
const TOKEN_REQUIRED = "a bearer token is required (Authorization: Bearer <token>)";

/** Who is calling, or the response that refuses the request and why. */
async function authorize(
  deps: AppDeps,
  request: Request,
): Promise<Principal | { refusal: RefusalReason; response: Response }> {
  const header = request.headers.get("authorization");
  const token = bearerToken(header);
  if (!token) return { refusal: "unauthenticated", response: unauthorized(missingTokenMessage(header)) };
  const verdict = await deps.authenticator.authenticate(token, { client: deps.context?.clientOf(request) });
  if (verdict.ok) return { subject: verdict.subject, role: verdict.role };
  const [refusal, headers]: [RefusalReason, Record<string, string>] =
    verdict.status === 401
      ? ["invalid_token", { "www-authenticate": `${CHALLENGE}, error="invalid_token"` }]
      : verdict.status === 403
        ? ["insufficient_scope", { "www-authenticate": `${CHALLENGE}, error="insufficient_scope"` }]
        : ["auth_unavailable", { "retry-after": "5" }];
  return { refusal, response: errorResponse(verdict.status, verdict.code, verdict.message, {}, headers) };
}
