/**
 * Starts an Elysia app's server on a port of its own. Elysia (like Bun) listens with
 * SO_REUSEPORT by default, so a second process on the same port starts without complaint and the
 * kernel splits the connections between the two — two `serve` on two databases answering in
 * turn. Here the port is taken exclusively, and a port in use becomes a StartupError (exit 2)
 * naming the variable that chose it.
 */

import { Elysia } from "elysia";
import { StartupError } from "../lib/errors.ts";
import { isProtectedPath } from "./auth/access.ts";
import { bearerToken } from "./auth/auth.ts";
import { errorResponse, missingTokenMessage, unauthorized } from "./errors.ts";
import { healthRoutes } from "./routes-health.ts";

interface Listener {
  listen(options: { hostname: string; port: number; reusePort: false; maxRequestBodySize?: number }): unknown;
  server: { port?: number } | null;
}

export interface ListenOptions {
  hostname: string;
  port: number;
  /** The environment variable that chose the port, named in the error (PORT, METRICS_PORT…). */
  variable: string;
  maxRequestBodySize?: number;
}

/** Listens, or throws a StartupError when the address is taken; returns the bound port. */
export function listenExclusively(app: Listener, opts: ListenOptions): number {
  try {
    app.listen({
      hostname: opts.hostname,
      port: opts.port,
      reusePort: false,
      ...(opts.maxRequestBodySize ? { maxRequestBodySize: opts.maxRequestBodySize } : {}),
    });
  } catch (err) {
    throw listenError(err, opts) ?? err;
  }
  return app.server?.port ?? opts.port;
}

/** The operator's version of a listen failure, or undefined when it is not one we explain. */
export function listenError(err: unknown, opts: ListenOptions): StartupError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  const where = `${opts.hostname}:${opts.port}`;
  if (code === "EADDRINUSE") {
    return new StartupError(
      `${opts.variable}: ${where} is already in use by another process (another item-sync serve or worker?); ` +
        `stop it or choose another ${opts.variable}`,
      { cause: err },
    );
  }
  if (code === "EACCES") {
    return new StartupError(
      `${opts.variable}: not allowed to listen on ${where} (ports below 1024 need privileges); choose another ${opts.variable}`,
      { cause: err },
    );
  }
  if (code === "EADDRNOTAVAIL") {
    return new StartupError(`HOST: ${opts.hostname} is not an address of this machine`, { cause: err });
  }
  return undefined;
}

export interface StartupProbe {
  /** Frees the port for the real server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Holds the port from the first moment of start-up, while the database, the broker and GitLab are
 * awaited (the broker up to AMQP_RECONNECT_TIMEOUT, GitLab until it answers): /health/live answers 200, so Kubernetes does not kill a
 * process that is patiently waiting, and /health/ready answers 503 saying what is awaited. A port
 * in use fails here, before any connection is made. Handing the port to the real server leaves
 * a gap of a few milliseconds in which connections are refused: one missed probe at most.
 * The API's protected paths answer 401 to a request without a bearer token, as they will later.
 */
export function startStartupProbe(opts: ListenOptions): StartupProbe {
  const app = new Elysia()
    // Authentication comes first, even now: a request to a protected path without a bearer
    // token gets the 401 it will get once started. One with a token cannot be judged yet: 503.
    .onRequest(({ request }) => {
      const header = request.headers.get("authorization");
      if (isProtectedPath(new URL(request.url).pathname) && bearerToken(header) === null)
        return unauthorized(missingTokenMessage(header));
    })
    // any other route (the API, the dashboard) is not there yet: 503, try again, not 404
    .onError(({ code }) =>
      code === "NOT_FOUND"
        ? errorResponse(
            503,
            "STARTING",
            "item-sync is starting (waiting for the database, the broker and GitLab); try again in a few seconds",
            {},
            { "retry-after": "5" },
          )
        : errorResponse(500, "INTERNAL", "internal error; see the service log"),
    )
    .use(
      healthRoutes({
        health: {
          ready: async () => ({
            ok: false,
            checks: { startup: "starting: connecting to the database, the broker and GitLab (see the log)" },
          }),
        },
        metrics: async () => "",
      }),
    );
  listenExclusively(app, opts);
  let stopped: Promise<void> | null = null;
  return {
    stop: () => {
      stopped ??= app.stop(true).then(() => undefined);
      return stopped;
    },
  };
}
