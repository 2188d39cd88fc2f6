/**
 * Maps anything thrown by a route to the contract's JSON error body. Known AppErrors keep their
 * code and status; Elysia's own validation/parse/404 errors become 422/400/404; anything else is
 * a 500 whose details go to the log, never to the client.
 */
import { isDatabaseUnavailable } from "../db/client.ts";
import { AppError, coerceError } from "../lib/errors.ts";
import { type Logger, redact } from "../lib/log.ts";

export interface ErrorBody {
  error: { code: string; message: string };
  [extra: string]: unknown;
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  // Messages may quote upstream errors: they pass the same redaction as the logs.
  const body: ErrorBody = { error: { code, message: redact(message) }, ...extra };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

export function mapError(
  frameworkCode: string | number,
  thrown: unknown,
  logger: Logger,
  path: string,
): Response {
  if (thrown instanceof AppError) return errorResponse(thrown.status, thrown.code, thrown.message);
  switch (frameworkCode) {
    case "NOT_FOUND":
      return errorResponse(404, "NOT_FOUND", `no route for ${path}`);
    case "VALIDATION":
      return errorResponse(422, "INVALID_REQUEST", validationMessage(thrown));
    case "PARSE":
      return errorResponse(400, "MALFORMED_BODY", "the request body could not be parsed");
    case "INVALID_FILE_TYPE":
    case "INVALID_COOKIE_SIGNATURE":
      return errorResponse(400, "BAD_REQUEST", "the request is malformed");
  }
  if (isDatabaseUnavailable(thrown)) {
    logger.warn("database unavailable during a request", { path, err: coerceError(thrown) });
    return errorResponse(
      503,
      "DATABASE_UNAVAILABLE",
      "the database is unavailable; try again shortly",
      {},
      {
        "retry-after": "5",
      },
    );
  }
  const status = (thrown as { status?: unknown })?.status;
  if (status === 413) return errorResponse(413, "PAYLOAD_TOO_LARGE", "the request body is too large");
  logger.error("unhandled error in a request", { path, err: coerceError(thrown) });
  return errorResponse(500, "INTERNAL", "internal error; see the service log");
}

/** A short, human message from an Elysia validation error, without echoing the whole schema. */
function validationMessage(thrown: unknown): string {
  const e = thrown as { all?: { path?: string; summary?: string; message?: string }[]; message?: string };
  const first = e?.all?.[0];
  if (first) {
    const where = first.path ? first.path.replace(/^\//, "").replace(/\//g, ".") : "request";
    return `${where}: ${first.summary ?? first.message ?? "invalid value"}`;
  }
  return "the request is invalid";
}
