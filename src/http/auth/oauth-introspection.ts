/**
 * Opaque bearer tokens checked by OAuth 2.0 Token Introspection (RFC 7662): a form POST of
 * `token` and `token_type_hint=access_token` to AUTH_INTROSPECTION_URL, authenticated with HTTP
 * Basic AUTH_CLIENT_ID/AUTH_CLIENT_SECRET (RFC 6749 §2.3.1).
 *
 * Cache rules: results the provider called active (accepted, or 403 for a missing scope) are
 * kept for min(AUTH_CACHE_SECONDS, the token's remaining lifetime by `exp`), keyed by the
 * SHA-256 of the token, at most `cacheMaxEntries` of them (least recently used go first).
 * Refusals (inactive, expired, wrong issuer, audience or token type) are kept apart, briefly
 * (`refusalCacheMs`, at most AUTH_CACHE_SECONDS), in a map of their own — so a spray of made-up
 * tokens cannot push good entries out — and provider failures are never cached. Concurrent
 * checks of one token share one request; at most `introspectionConcurrency` requests are in
 * flight and `introspectionMaxWaiting` wait, beyond which a check answers 503 without asking:
 * a flood of bogus tokens cannot exhaust the provider, and cached good tokens keep working.
 * The waiting is shared fairly between clients (by address, see server.ts): each may have
 * `introspectionMaxWaitingPerClient` checks waiting, and a client with few waiting takes the
 * place of the longest queue's newest — so a flood from some addresses delays a new user from
 * another by one round, instead of answering it 503 (src/lib/fair-limiter.ts).
 *
 * Fail closed: a token is accepted only when it was issued for us — its `aud` contains
 * AUTH_AUDIENCE, or, when the answer has no `aud`, its `client_id` is AUTH_AUDIENCE — and only
 * tokens that could be one of the provider's are sent at all (plausibleToken()).
 */
import { createHash } from "node:crypto";
import { coerceError } from "../../lib/errors.ts";
import { createFairLimiter } from "../../lib/fair-limiter.ts";
import { LimiterFullError } from "../../lib/limiter.ts";
import type { Authenticator, AuthVerdict } from "./auth.ts";
import {
  audienceIncludes,
  createOutageReporter,
  DEFAULT_OAUTH_TUNING,
  type OAuthDeps,
  ProviderUnavailableError,
  refused,
  scopeVerdict,
  unavailable,
} from "./oauth-claims.ts";

export interface IntrospectionOptions {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Compared with `iss` when both are present; a JWT naming another issuer is not sent. */
  issuer: string;
  /** Must be in `aud` (or be the `client_id` of an answer without `aud`): required. */
  audience: string;
  /** JWTs are checked locally (AUTH_JWKS_URL): one that failed there is not sent here. */
  jwtChecked?: boolean;
  requiredScope: string;
  /** Scopes that give role operate / admin ("" = every accepted token has it). */
  operateScope: string;
  adminScope: string;
  /** Longest time an active result is reused; 0 = ask every time. */
  cacheSeconds: number;
}

