/**
 * What the two OAuth2 authenticators (JWT and introspection) share: their dependencies and
 * tuning, the verdicts they give, the scope check, and the one error that means "the provider
 * could not be asked" — which becomes 503, never 401 (the token may be fine) and never 200.
 */
import { coerceError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { MINUTE, SECOND } from "../../lib/time.ts";
import { type AuthVerdict, type RoleScopes, roleFromScopes } from "./auth.ts";

/** `typeof fetch` is assignable to this; tests and callers may pass a narrower function. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface OAuthTuning {
  /** Time limit of one request to the provider (JWKS or introspection). */
  timeoutMs: number;
  /** After a JWKS fetch, how long a token with an unknown `kid` waits before it may cause another. */
  jwksCooldownMs: number;
  /** Cached keys older than this are fetched again before use. */
  jwksMaxAgeMs: number;
  /** Leeway for `exp`/`nbf` between our clock and the provider's. */
  clockToleranceSeconds: number;
  /** Most introspection results kept in memory; the least recently used go first. */
  cacheMaxEntries: number;
  /** How long a refusal (inactive, expired, wrong type…) is remembered, at most AUTH_CACHE_SECONDS. */
  refusalCacheMs: number;
  /** Introspection requests in flight at most; more wait their turn… */
  introspectionConcurrency: number;
  /** …up to this many waiting; beyond, 503 without asking the provider. */
  introspectionMaxWaiting: number;
  /** …and this many of one client (address) waiting. */
  introspectionMaxWaitingPerClient: number;
}

export const DEFAULT_OAUTH_TUNING: OAuthTuning = {
  timeoutMs: 5 * SECOND,
  jwksCooldownMs: 30 * SECOND,
  jwksMaxAgeMs: 10 * MINUTE,
  clockToleranceSeconds: 30,
  cacheMaxEntries: 10_000,
  refusalCacheMs: 10 * SECOND,
  introspectionConcurrency: 8,
  introspectionMaxWaiting: 500,
  introspectionMaxWaitingPerClient: 16,
};

export interface OAuthDeps {
  logger: Logger;
  fetch?: FetchLike;
  /** Milliseconds since the epoch; claim checks and the introspection cache read it. */
  now?: () => number;
  tuning?: Partial<OAuthTuning>;
}

export const OAUTH_CODES = {
  invalid: "UNAUTHORIZED",
  scope: "INSUFFICIENT_SCOPE",
  unavailable: "AUTH_PROVIDER_UNAVAILABLE",
} as const;

/** The provider could not be asked (unreachable, timeout, 5xx, refused our client, nonsense answer). */
export class ProviderUnavailableError extends Error {
  override readonly name = "ProviderUnavailableError";
}

export function refused(message: string): AuthVerdict {
  return { ok: false, status: 401, code: OAUTH_CODES.invalid, message };
}

export function unavailable(): AuthVerdict {
  return {
    ok: false,
    status: 503,
    code: OAUTH_CODES.unavailable,
    message: "the token provider cannot be reached to check the bearer token; try again later",
  };
}

/** Scopes from `scope` (space-separated, RFC 6749/7662) or `scp` (array, or string by some providers). */
export function tokenScopes(claims: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    const list: unknown[] = typeof v === "string" ? v.split(" ") : Array.isArray(v) ? v : [];
    for (const s of list) if (typeof s === "string" && s !== "") out.add(s);
  };
  add(claims.scope);
  add(claims.scp);
  return out;
}

/** Who the token speaks for, for logs and the verdict; never the token itself. */
export function subjectOf(claims: Record<string, unknown>): string {
  for (const name of ["sub", "username", "client_id", "azp"]) {
    const v = claims[name];
    if (typeof v === "string" && v !== "") return v;
  }
  return "oauth-client";
}

/**
 * The verdict for a token the provider vouches for: yes with the role its scopes give, or 403
 * when it lacks the required scope.
 */
export function scopeVerdict(
  claims: Record<string, unknown>,
  requiredScope: string,
  roles: RoleScopes,
): AuthVerdict {
  const scopes = tokenScopes(claims);
  if (requiredScope !== "" && !scopes.has(requiredScope)) {
    return {
      ok: false,
      status: 403,
      code: OAUTH_CODES.scope,
      message: `the bearer token lacks the required scope "${requiredScope}"`,
    };
  }
  return { ok: true, subject: subjectOf(claims), role: roleFromScopes(scopes, roles) };
}

/** `aud` may be a string or an array of strings (RFC 7519 §4.1.3). */
export function audienceIncludes(aud: unknown, audience: string): boolean {
  if (typeof aud === "string") return aud === audience;
  return Array.isArray(aud) && aud.includes(audience);
}

/**
 * Logs a provider outage once when it starts and once when it ends, so a down provider under
 * load does not write a line per request.
 */
export function createOutageReporter(logger: Logger, what: string, url: string) {
  let down = false;
  return {
    failed(error: unknown) {
      const message = coerceError(error).message;
      if (down) {
        logger.debug(`${what} still unavailable`, { url, error: message });
        return;
      }
      down = true;
      logger.warn(`${what} unavailable: protected routes answer 503 until it is back`, {
        url,
        error: message,
      });
    },
    succeeded() {
      if (!down) return;
      down = false;
      logger.info(`${what} reachable again`, { url });
    },
  };
}
