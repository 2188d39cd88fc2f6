/**
 * JWT access tokens signed by the OAuth2 provider, verified against its JWKS (AUTH_JWKS_URL)
 * with jose. Keys are fetched on first use, kept for `jwksMaxAgeMs`, and fetched again when a
 * token names an unknown `kid` — at most once per `jwksCooldownMs`, so a flood of made-up kids
 * cannot hammer the provider (jose's createRemoteJWKSet does both).
 *
 * Verdicts: a token that is not a JWS at all (an opaque token) gets 401 without any request,
 * so combineAuthenticators goes on to introspection; a bad signature, algorithm or claim gets
 * 401; keys needed but the provider unreachable gets 503.
 */
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
} from "jose";
import { coerceError } from "../../lib/errors.ts";
import type { Authenticator } from "./auth.ts";
import {
  createOutageReporter,
  DEFAULT_OAUTH_TUNING,
  type OAuthDeps,
  ProviderUnavailableError,
  refused,
  scopeVerdict,
  unavailable,
} from "./oauth-claims.ts";

/** Asymmetric only: an HS* token could be signed with the public key, `none` with nothing. */
export const JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

export interface JwtOptions {
  jwksUrl: string;
  /** Checked against `iss` when not empty. */
  issuer: string;
  /** Must be in `aud` when not empty. */
  audience: string;
  requiredScope: string;
  /** Scopes that give role operate / admin ("" = every accepted token has it). */
  operateScope: string;
  adminScope: string;
}

/**
 * A `typ` header, when present, must say access token (RFC 9068 `at+jwt`) or plain `JWT`: an ID
 * token or another signed object of the same provider is not a key to the API.
 */
const ACCESS_TOKEN_TYPES = new Set(["jwt", "at+jwt", "application/at+jwt"]);

export function jwtTypeAccepted(token: string): boolean {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    return true; // not decodable: jwtVerify refuses it with its own reason
  }
  return typ === undefined || (typeof typ === "string" && ACCESS_TOKEN_TYPES.has(typ.toLowerCase()));
}

/** Three base64url segments, the signature possibly empty (so `alg: none` is refused by jose, visibly). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function createJwtAuthenticator(opts: JwtOptions, deps: OAuthDeps): Authenticator {
  const tuning = { ...DEFAULT_OAUTH_TUNING, ...deps.tuning };
  const fetchImpl = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const outage = createOutageReporter(deps.logger, "JWKS endpoint", opts.jwksUrl);

  /**
   * jose's fetch, made to fail with ProviderUnavailableError for every way the provider can let
   * us down (refused connection, timeout, non-200, not a key set), so those become 503 and
   * nothing else does.
   */
  async function fetchKeys(url: string, init: RequestInit): Promise<Response> {
    let text: string;
    try {
      const res = await fetchImpl(url, init);
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        throw new ProviderUnavailableError(`the JWKS endpoint answered HTTP ${res.status}`);
      }
      text = await res.text();
    } catch (e) {
      if (e instanceof ProviderUnavailableError) throw e;
      throw new ProviderUnavailableError(`the JWKS request failed: ${coerceError(e).message}`);
    }
    let keys: unknown;
    try {
      keys = (JSON.parse(text) as { keys?: unknown }).keys;
    } catch {
      keys = undefined;
    }
    if (!Array.isArray(keys))
      throw new ProviderUnavailableError("the JWKS endpoint did not answer a key set");
    outage.succeeded();
    return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
  }

  const keySet = createRemoteJWKSet(new URL(opts.jwksUrl), {
    timeoutDuration: Math.round(tuning.timeoutMs),
    cooldownDuration: tuning.jwksCooldownMs,
    cacheMaxAge: tuning.jwksMaxAgeMs,
    [customFetch]: fetchKeys,
  });

  return {
    async authenticate(token) {
      if (!COMPACT_JWS.test(token)) return refused("the bearer token is not a JWT");
      if (!jwtTypeAccepted(token)) return refused("the bearer token is not an access token (typ)");
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keySet, {
          algorithms: [...JWT_ALGORITHMS],
          issuer: opts.issuer || undefined,
          audience: opts.audience || undefined,
          clockTolerance: tuning.clockToleranceSeconds,
          currentDate: new Date(now()),
          requiredClaims: ["exp"],
        }));
      } catch (e) {
        if (isProviderFailure(e)) {
          outage.failed(e);
          return unavailable();
        }
        // The reason is jose's error code (e.g. ERR_JWT_EXPIRED); the token is never logged.
        deps.logger.debug("JWT refused", { reason: (e as { code?: string })?.code ?? "unknown" });
        return refused("the bearer token is not valid");
      }
      return scopeVerdict(payload, opts.requiredScope, opts);
    },
  };
}

function isProviderFailure(e: unknown): boolean {
  return (
    e instanceof ProviderUnavailableError ||
    e instanceof errors.JWKSTimeout ||
    e instanceof errors.JWKSInvalid
  );
}
