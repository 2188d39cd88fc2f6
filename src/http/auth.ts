/**
 * Bearer-token authentication for protected routes. Tokens are read from the Authorization
 * header only — never from `?access_token=` (which @elysiajs/bearer also accepts, and which
 * lands in access logs) — and static tokens are compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type AuthVerdict =
  | { ok: true; subject: string }
  | { ok: false; status: 401 | 403 | 503; code: string; message: string };

export interface Authenticator {
  authenticate(token: string): Promise<AuthVerdict>;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Accepts any of the configured static tokens. Every token is compared, so timing says nothing. */
export function createStaticTokenAuthenticator(tokens: string[]): Authenticator {
  const digests = tokens.map(digest);
  return {
    async authenticate(token) {
      const candidate = digest(token);
      let match = -1;
      digests.forEach((d, i) => {
        if (timingSafeEqual(d, candidate)) match = i;
      });
      return match >= 0
        ? { ok: true, subject: `static-token-${match + 1}` }
        : { ok: false, status: 401, code: "UNAUTHORIZED", message: "the bearer token is not valid" };
    },
  };
}

/** Tries each authenticator in turn: the first yes wins; a 503 (provider down) beats a 401. */
export function combineAuthenticators(list: Authenticator[]): Authenticator {
  return {
    async authenticate(token) {
      let worst: AuthVerdict = {
        ok: false,
        status: 401,
        code: "UNAUTHORIZED",
        message: "the bearer token is not valid",
      };
      for (const a of list) {
        const v = await a.authenticate(token);
        if (v.ok) return v;
        if (v.status === 503 || (v.status === 403 && worst.status === 401)) worst = v;
      }
      return worst;
    },
  };
}
