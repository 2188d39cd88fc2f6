/**
 * createApp(deps) builds the Elysia application without listening, so tests drive it with
 * `app.handle(request)` and `main` serves it. Routes live in one file per group; this file
 * wires the cross-cutting parts: OpenAPI, body limit, error mapping, authentication and roles,
 * the audit log, security headers, and the HTTP request metrics (by route template; a path no
 * route matches counts as `unmatched`).
 *
 * Authentication runs in onRequest, before routing, parsing and validation: an unauthenticated
 * request to a protected path gets 401 whatever its query or body, and a token lacking the
 * role gets 403 — neither ever sees a 422 that would describe the route's schema.
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia, StatusMap } from "elysia";
import type { JobService } from "../batch/service.ts";
import type { ItemViews } from "../items/item-views.ts";
import type { ProjectSyncResult } from "../items/project-sync.ts";
import type { Logger } from "../lib/log.ts";
import { roleAtLeast } from "../lib/roles.ts";
import { httpRequestDuration, httpRequests, methodLabel } from "../lib/telemetry.ts";
import { type Authenticator, bearerToken, type Principal, requiredRole } from "./auth.ts";
import { errorResponse, mapError } from "./errors.ts";
import { type HealthCheck, healthRoutes } from "./routes-health.ts";
import { itemRoutes } from "./routes-items.ts";
import { jobRoutes } from "./routes-jobs.ts";
import { type UiAuthSettings, uiRoutes } from "./routes-ui.ts";
import { type WebhookDeps, webhookRoutes } from "./routes-webhooks.ts";

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
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Every answer of the API: never cached by a proxy or browser, never sniffed as another type. */
export const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
} as const;

/** Tells an authenticated caller its role (read, operate, admin). */
export const ROLE_HEADER = "x-item-sync-role";

/** Paths that need a bearer token (the guard below holds their routes). */
export function isProtectedPath(pathname: string): boolean {
  return (
    pathname === "/sync" ||
    pathname.startsWith("/sync/") ||
    pathname === "/jobs" ||
    pathname.startsWith("/jobs/") ||
    pathname === "/items" ||
    pathname.startsWith("/items/")
  );
}

/** The route label of a request no route matched (404s, refusals before routing). */
export const UNMATCHED_ROUTE = "unmatched";

export function createApp(deps: AppDeps) {
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const startedAt = new WeakMap<Request, number>();
  // Elysia's context keeps the handler's status, not the one of the response onError returned.
  const errorStatus = new WeakMap<Request, number>();
  // Who made each authenticated request: read by the routes (launchedBy) and the audit line.
  const principals = new WeakMap<Request, Principal>();
  const audit = (request: Request, principal: Principal, status: number) => {
    const url = new URL(request.url);
    url.searchParams.delete("access_token"); // never accepted, but never logged either
    deps.logger.info("audit", {
      subject: principal.subject,
      role: principal.role,
      action: `${request.method} ${url.pathname}`,
      target: `${url.pathname}${url.search}`,
      outcome: status < 400 ? "success" : status === 403 ? "forbidden" : "failure",
      status,
    });
  };
  const observe = (request: Request, route: string | undefined, status: number) => {
    const method = methodLabel(request.method);
    const labels = { method, route: route || UNMATCHED_ROUTE };
    httpRequests.inc({ ...labels, status: String(status) });
    const start = startedAt.get(request);
    if (start !== undefined) httpRequestDuration.observe(labels, (performance.now() - start) / 1000);
  };
  return (
    new Elysia()
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
        const url = new URL(request.url);
        if (isProtectedPath(url.pathname)) {
          const outcome = await authorize(deps, request);
          if (outcome instanceof Response) {
            observe(request, undefined, outcome.status);
            return outcome;
          }
          const need = requiredRole(request.method, url.pathname, url.searchParams);
          if (!roleAtLeast(outcome.role, need)) {
            observe(request, undefined, 403);
            if (request.method !== "GET" && request.method !== "HEAD") audit(request, outcome, 403);
            return errorResponse(
              403,
              "FORBIDDEN",
              `this call needs role ${need}; the token has role ${outcome.role}`,
              {},
              { [ROLE_HEADER]: outcome.role },
            );
          }
          principals.set(request, outcome);
          set.headers[ROLE_HEADER] = outcome.role; // the dashboard offers only what the role may do
        }
        const length = Number(request.headers.get("content-length") ?? "0");
        if (Number.isFinite(length) && length > maxBody) {
          observe(request, undefined, 413);
          const principal = principals.get(request);
          if (principal && request.method !== "GET" && request.method !== "HEAD")
            audit(request, principal, 413);
          return errorResponse(413, "PAYLOAD_TOO_LARGE", `the request body exceeds ${maxBody} bytes`);
        }
      })
      .onError(({ code, error, request }) => {
        const response = mapError(code, error, deps.logger, new URL(request.url).pathname);
        errorStatus.set(request, response.status);
        return response;
      })
      .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
        const status =
          errorStatus.get(request) ??
          (responseValue instanceof Response
            ? responseValue.status
            : typeof set.status === "number"
              ? set.status
              : (StatusMap[set.status ?? "OK"] ?? 200));
        observe(request, route, status); // no route matched: route is empty
        const principal = principals.get(request);
        if (principal && request.method !== "GET" && request.method !== "HEAD")
          audit(request, principal, status);
      })
      .use(healthRoutes(deps))
      .use(webhookRoutes({ ...deps.webhooks, maxBodyBytes: maxBody }))
      .use(uiRoutes(deps))
      // onRequest above authenticated every path of these routes; the guard is the second line,
      // for a route added here whose path isProtectedPath does not know: it fails closed.
      .guard(
        {
          beforeHandle: ({ request }) =>
            principals.has(request)
              ? undefined
              : errorResponse(
                  401,
                  "UNAUTHORIZED",
                  "a bearer token is required (Authorization: Bearer <token>)",
                ),
        },
        (app) =>
          app
            .use(jobRoutes({ jobs: deps.jobs, principalOf: (request) => principals.get(request) ?? null }))
            .use(itemRoutes(deps)),
      )
  );
}

export type App = ReturnType<typeof createApp>;

const CHALLENGE = 'Bearer realm="item-sync"';

/** Returns a Response to refuse the request, or who is calling. */
async function authorize(deps: AppDeps, request: Request): Promise<Response | Principal> {
  const token = bearerToken(request.headers.get("authorization"));
  if (!token) {
    return errorResponse(
      401,
      "UNAUTHORIZED",
      "a bearer token is required (Authorization: Bearer <token>)",
      {},
      {
        "www-authenticate": CHALLENGE,
      },
    );
  }
  const verdict = await deps.authenticator.authenticate(token);
  if (verdict.ok) return { subject: verdict.subject, role: verdict.role };
  const headers: Record<string, string> =
    verdict.status === 401
      ? { "www-authenticate": `${CHALLENGE}, error="invalid_token"` }
      : verdict.status === 403
        ? { "www-authenticate": `${CHALLENGE}, error="insufficient_scope"` }
        : { "retry-after": "5" };
  return errorResponse(verdict.status, verdict.code, verdict.message, {}, headers);
}
