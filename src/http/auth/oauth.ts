/**
 * Bearer tokens from an OAuth2 provider, beside the static API_TOKENS: JWT access tokens checked
 * against the provider's keys (oauth-jwt.ts) and opaque tokens checked by introspection
 * (oauth-introspection.ts). main.ts puts these after the static authenticator in
 * combineAuthenticators, which takes the first yes and prefers 503 over 401.
 */
import type { AuthConfig } from "../../config/config.ts";
import type { Authenticator } from "./auth.ts";
import type { OAuthDeps } from "./oauth-claims.ts";
import { createIntrospectionAuthenticator } from "./oauth-introspection.ts";
import { createJwtAuthenticator } from "./oauth-jwt.ts";

export type { OAuthDeps, OAuthTuning } from "./oauth-claims.ts";

/**
 * Zero, one or two authenticators: JWT when AUTH_JWKS_URL is set, introspection when
 * AUTH_INTROSPECTION_URL is set. JWT comes first: it is checked locally, and it answers 401
 * without asking anyone for a token that is not a JWT, so opaque tokens reach introspection.
 */
export function createOAuthAuthenticators(auth: AuthConfig, deps: OAuthDeps): Authenticator[] {
  const list: Authenticator[] = [];
  if (auth.jwksUrl !== "") {
    list.push(
      createJwtAuthenticator(
        {
          jwksUrl: auth.jwksUrl,
          issuer: auth.issuer,
          audience: auth.audience,
          requiredScope: auth.requiredScope,
          operateScope: auth.operateScope,
          adminScope: auth.adminScope,
        },
        deps,
      ),
    );
  }
  if (auth.introspectionUrl !== "") {
    list.push(
      createIntrospectionAuthenticator(
        {
          url: auth.introspectionUrl,
          clientId: auth.clientId,
          clientSecret: auth.clientSecret,
          issuer: auth.issuer,
          audience: auth.audience,
          jwtChecked: auth.jwksUrl !== "",
          requiredScope: auth.requiredScope,
          operateScope: auth.operateScope,
          adminScope: auth.adminScope,
          cacheSeconds: auth.cacheSeconds,
        },
        deps,
      ),
    );
  }
  return list;
}
