/**
 * The HTTP servers of serve and worker (the API port and METRICS_PORT): Bun.serve with the port
 * taken exclusively, around an app's `handle()`. Around every request it adds what an app cannot
 * do for itself, so that strangers get a bounded amount of work whatever they send:
 *
 *  - **A cap on strangers in flight.** A request counts as a stranger's from its arrival until
 *    the app says it authenticated (a bearer token, the webhook secret) or it is answered. Beyond
 *    `maxStrangers` at once, a new request is answered `503 OVERLOADED` at the door — unless it
 *    carries a token known without asking anyone (a static token, a cached OAuth2 verdict), so
 *    operators keep working through a flood. Probes (`exempt`) are never counted nor shed: they
 *    are cheap (cached) and a shed probe would take a healthy pod out of service.
 *  - **A total time limit.** A request not answered within `requestTimeoutMs` gets
 *    `503 TIMEOUT`; whatever it waited for goes on and frees its slot when it ends.
 *  - **Connection: close on a refusal that left a body unread**, so a client trickling a body
 *    does not hold its socket until the idle timeout; `idleTimeout` itself is 10 s.
 *  - **The client's address** for the app (refusal lines, fair introspection): the peer, or —
 *    when the peer is one of TRUSTED_PROXIES — the right-most X-Forwarded-For address that is
 *    not a trusted proxy itself (what the proxy saw; everything left of it the client wrote).
 *  - **A server span** (tracing on): one per request, probes and scrapes excepted, continuing
 *    the caller's trace when it sends a W3C `traceparent`; the app names its route
 *    (app.ts) and everything the request does happens inside it.
 */
import { BlockList, isIP } from "node:net";
import type { Server } from "bun";
import type { Logger } from "../lib/log.ts";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from "../lib/semconv.ts";
import { methodLabel } from "../lib/telemetry.ts";
import { SECOND } from "../lib/time.ts";
import {
  contextFrom,
  errorStatus,
  failSpan,
  KIND,
  type Span,
  startSpan,
  withActive,
} from "../lib/tracing.ts";
import type { RequestContext } from "./app.ts";
import { bearerToken } from "./auth/auth.ts";
import { errorResponse } from "./errors.ts";
import { type ListenOptions, listenError } from "./listen.ts";
import type { RefusalLog } from "./refusals.ts";

export interface HttpGateOptions {
  /** Strangers' requests in flight at most (default 256). */
  maxStrangers?: number;
  /** A request's total time limit (default 30 s). */
  requestTimeoutMs?: number;
  /** Paths never counted nor shed (default: the probes). */
  exempt?: (pathname: string) => boolean;
  /** Whether a bearer token authenticates without I/O (static tokens, cached verdicts). */
  knownToken?: (token: string) => boolean;
  /** TRUSTED_PROXIES: peers whose X-Forwarded-For is believed. */
  trustedProxies?: BlockList | null;
  refusals?: RefusalLog;
  logger?: Logger;
}

export const DEFAULT_MAX_STRANGERS = 256;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30 * SECOND;
/** Bun closes a connection idle this long (Elysia's listen() would make it 30 s). */
export const IDLE_TIMEOUT_SECONDS = 10;

const PROBES = new Set(["/health/live", "/health/ready"]);
/** No span for these: a probe every few seconds and every scrape would bury the traces that matter. */
const UNTRACED = new Set([...PROBES, "/metrics"]);

export interface HttpGate extends RequestContext {
  /** Strangers' requests in flight now. */
  strangers(): number;
  /** Listens on `opts.port` (exclusively) and serves `app` through the gate. */
  listen(app: { handle(request: Request): Promise<Response> }, opts: ListenOptions): HttpServer;
}

export interface HttpServer {
  port: number;
  /** Stops accepting, lets requests in flight finish. Idempotent. */
  stop(): Promise<void>;
}

