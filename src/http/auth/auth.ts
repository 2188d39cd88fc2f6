/**
 * Bearer-token authentication and roles for protected routes. Tokens are read from the
 * Authorization header only — never from `?access_token=` (which @elysiajs/bearer also accepts,
 * and which lands in access logs) — and static tokens are compared in constant time.
 *
 * Roles are ordered: `read` (GET routes) < `operate` (launch, stop, reset) < `admin` (mass
 * deletes, forced resets). A static token has the role written after it (`TOKEN:ROLE`, bare =
 * admin); an OAuth2 token has the highest role whose scope it carries (AUTH_OPERATE_SCOPE,
 * AUTH_ADMIN_SCOPE), and `read` without one.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { StaticToken } from "../../config/config.ts";
import type { Role } from "../../lib/roles.ts";

/** Who is calling: the JWT/introspection `sub`, or `token#N` for the Nth static token. */
export interface Principal {
  subject: string;
  role: Role;
}

export type AuthVerdict =
  | ({ ok: true } & Principal)
  | { ok: false; status: 401 | 403 | 503; code: string; message: string };

/** What an authenticator may know of the request besides the token. */
export interface AuthContext {
  /** The client's address: introspection shares its capacity fairly between clients. */
  client?: string;
}

export interface Authenticator {
  authenticate(token: string, context?: AuthContext): Promise<AuthVerdict>;
  /**
   * Whether the token is accepted without asking anyone (a static token, a cached verdict):
   * such a request passes the server's door even while strangers are being shed.
   */
  known?(token: string): boolean;
}

/** Scopes that raise an OAuth2 token's role; "" = no token gets that role from its scopes. */
export interface RoleScopes {
  operateScope: string;
  adminScope: string;
}

/**
 * Fail closed: a token has the highest role whose scope it carries, and `read` without one. An
 * unset scope variable gives its role to no one (before, it gave it to every accepted token:
 * with neither set, every active token of any client of the provider was admin).
 */
export function roleFromScopes(scopes: ReadonlySet<string>, roles: RoleScopes): Role {
  if (roles.adminScope !== "" && scopes.has(roles.adminScope)) return "admin";
  if (roles.operateScope !== "" && scopes.has(roles.operateScope)) return "operate";
  return "read";
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** A token was sent, and no authenticator took it (the 401 says so: not "a token is required"). */
export const NOT_ACCEPTED = "a bearer token was sent but not accepted";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Accepts any of the configured static tokens. Every token is compared, so timing says nothing. */
export function createStaticTokenAuthenticator(tokens: StaticToken[]): Authenticator {
  const digests = tokens.map((t) => digest(t.token));
  const indexOf = (token: string) => {
    const candidate = digest(token);
    let match = -1;
    digests.forEach((d, i) => {
      if (timingSafeEqual(d, candidate)) match = i;
    });
    return match;
  };
  return {
    known: (token) => indexOf(token) >= 0,
    async authenticate(token) {
      const match = indexOf(token);
      const found = tokens[match];
      return found
        ? { ok: true, subject: `token#${match + 1}`, role: found.role }
        : {
            ok: false,
            status: 401,
            code: "UNAUTHORIZED",
            message: `${NOT_ACCEPTED}: it is not one of API_TOKENS`,
          };
    },
  };
}

/** Tries each authenticator in turn: the first yes wins; a 503 (provider down) beats a 401. */
export function combineAuthenticators(list: Authenticator[]): Authenticator {
  return {
    known: (token) => list.some((a) => a.known?.(token) ?? false),
    async authenticate(token, context) {
      let worst: AuthVerdict = {
        ok: false,
        status: 401,
        code: "UNAUTHORIZED",
        message: `${NOT_ACCEPTED}: it is none of API_TOKENS, nor an OAuth2 token the provider vouches for`,
      };
      for (const a of list) {
        const v = await a.authenticate(token, context);
        if (v.ok) return v;
        if (v.status === 503 || (v.status === 403 && worst.status === 401)) worst = v;
      }
      return worst;
    },
  };
}