export function createIntrospectionAuthenticator(opts: IntrospectionOptions, deps: OAuthDeps): Authenticator {
  const tuning = { ...DEFAULT_OAUTH_TUNING, ...deps.tuning };
  const fetchImpl = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const toleranceMs = tuning.clockToleranceSeconds * 1000;
  const outage = createOutageReporter(deps.logger, "token introspection endpoint", opts.url);
  const cache = createVerdictCache(tuning.cacheMaxEntries);
  const refusals = createVerdictCache(tuning.cacheMaxEntries);
  const refusalTtlMs = Math.min(tuning.refusalCacheMs, opts.cacheSeconds * 1000);
  const gate = createFairLimiter({
    limit: tuning.introspectionConcurrency,
    perKey: tuning.introspectionMaxWaitingPerClient,
    total: tuning.introspectionMaxWaiting,
  });
  const inFlight = new Map<string, Promise<AuthVerdict>>();
  // RFC 6749 §2.3.1: client id and secret are form-encoded before Basic encoding.
  const basic = `Basic ${Buffer.from(
    `${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`,
  ).toString("base64")}`;

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), tuning.timeoutMs);
    try {
      const res = await fetchImpl(opts.url, {
        method: "POST",
        headers: {
          authorization: basic,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
        redirect: "manual",
        signal: controller.signal,
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        const hint =
          res.status === 401 || res.status === 403 ? " (check AUTH_CLIENT_ID and AUTH_CLIENT_SECRET)" : "";
        throw new ProviderUnavailableError(`the introspection endpoint answered HTTP ${res.status}${hint}`);
      }
      const body: unknown = await res.json();
      if (
        typeof body !== "object" ||
        body === null ||
        typeof (body as { active?: unknown }).active !== "boolean"
      ) {
        throw new ProviderUnavailableError(
          "the introspection answer has no boolean `active` (RFC 7662 §2.2)",
        );
      }
      return body as Record<string, unknown>;
    } catch (e) {
      if (e instanceof ProviderUnavailableError) throw e;
      const reason = controller.signal.aborted
        ? `timed out after ${tuning.timeoutMs} ms`
        : coerceError(e).message;
      throw new ProviderUnavailableError(`the introspection request failed: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async function check(token: string, key: string, client: string): Promise<AuthVerdict> {
    let claims: Record<string, unknown>;
    try {
      claims = await gate(client, () => introspect(token));
    } catch (e) {
      if (e instanceof LimiterFullError) {
        deps.logger.debug("introspection shed: too many checks waiting");
        return unavailable();
      }
      outage.failed(e);
      return unavailable();
    }
    outage.succeeded();
    const verdict = judge(claims);
    if (verdict.ok || verdict.status !== 401) {
      const t = now();
      const exp = typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
      const ttl = Math.min(opts.cacheSeconds * 1000, exp === undefined ? Number.POSITIVE_INFINITY : exp - t);
      if (ttl > 0) cache.set(key, verdict, t + ttl);
    } else if (refusalTtlMs > 0) {
      refusals.set(key, verdict, now() + refusalTtlMs);
    }
    return verdict;
  }

  /** The verdict on what the provider said of a token. */
  function judge(claims: Record<string, unknown>): AuthVerdict {
    if (claims.active !== true) return refused("the bearer token is not active");
    if (!accessTokenType(claims.token_type)) return refused("the bearer token is not an access token");
    const t = now();
    const exp = typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
    const nbf = typeof claims.nbf === "number" ? claims.nbf * 1000 : undefined;
    if (exp !== undefined && exp + toleranceMs <= t) return refused("the bearer token has expired");
    if (nbf !== undefined && nbf - toleranceMs > t) return refused("the bearer token is not valid yet");
    if (opts.issuer !== "" && claims.iss !== undefined && claims.iss !== opts.issuer) {
      return refused("the bearer token is from another issuer");
    }
    if (!issuedForUs(claims, opts.audience)) return refused("the bearer token is meant for another audience");
    return scopeVerdict(claims, opts.requiredScope, opts);
  }

  const keyOf = (token: string) => createHash("sha256").update(token).digest("hex");
  return {
    known(token) {
      return cache.get(keyOf(token), now())?.ok === true;
    },
    async authenticate(token, context) {
      if (!plausibleToken(token, opts)) return refused("the bearer token is not one of the provider's");
      const key = keyOf(token);
      const cached = cache.get(key, now()) ?? refusals.get(key, now());
      if (cached) return cached;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = check(token, key, context?.client ?? "unknown").finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
  };
}

/** The shortest and longest token sent to the provider; anything else is plainly not its. */
export const INTROSPECTED_TOKEN_LENGTH = { min: 16, max: 4096 } as const;

/**
 * Whether a token that failed every other check could be one of the provider's opaque tokens —
 * else it is refused without asking (a flood of junk costs no provider call): its length is in
 * INTROSPECTED_TOKEN_LENGTH, and a JWT is sent only when JWTs are not checked locally and its
 * (unverified) `iss` is AUTH_ISSUER when both are set.
 */
export function plausibleToken(
  token: string,
  opts: Pick<IntrospectionOptions, "issuer" | "jwtChecked">,
): boolean {
  if (token.length < INTROSPECTED_TOKEN_LENGTH.min || token.length > INTROSPECTED_TOKEN_LENGTH.max)
    return false;
  const parts = token.split(".");
  if (parts.length !== 3) return true;
  if (opts.jwtChecked) return false;
  if (opts.issuer === "") return true;
  try {
    const payload = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8")) as {
      iss?: unknown;
    };
    return payload.iss === undefined || payload.iss === opts.issuer;
  } catch {
    return true; // not a JWT after all: an opaque token with dots
  }
}

/**
 * RFC 7662 answers for any client's tokens: ours are those whose `aud` names AUTH_AUDIENCE, or —
 * from providers that put no `aud` in the answer — whose `client_id` is AUTH_AUDIENCE.
 */
export function issuedForUs(claims: Record<string, unknown>, audience: string): boolean {
  if (audience === "") return false;
  if (claims.aud !== undefined) return audienceIncludes(claims.aud, audience);
  return claims.client_id === audience;
}

/**
 * RFC 7662's `token_type`, when present: `Bearer` (any case) or a name of an access token; a
 * refresh or ID token is not a key to the API.
 */
const ACCESS_TOKEN_TYPES = new Set([
  "bearer",
  "access_token",
  "urn:ietf:params:oauth:token-type:access_token",
]);

export function accessTokenType(tokenType: unknown): boolean {
  return (
    tokenType === undefined ||
    (typeof tokenType === "string" && ACCESS_TOKEN_TYPES.has(tokenType.toLowerCase()))
  );
}

/** A bounded map of verdicts with their own expiry; reading an entry makes it the most recent. */
function createVerdictCache(maxEntries: number) {
  const entries = new Map<string, { verdict: AuthVerdict; expiresAt: number }>();
  return {
    get(key: string, at: number): AuthVerdict | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.expiresAt <= at) return undefined;
      entries.set(key, entry);
      return entry.verdict;
    },
    set(key: string, verdict: AuthVerdict, expiresAt: number) {
      if (maxEntries <= 0) return;
      entries.delete(key);
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      entries.set(key, { verdict, expiresAt });
    },
  };
}