export function createHttpGate(opts: HttpGateOptions = {}): HttpGate {
  const maxStrangers = opts.maxStrangers ?? DEFAULT_MAX_STRANGERS;
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const exempt = opts.exempt ?? ((pathname: string) => PROBES.has(pathname));
  const counted = new WeakSet<Request>();
  const clients = new WeakMap<Request, string>();
  let strangers = 0;

  const release = (request: Request) => {
    if (counted.delete(request)) strangers--;
  };
  const refused = (request: Request, reason: "overloaded" | "timeout") =>
    opts.refusals?.record(reason, {
      method: request.method,
      route: "unmatched",
      client: clients.get(request),
    });

  async function handle(
    app: { handle(request: Request): Promise<Response> },
    request: Request,
    server: Server<unknown>,
  ): Promise<Response> {
    const client = clientAddress(request, server, opts.trustedProxies ?? null);
    clients.set(request, client);
    const url = new URL(request.url);
    const { pathname } = url;
    const span = UNTRACED.has(pathname) ? undefined : serverSpan(request, url, client);
    try {
      const response = await withActive(span, () => gated(app, request, pathname));
      span?.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
      if (response.status >= 500) errorStatus(span, `answered ${response.status}`);
      return response;
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span?.end();
    }
  }

  async function gated(
    app: { handle(request: Request): Promise<Response> },
    request: Request,
    pathname: string,
  ): Promise<Response> {
    if (!exempt(pathname)) {
      if (strangers >= maxStrangers && !carriesKnownToken(request)) {
        refused(request, "overloaded");
        return closing(
          request,
          errorResponse(
            503,
            "OVERLOADED",
            "too many unauthenticated requests in flight; try again shortly",
            {},
            { "retry-after": "1" },
          ),
        );
      }
      counted.add(request);
      strangers++;
    }
    const work = app.handle(request).finally(() => release(request));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    try {
      const outcome = await Promise.race([work, late]);
      if (outcome === "late") {
        work.catch(() => {}); // it ends on its own (its own time limits), and releases its slot
        refused(request, "timeout");
        opts.logger?.debug("request timed out", { method: request.method, path: pathname });
        return closing(
          request,
          errorResponse(
            503,
            "TIMEOUT",
            `the request was not answered within ${timeoutMs / SECOND} s; try again`,
            {},
            { "retry-after": "5" },
          ),
          true,
        );
      }
      return closing(request, outcome);
    } finally {
      clearTimeout(timer);
    }
  }

  const carriesKnownToken = (request: Request) => {
    const token = bearerToken(request.headers.get("authorization"));
    return token !== null && (opts.knownToken?.(token) ?? false);
  };

  return {
    clientOf: (request) => clients.get(request),
    authenticated: release,
    strangers: () => strangers,
    listen(app, listen) {
      let server: Server<unknown>;
      try {
        server = Bun.serve({
          hostname: listen.hostname,
          port: listen.port,
          reusePort: false,
          idleTimeout: IDLE_TIMEOUT_SECONDS,
          development: false,
          ...(listen.maxRequestBodySize ? { maxRequestBodySize: listen.maxRequestBodySize } : {}),
          fetch: (request, srv) => handle(app, request, srv),
          error: () => errorResponse(500, "INTERNAL", "internal error; see the service log"),
        });
      } catch (err) {
        throw listenError(err, listen) ?? err;
      }
      let stopped: Promise<void> | null = null;
      return {
        port: server.port ?? listen.port,
        stop: () => {
          stopped ??= server.stop().then(() => undefined);
          return stopped;
        },
      };
    },
  };
}

/**
 * Adds `Connection: close` to a refusal of a request that announced a body (or always): the app
 * may not have read it all (a cancelled stream counts as used), and Bun would otherwise keep the
 * socket for whatever the client still trickles in.
 */
function closing(request: Request, response: Response, always = false): Response {
  const announced =
    request.headers.has("transfer-encoding") || Number(request.headers.get("content-length") ?? "0") > 0;
  if (!always && (response.status < 400 || !announced)) return response;
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set("connection", "close");
    return copy;
  }
}

/** The request's server span (HTTP semantic conventions), child of the caller's `traceparent`. */
function serverSpan(request: Request, url: URL, client: string): Span | undefined {
  const method = methodLabel(request.method);
  const agent = request.headers.get("user-agent");
  return startSpan(method, {
    kind: KIND.server,
    parent: contextFrom(request.headers),
    attributes: {
      [ATTR_HTTP_REQUEST_METHOD]: method === "other" ? "_OTHER" : method,
      [ATTR_URL_PATH]: url.pathname,
      [ATTR_URL_SCHEME]: url.protocol.replace(":", ""),
      [ATTR_CLIENT_ADDRESS]: client,
      ...(agent ? { [ATTR_USER_AGENT_ORIGINAL]: agent.slice(0, 300) } : {}),
    },
  });
}

/** The peer's address without the IPv4-mapped prefix (`::ffff:10.0.0.1` → `10.0.0.1`). */
const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");

const trusted = (list: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
};

/** See the module header: the peer, or behind trusted proxies the address they saw. */
export function clientAddress(
  request: Request,
  server: Pick<Server<unknown>, "requestIP">,
  trustedProxies: BlockList | null,
): string {
  const peer = plain(server.requestIP(request)?.address ?? "unknown");
  if (!trustedProxies || !trusted(trustedProxies, peer)) return peer;
  const hops = (request.headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((h) => plain(h.trim()))
    .filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) return peer; // not an address: nothing left of it can be believed
    if (!trusted(trustedProxies, hop)) return hop;
  }
  return hops[0] ?? peer;
}

/** TRUSTED_PROXIES (addresses and CIDR ranges) as a BlockList; null when empty. */
export function trustedProxyList(entries: readonly string[]): BlockList | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}
