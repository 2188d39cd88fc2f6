/**
 * The audit line of a mutating call: `{"msg":"audit","subject","role","action","target","outcome",
 * "status"}`. Its action and target quote the request's path and query, which a client may have
 * filled with anything — a token it should not have sent, in whatever encoding a URL can carry
 * (`~` as `%7E`, `+` for a space, every character percent-encoded): each part is decoded before
 * it is redacted, so no spelling of a secret survives, and `access_token` never shows its value.
 */
import { type Logger, redact } from "../lib/log.ts";
import type { Principal } from "./auth/auth.ts";

export type AuditOutcome = "success" | "forbidden" | "failure";

export function auditOutcome(status: number): AuditOutcome {
  return status < 400 ? "success" : status === 403 ? "forbidden" : "failure";
}

export function writeAudit(logger: Logger, request: Request, principal: Principal, status: number): void {
  const url = new URL(request.url);
  const path = auditTarget(new URL(url.pathname, url.origin));
  logger.info("audit", {
    subject: principal.subject,
    role: principal.role,
    action: `${request.method} ${path}`,
    target: auditTarget(url),
    outcome: auditOutcome(status),
    status,
  });
}

/**
 * Path and query as the audit line shows them: decoded, then redacted as a whole (a secret may
 * span a `=` or `&`), then with spaces and control characters escaped so the line stays one
 * readable target.
 */
export function auditTarget(url: URL): string {
  const query = url.search.replace(/^\?/, "");
  const parts = query === "" ? [] : query.split("&").map(hideAccessToken);
  const literal = parts.map((p) => decodePair(p, false)).join("&");
  const spaced = parts.map((p) => decodePair(p, true)).join("&");
  // `+` is a space to a form reader and a plus to others: whichever reading shows a secret wins
  const shownQuery = redact(spaced) !== spaced ? redact(spaced) : redact(literal);
  const path = escapeUnprintable(redact(decode(url.pathname)));
  return parts.length > 0 ? `${path}?${escapeUnprintable(shownQuery)}` : path;
}

function hideAccessToken(part: string): string {
  const eq = part.indexOf("=");
  return eq >= 0 && decode(part.slice(0, eq)) === "access_token" ? "access_token=[redacted]" : part;
}

function decodePair(part: string, plusIsSpace: boolean): string {
  const text = plusIsSpace ? part.replace(/\+/g, "%20") : part;
  const eq = text.indexOf("=");
  return eq < 0 ? decode(text) : `${decode(text.slice(0, eq))}=${decode(text.slice(eq + 1))}`;
}

/** Percent-decoding that leaves a malformed escape as it is instead of throwing. */
function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

const escapeUnprintable = (text: string) =>
  [...text]
    .map((c) => {
      const code = c.codePointAt(0) ?? 0;
      return code <= 0x20 || code === 0x7f || /\s/.test(c) ? encodeURIComponent(c) : c;
    })
    .join("");
