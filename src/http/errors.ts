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

/** The WWW-Authenticate challenge of every 401 (RFC 6750). */
export const CHALLENGE = 'Bearer realm="item-sync"';

/** 401 with the Bearer challenge. */
export const unauthorized = (message: string) =>
  errorResponse(401, "UNAUTHORIZED", message, {}, { "www-authenticate": CHALLENGE });

/**
 * Why a request carries no usable bearer token, for the 401 — the header's content is never
 * repeated: none sent, another scheme, or a token with characters no token has (`TOKEN:ROLE`, an
 * API_TOKENS entry sent whole, is the usual one).
 */
export function missingTokenMessage(header: string | null): string {
  if (header === null || header.trim() === "") {
    return "no bearer token was sent: this route needs one (Authorization: Bearer <token>)";
  }
  if (!/^Bearer\s/i.test(header)) {
    return "the Authorization header is not a bearer token: send Authorization: Bearer <token>";
  }
  if (/^Bearer\s+[^\s:]+:(read|operate|admin)\s*$/i.test(header)) {
    return "the bearer token ends in :ROLE: an API_TOKENS entry TOKEN:ROLE is sent as TOKEN alone";
  }
  return "the bearer token is malformed: a token is letters, digits and - . _ ~ + / (then = padding) after `Bearer `";
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

/**
 * A sentence from an Elysia validation error — "limit must be a whole number from 1 to 100
 * (default 20), not \"500\"" — never a regular expression or the schema. A pattern's rule is the
 * schema's `description`, written for this.
 */
export function validationMessage(thrown: unknown): string {
  const e = thrown as {
    all?: {
      path?: string;
      summary?: string;
      message?: string;
      value?: unknown;
      schema?: Record<string, unknown>;
    }[];
  };
  const first = e?.all?.[0];
  if (!first) return "the request is invalid";
  const where = first.path ? first.path.replace(/^\//, "").replace(/\//g, ".") : "the request";
  const schema = first.schema ?? {};
  const summary = first.summary ?? first.message ?? "";
  const shown = typeof first.value === "string" ? JSON.stringify(first.value.slice(0, 60)) : undefined;
  const not = shown !== undefined ? `, not ${shown}` : "";
  if (first.value === undefined && /required/i.test(summary)) return `${where} is required`;
  if (/should not be provided/i.test(summary)) {
    const known = Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
    const takes = known.length > 0 ? `it takes ${known.join(", ")}` : "it takes none";
    return `${JSON.stringify(where.slice(0, 60))} is not a parameter of this route (${takes})`;
  }
  if (/to match/i.test(summary)) {
    const rule = typeof schema.description === "string" ? schema.description : "in the documented format";
    return `${where} must be ${rule}${not}`;
  }
  const min = schema.minLength;
  const max = schema.maxLength;
  if (/length greater/i.test(summary) && typeof min === "number") {
    return `${where} must be at least ${min} character${min === 1 ? "" : "s"} long`;
  }
  if (/length less/i.test(summary) && typeof max === "number") {
    return `${where} must be at most ${max} characters long`;
  }
  const type = /expected (string|number|integer|boolean|object|array)/i.exec(summary)?.[1]?.toLowerCase();
  if (type) return `${where} must be ${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
  return `${where} is invalid${not}`;
}
