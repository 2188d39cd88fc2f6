/**
 * The transport under gitbeaker. gitbeaker's own requester retries 429/502 after
 * `2**i * 0.25` ms, ignores Retry-After and rate-limits every endpoint to 3,000 a minute; we
 * hand it this requester instead (`requesterFn`), so every GitLab request goes through our
 * pacer, our retry policy and our per-request timeout, and its limiter is never built.
 * With tracing on, each call is one client span (HTTP semantic conventions, the route template
 * as `url.template`), its 429 waits and retries as span events.
 */
import type { Groups } from "@gitbeaker/rest";
import { coerceError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_TEMPLATE,
} from "../lib/semconv.ts";
import {
  gitlabInFlight,
  gitlabRequestDuration,
  gitlabRequests,
  gitlabRetries,
  methodLabel,
} from "../lib/telemetry.ts";
import { sleep } from "../lib/time.ts";
import { inSpan, KIND } from "../lib/tracing.ts";
import { GitlabError, RETRYABLE_STATUSES } from "./errors.ts";
import type { Pacer } from "./pacer.ts";
import { backoffDelay, type RetryPolicy, retryAfterMs } from "./retry.ts";

/** gitbeaker's requester factory type, taken from its constructors' options. */
export type RequesterFn = NonNullable<NonNullable<ConstructorParameters<typeof Groups>[0]>["requesterFn"]>;
type ResourceOptions = Parameters<RequesterFn>[0];
type Requester = ReturnType<RequesterFn>;
type RequestOptions = NonNullable<Parameters<Requester["get"]>[1]>;

export interface RequesterDeps {
  pacer: Pacer;
  timeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  /** 429s one call may meet before it gives up (each one already waited its Retry-After). */
  max429PerCall?: number;
  counters: { retries: number };
  /** Every answer GitLab gave (its status), or the failure to get one (GitLab's health, readiness). */
  onAnswer?(answer: { status: number } | { error: string }): void;
}

function decamelize(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function decamelizeDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decamelizeDeep);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [decamelize(k), decamelizeDeep(v)]));
  }
  return value;
}

export function formatQuery(params: Record<string, unknown> | undefined): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === null) continue;
    const key = decamelize(k);
    if (Array.isArray(v)) for (const item of v) q.append(`${key}[]`, String(item));
    else q.append(key, typeof v === "object" ? JSON.stringify(v) : String(v));
  }
  return q.toString();
}

async function readBody(res: Response): Promise<unknown> {
  if (res.status === 204) return null;
  const type = (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  const text = await res.text();
  if (type === "application/json") return text === "" ? {} : JSON.parse(text);
  return text;
}

function describe(body: unknown): string {
  if (body && typeof body === "object") {
    const b = body as { message?: unknown; error?: unknown };
    const m = b.message ?? b.error;
    if (m !== undefined) return typeof m === "string" ? m : JSON.stringify(m);
  }
  return typeof body === "string" ? body.slice(0, 200) : "";
}

/** Collections whose next path segment is an identifier (id, encoded path, sha, file path). */
const ID_AFTER: Record<string, string> = {
  projects: ":id",
  groups: ":id",
  hooks: ":hook_id",
  users: ":user_id",
  namespaces: ":id",
  commits: ":sha",
  branches: ":branch",
  tags: ":tag",
  files: ":file_path",
  members: ":user_id",
  merge_requests: ":iid",
  issues: ":iid",
  pipelines: ":pipeline_id",
  jobs: ":job_id",
};

/**
 * The route template of a GitLab API path, a bounded metric label:
 * `/api/v4/projects/123/hooks` → `/projects/:id/hooks` (anything up to `/api/v4` dropped). Every segment after a known collection is an
 * identifier; any other segment that is not a plain lower-case word is one too, so no raw id,
 * path or ref ever becomes a label value.
 */
export function gitlabRoute(path: string): string {
  const out: string[] = [];
  let previous = "";
  const apiPath = path.replace(/^.*?\/api\/v4(?=\/|$)/, "");
  for (const segment of apiPath.split("/")) {
    if (segment === "") continue;
    const id = ID_AFTER[previous];
    if (id && previous !== "" && out[out.length - 1] === previous) out.push(id);
    else out.push(/^[a-z_]+$/.test(segment) ? segment : ":id");
    previous = segment;
  }
  return `/${out.join("/")}`;
}

/** A gitbeaker `requesterFn` whose every request is paced, timed out and retried by us. */
export function createRequesterFn(deps: RequesterDeps): RequesterFn {
  const max429 = deps.max429PerCall ?? 50;

  async function send(resource: ResourceOptions, method: string, endpoint: string, options: RequestOptions) {
    const base = resource.url.endsWith("/") ? resource.url : `${resource.url}/`;
    const url = new URL(endpoint, base);
    url.search = formatQuery(options.searchParams);
    const headers: Record<string, string> = { ...resource.headers };
    for (const [name, fn] of Object.entries(resource.authHeaders)) headers[name] = await fn();
    let body: string | FormData | undefined;
    if (options.body instanceof FormData) body = options.body;
    else if (options.body !== undefined) {
      body = JSON.stringify(decamelizeDeep(options.body));
      headers["content-type"] = "application/json";
    }
    const what = `${method} ${url.pathname}`;
    const labels = { method: methodLabel(method), route: gitlabRoute(url.pathname) };

    // The scan's page requests jump the queue of hook checks: each one holds back a whole page.
    const urgent = method === "GET" && /\/groups\/[^/]+\/projects$/.test(url.pathname);
    let failures = 0;
    let limited = 0;
    const attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: labels.method,
      [ATTR_URL_TEMPLATE]: labels.route,
      [ATTR_URL_FULL]: `${url.origin}${url.pathname}`,
      [ATTR_SERVER_ADDRESS]: url.hostname,
      [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === "https:" ? 443 : 80),
    };
    // One client span per call, its 429 waits and retries as events (the time between its
    // start and the first `sent` is the wait for a slot: concurrency, rate cap, Retry-After).
    return inSpan(`${labels.method} ${labels.route}`, { kind: KIND.client, attributes }, async (span) => {
      for (;;) {
        const release = await deps.pacer.acquire(options.signal, urgent);
        try {
          // the grant may have waited for this turn: the cap is checked again at the send
          for (let wait = deps.pacer.trySend(); wait > 0; wait = deps.pacer.trySend()) {
            await sleep(wait, options.signal);
            if (options.signal?.aborted) throw options.signal.reason;
          }
        } catch (reason) {
          release();
          throw reason;
        }
        // from here to fetch nothing awaits: the send time trySend recorded is the real one
        span?.addEvent("sent", { attempt: failures + limited + 1 });
        gitlabInFlight.inc();
        const sentAt = performance.now();
        let status = 0;
        let responseHeaders: Headers | undefined;
        let parsed: unknown;
        let failure: Error | undefined;
        let redirectedTo: string | undefined;
        // A cleared timer rather than AbortSignal.timeout: that one keeps every request's signal
        // alive for the whole timeout, which adds up at hundreds of requests a second.
        const timeout = new AbortController();
        const timer = setTimeout(
          () => timeout.abort(new DOMException(`no answer within ${deps.timeoutMs} ms`, "TimeoutError")),
          deps.timeoutMs,
        );
        try {
          const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
          // Never follow a redirect: it would carry the token's header to wherever it points.
          const res = await fetch(url, { method, headers, body, signal, redirect: "manual" });
          status = res.status;
          responseHeaders = res.headers;
          if (status >= 300 && status < 400) {
            await res.body?.cancel().catch(() => {});
            redirectedTo = originOf(res.headers.get("location"), url);
          }
          // Hold everyone before this slot frees up, or the next waiter would go out at once.
          span?.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
          if (status === 429) {
            limited++;
            const waitMs = retryAfterMs(res.headers, backoffDelay(limited, deps.retry));
            deps.pacer.rateLimited(waitMs);
            span?.addEvent("rate limited", {
              "http.response.status_code": 429,
              "item_sync.wait_ms": Math.round(waitMs),
            });
          }
          parsed = await readBody(res);
        } catch (thrown) {
          if (options.signal?.aborted) throw options.signal.reason;
          failure = coerceError(thrown);
        } finally {
          clearTimeout(timer);
          release();
          gitlabInFlight.dec();
          const outcome = failure
            ? failure.name === "TimeoutError"
              ? "timeout"
              : "network_error"
            : status === 0
              ? "aborted"
              : String(status);
          gitlabRequests.inc({ ...labels, status: outcome });
          if (failure)
            deps.onAnswer?.({
              error: outcome === "timeout" ? `no answer within ${deps.timeoutMs} ms` : failure.message,
            });
          else if (status !== 0) deps.onAnswer?.({ status });
          gitlabRequestDuration.observe(labels, (performance.now() - sentAt) / 1000);
        }

        if (failure === undefined && status >= 200 && status < 300 && responseHeaders) {
          const plain: Record<string, string> = {};
          responseHeaders.forEach((value, name) => {
            plain[name] = value;
          });
          return { body: parsed, headers: plain, status };
        }
        if (status === 429) {
          if (limited <= max429) continue;
          throw new GitlabError(`${what}: still rate limited (429) after ${limited} waits`, {
            retryable: true,
            upstreamStatus: 429,
          });
        }
        if (redirectedTo !== undefined) {
          throw new GitlabError(
            `${what} answered ${status}, a redirect to ${redirectedTo}: not followed (check GITLAB_URL: scheme, host and path prefix)`,
            { retryable: false, upstreamStatus: status, code: "GITLAB_REDIRECT" },
          );
        }
        const retryable = failure !== undefined || RETRYABLE_STATUSES.has(status);
        const message =
          failure !== undefined
            ? `${what} failed: ${failure.name === "TimeoutError" ? `no answer within ${deps.timeoutMs} ms` : failure.message}`
            : `${what} answered ${status}${describe(parsed) ? `: ${describe(parsed)}` : ""}`;
        if (!retryable || failures >= deps.retry.retries) {
          // The message does not count the tries (the debug log has each retry): whoever retries
          // the whole operation (the consumer: "failed after 5 attempt(s)") says it, once.
          throw new GitlabError(message, {
            retryable,
            upstreamStatus: status || undefined,
            cause: failure,
          });
        }
        const delay = backoffDelay(failures, deps.retry);
        failures++;
        deps.counters.retries++;
        gitlabRetries.inc(labels);
        span?.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, failures);
        span?.addEvent("retry", {
          attempt: failures,
          ...(status ? { "http.response.status_code": status } : { "error.type": failure?.name ?? "error" }),
          "item_sync.wait_ms": delay,
        });
        deps.logger.debug("gitlab request retried", {
          request: what,
          status,
          attempt: failures,
          delayMs: delay,
        });
        await sleep(delay, options.signal);
      }
    });
  }

  return (resource: ResourceOptions): Requester => {
    const verb =
      (method: string) =>
      // biome-ignore lint/suspicious/noExplicitAny: gitbeaker's requester methods are generic over the body type
      (endpoint: string, options?: RequestOptions): Promise<any> =>
        send(resource, method, endpoint, options ?? {});
    return {
      get: verb("GET"),
      post: verb("POST"),
      put: verb("PUT"),
      patch: verb("PATCH"),
      delete: verb("DELETE"),
    };
  };
}

/** Only the origin of a redirect's target: its path or query could carry anything, a token too. */
function originOf(location: string | null, base: URL): string {
  if (!location) return "(no location)";
  try {
    return new URL(location, base).origin;
  } catch {
    return "(an invalid location)";
  }
}
