import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { base64url, SignJWT } from "jose";
import { createJobRepository } from "../../src/batch/repository.ts";
import { createJobRunner, type JobRunner } from "../../src/batch/runner.ts";
import { createJobService } from "../../src/batch/service.ts";
import type { AuthConfig } from "../../src/config/config.ts";
import { createApp } from "../../src/http/app.ts";
import {
  type AuthVerdict,
  combineAuthenticators,
  createStaticTokenAuthenticator,
} from "../../src/http/auth/auth.ts";
import { createOAuthAuthenticators, type OAuthDeps } from "../../src/http/auth/oauth.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createItemViews } from "../../src/items/item-views.ts";
import { createLogger, silentLogger } from "../../src/lib/log.ts";
import { testAppDeps } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { type OAuthServer, startOAuthServer } from "../helpers/oauth-server.ts";

let provider: OAuthServer;
beforeAll(async () => {
  provider = await startOAuthServer();
});
afterAll(async () => {
  await provider.stop();
});
afterEach(async () => {
  await provider.setMode("up");
});

const SCOPE = "items:sync";
const nowSeconds = () => Math.floor(Date.now() / 1000);

function authConfig(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    apiTokens: [],
    jwksUrl: provider.jwksUrl,
    issuer: provider.issuer,
    audience: provider.audience,
    introspectionUrl: provider.introspectionUrl,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    requiredScope: "",
    operateScope: "",
    adminScope: "",
    cacheSeconds: 60,
    ...overrides,
  };
}

/** A clock the test can move forward; the authenticators read it, the provider does not. */
function testClock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms: number) => (offset += ms) };
}

function authenticator(overrides: Partial<AuthConfig> = {}, deps: Partial<OAuthDeps> = {}) {
  return combineAuthenticators(
    createOAuthAuthenticators(authConfig(overrides), { logger: silentLogger, ...deps }),
  );
}

const jwtOnly = (overrides: Partial<AuthConfig> = {}, deps: Partial<OAuthDeps> = {}) =>
  authenticator({ introspectionUrl: "", ...overrides }, deps);
const introspectionOnly = (overrides: Partial<AuthConfig> = {}, deps: Partial<OAuthDeps> = {}) =>
  authenticator({ jwksUrl: "", ...overrides }, deps);

function expectRefused(v: AuthVerdict, status: 401 | 403 | 503, code?: string) {
  expect(v.ok).toBe(false);
  if (v.ok) return;
  expect(v.status).toBe(status);
  if (code) expect(v.code).toBe(code);
}

function opaque(): string {
  return `opaque-${crypto.randomUUID()}`;
}

describe("createOAuthAuthenticators", () => {
  test("gives one authenticator per configured provider kind", () => {
    const deps = { logger: silentLogger };
    expect(createOAuthAuthenticators(authConfig({ jwksUrl: "", introspectionUrl: "" }), deps)).toHaveLength(
      0,
    );
    expect(createOAuthAuthenticators(authConfig({ introspectionUrl: "" }), deps)).toHaveLength(1);
    expect(createOAuthAuthenticators(authConfig({ jwksUrl: "" }), deps)).toHaveLength(1);
    expect(createOAuthAuthenticators(authConfig(), deps)).toHaveLength(2);
  });
});

describe("JWT access tokens", () => {
  test("roles come from AUTH_OPERATE_SCOPE and AUTH_ADMIN_SCOPE; without a role scope a token is read", async () => {
    const scoped = jwtOnly({ operateScope: "items:operate", adminScope: "items:admin" });
    const roleOf = async (auth: typeof scoped, scope?: string) => {
      const v = await auth.authenticate(await provider.sign({ claims: scope ? { scope } : {} }));
      return v.ok ? v.role : `refused ${v.status}`;
    };
    expect(await roleOf(scoped, "items:admin")).toBe("admin");
    expect(await roleOf(scoped, "openid items:operate")).toBe("operate");
    expect(await roleOf(scoped)).toBe("read");
    // fail closed: an unset scope variable gives its role to no one
    const adminOnly = jwtOnly({ operateScope: "", adminScope: "items:admin" });
    expect(await roleOf(adminOnly)).toBe("read");
    expect(await roleOf(adminOnly, "items:operate")).toBe("read");
    const unset = jwtOnly({ operateScope: "", adminScope: "" });
    expect(await roleOf(unset)).toBe("read");
    expect(await roleOf(unset, "items:admin items:operate")).toBe("read");
  });

  test("a typ header must say access token (JWT or at+jwt, any case); none is fine", async () => {
    const auth = jwtOnly();
    for (const typ of ["JWT", "at+jwt", "AT+JWT", "application/at+jwt", null]) {
      expect((await auth.authenticate(await provider.sign({ typ }))).ok).toBe(true);
    }
    for (const typ of ["id+jwt", "logout+jwt", "JOSE", "dpop+jwt"]) {
      expectRefused(await auth.authenticate(await provider.sign({ typ })), 401);
    }
  });

  test("real RS256 and ES256 tokens signed by published keys are accepted", async () => {
    const es = await provider.newKey("ES256");
    provider.publish(es);
    const auth = jwtOnly();
    expect(await auth.authenticate(await provider.sign())).toEqual({
      ok: true,
      subject: "operator",
      role: "read",
    });
    const esToken = await provider.sign({
      key: es,
      claims: { sub: "es-user", aud: ["other", provider.audience] },
    });
    expect(await auth.authenticate(esToken)).toEqual({ ok: true, subject: "es-user", role: "read" });
  });

  test("keys are cached: many tokens, one JWKS request", async () => {
    const auth = jwtOnly();
    const before = provider.calls.jwks;
    for (let i = 0; i < 5; i++) expect((await auth.authenticate(await provider.sign())).ok).toBe(true);
    expect(provider.calls.jwks - before).toBe(1);
  });

  test("expired, not yet valid, wrong issuer, wrong audience and exp-less tokens are refused with 401", async () => {
    const auth = jwtOnly();
    const t = nowSeconds();
    const bad = [
      await provider.sign({ claims: { iat: t - 7200, exp: t - 600 } }),
      await provider.sign({ claims: { nbf: t + 600 } }),
      await provider.sign({ claims: { iss: "https://evil.example/" } }),
      await provider.sign({ claims: { aud: "someone-else" } }),
      await provider.sign({ claims: { exp: undefined } }),
    ];
    for (const token of bad) expectRefused(await auth.authenticate(token), 401, "UNAUTHORIZED");
  });

  test("a small clock skew is tolerated", async () => {
    const auth = jwtOnly();
    const t = nowSeconds();
    expect((await auth.authenticate(await provider.sign({ claims: { exp: t - 5, nbf: t + 5 } }))).ok).toBe(
      true,
    );
  });

  test("issuer and audience are not checked when not configured", async () => {
    const auth = jwtOnly({ issuer: "", audience: "" });
    const token = await provider.sign({ claims: { iss: "https://any.example/", aud: "any" } });
    expect((await auth.authenticate(token)).ok).toBe(true);
  });

  test("foreign keys, a tampered payload, alg none and HS256 are refused with 401", async () => {
    const auth = jwtOnly();
    expect((await auth.authenticate(await provider.sign())).ok).toBe(true); // keys now cached
    const foreign = await provider.newKey();
    const good = await provider.sign({ claims: { scope: "items:read" } });
    const [header, , signature] = good.split(".");
    const forgedPayload = base64url.encode(
      JSON.stringify({
        iss: provider.issuer,
        aud: provider.audience,
        sub: "admin",
        exp: nowSeconds() + 3600,
        scope: `items:read ${SCOPE}`,
      }),
    );
    const noneHeader = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    // The classic confusion attack: HMAC "signed" with the provider's public key as the secret.
    const hs256 = await new SignJWT({ iss: provider.issuer, aud: provider.audience, sub: "admin" })
      .setProtectedHeader({ alg: "HS256", kid: provider.current.kid })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(JSON.stringify(provider.current.publicJwk)));
    const bad = {
      foreignKeyPosingAsPublished: await provider.sign({ key: foreign, kid: provider.current.kid }),
      foreignKeyOwnKid: await provider.sign({ key: foreign }),
      tampered: `${header}.${forgedPayload}.${signature}`,
      algNone: `${noneHeader}.${forgedPayload}.`,
      hs256,
    };
    for (const [name, token] of Object.entries(bad)) {
      const v = await auth.authenticate(token);
      expect({ name, ok: v.ok, status: v.ok ? 200 : v.status }).toEqual({ name, ok: false, status: 401 });
    }
  });

  test("a rotated key with a new kid is accepted after the keys are fetched again", async () => {
    const auth = jwtOnly({}, { tuning: { jwksCooldownMs: 0 } });
    expect((await auth.authenticate(await provider.sign())).ok).toBe(true);
    const before = provider.calls.jwks;
    const rotated = await provider.rotate({ dropOld: true });
    const v = await auth.authenticate(
      await provider.sign({ key: rotated, claims: { sub: "after-rotation" } }),
    );
    expect(v).toEqual({ ok: true, subject: "after-rotation", role: "read" });
    expect(provider.calls.jwks - before).toBe(1);
  });

  test("unknown kids within the cooldown are refused without asking the provider again", async () => {
    const auth = jwtOnly(); // default cooldown: 30 s after a fetch
    expect((await auth.authenticate(await provider.sign())).ok).toBe(true);
    const before = provider.calls.jwks;
    for (let i = 0; i < 5; i++) {
      const stranger = await provider.newKey();
      expectRefused(await auth.authenticate(await provider.sign({ key: stranger })), 401);
    }
    expect(provider.calls.jwks).toBe(before);
  });

  test("an opaque token is refused with 401 without fetching keys, even with the provider down", async () => {
    await provider.setMode("down");
    const before = provider.calls.jwks;
    expectRefused(await jwtOnly().authenticate(opaque()), 401);
    expectRefused(await jwtOnly().authenticate("not.a.jwt"), 401);
    expect(provider.calls.jwks).toBe(before);
  });

  test("JWKS endpoint down, failing, slow or answering nonsense gives 503; back up gives 200", async () => {
    const token = await provider.sign();
    for (const mode of ["down", "error", "slow", "garbage"] as const) {
      await provider.setMode(mode);
      const auth = jwtOnly({}, { tuning: { timeoutMs: 200 } });
      expectRefused(await auth.authenticate(token), 503, "AUTH_PROVIDER_UNAVAILABLE");
      await provider.setMode("up");
      expect((await auth.authenticate(token)).ok).toBe(true);
    }
  });

  test("required scope: `scope` string or `scp` array must contain it, else 403", async () => {
    const auth = jwtOnly({ requiredScope: SCOPE });
    const ok = [
      await provider.sign({ claims: { scope: `openid ${SCOPE} profile` } }),
      await provider.sign({ claims: { scp: ["openid", SCOPE] } }),
    ];
    for (const token of ok) expect((await auth.authenticate(token)).ok).toBe(true);
    const lacking = [
      await provider.sign({ claims: { scope: "openid items:read" } }),
      await provider.sign({ claims: { scope: `${SCOPE}x` } }),
      await provider.sign(),
    ];
    for (const token of lacking) expectRefused(await auth.authenticate(token), 403, "INSUFFICIENT_SCOPE");
  });
});

describe("opaque tokens by introspection", () => {
  function activeToken(answer: Record<string, unknown> = {}): string {
    const token = opaque();
    provider.setIntrospection(token, {
      active: true,
      sub: "opaque-user",
      client_id: "cli",
      iss: provider.issuer,
      aud: provider.audience,
      exp: nowSeconds() + 3600,
      ...answer,
    });
    return token;
  }

  test("an active token is accepted; the request is an RFC 7662 form POST with Basic client auth", async () => {
    const token = activeToken();
    expect(await introspectionOnly().authenticate(token)).toEqual({
      ok: true,
      subject: "opaque-user",
      role: "read",
    });
    const last = provider.introspectionRequests.at(-1)!;
    expect(last.form).toEqual({ token, token_type_hint: "access_token" });
    expect(last.contentType).toStartWith("application/x-www-form-urlencoded");
    expect(last.authorization).toBe(
      `Basic ${Buffer.from(`${provider.clientId}:${provider.clientSecret}`).toString("base64")}`,
    );
  });

  test("inactive, unknown, expired, not yet valid, other issuer and other audience are refused with 401", async () => {
    const auth = introspectionOnly();
    const t = nowSeconds();
    const bad = [
      activeToken({ active: false }),
      opaque(),
      activeToken({ exp: t - 600 }),
      activeToken({ nbf: t + 600 }),
      activeToken({ iss: "https://evil.example/" }),
      activeToken({ aud: ["someone-else"] }),
    ];
    for (const token of bad) expectRefused(await auth.authenticate(token), 401, "UNAUTHORIZED");
  });

  test("fail closed: only tokens issued for AUTH_AUDIENCE (aud, or client_id without aud) are accepted", async () => {
    const auth = introspectionOnly();
    expect((await auth.authenticate(activeToken({ aud: ["x", provider.audience] }))).ok).toBe(true);
    // an answer without aud: its client_id decides
    expect((await auth.authenticate(activeToken({ aud: undefined, client_id: provider.audience }))).ok).toBe(
      true,
    );
    for (const answer of [
      { aud: undefined }, // another client's token, the provider saying nothing of its audience
      { aud: undefined, client_id: undefined },
      { aud: ["another-api"], client_id: provider.audience }, // aud is authoritative when present
      { aud: [] },
    ]) {
      expectRefused(await auth.authenticate(activeToken(answer)), 401);
    }
    // the issuer is checked when the answer carries one
    expect((await auth.authenticate(activeToken({ iss: undefined }))).ok).toBe(true);
    // without AUTH_AUDIENCE nothing is accepted (loadConfig refuses to start that way)
    expectRefused(await introspectionOnly({ audience: "" }).authenticate(activeToken()), 401);
  });

  test("a token plainly not the provider's is refused without asking it", async () => {
    const before = provider.calls.introspection;
    const auth = introspectionOnly();
    const jwtAndIntrospection = authenticator();
    const foreignJwt = [
      base64url.encode(JSON.stringify({ alg: "RS256" })),
      base64url.encode(JSON.stringify({ iss: "https://another-provider.example/", sub: "x" })),
      "c2ln",
    ].join(".");
    expectRefused(await auth.authenticate("short-token"), 401);
    expectRefused(await auth.authenticate(`a${"b".repeat(5000)}`), 401);
    expectRefused(await auth.authenticate(foreignJwt), 401);
    // with AUTH_JWKS_URL, a JWT that failed the local check is not sent either
    expectRefused(
      await jwtAndIntrospection.authenticate(await provider.sign({ key: await provider.newKey() })),
      401,
    );
    expect(provider.calls.introspection).toBe(before);
  });

  test("a flood from some clients delays, but does not refuse, a new user from another", async () => {
    await provider.setMode("slow");
    const auth = introspectionOnly(
      {},
      {
        tuning: {
          timeoutMs: 400,
          introspectionConcurrency: 2,
          introspectionMaxWaiting: 40,
          introspectionMaxWaitingPerClient: 8,
        },
      },
    );
    // five flooding addresses fill the waiting room
    const flood = Array.from({ length: 200 }, (_, i) =>
      auth.authenticate(opaque(), { client: `10.6.6.${i % 5}` }),
    );
    await Bun.sleep(20);
    await provider.setMode("up");
    const good = activeToken();
    const newcomer = await auth.authenticate(good, { client: "192.0.2.10" });
    expect(newcomer.ok).toBe(true);
    const verdicts = await Promise.all(flood);
    // each flooding client had at most 8 waiting: the rest were shed at once
    expect(verdicts.filter((v) => !v.ok && v.status === 503).length).toBeGreaterThanOrEqual(200 - 2 - 40);
  });

  test("wrong client credentials give 503: the provider refused us, not the token", async () => {
    const auth = introspectionOnly({ clientSecret: "not-the-secret" });
    expectRefused(await auth.authenticate(activeToken()), 503, "AUTH_PROVIDER_UNAVAILABLE");
  });

  test("active results are cached until AUTH_CACHE_SECONDS", async () => {
    const clock = testClock();
    const auth = introspectionOnly({ cacheSeconds: 60 }, { now: clock.now });
    const token = activeToken();
    const before = provider.calls.introspection;
    for (let i = 0; i < 3; i++) expect((await auth.authenticate(token)).ok).toBe(true);
    expect(provider.calls.introspection - before).toBe(1);
    clock.advance(59_000);
    expect((await auth.authenticate(token)).ok).toBe(true);
    expect(provider.calls.introspection - before).toBe(1);
    clock.advance(2_000);
    expect((await auth.authenticate(token)).ok).toBe(true);
    expect(provider.calls.introspection - before).toBe(2);
  });

  test("a cached result never outlives the token's exp", async () => {
    const clock = testClock();
    const auth = introspectionOnly({ cacheSeconds: 600 }, { now: clock.now });
    const token = activeToken({ exp: nowSeconds() + 10 });
    const before = provider.calls.introspection;
    expect((await auth.authenticate(token)).ok).toBe(true);
    expect((await auth.authenticate(token)).ok).toBe(true);
    expect(provider.calls.introspection - before).toBe(1);
    clock.advance(60_000); // past exp and the clock tolerance
    expectRefused(await auth.authenticate(token), 401);
    expect(provider.calls.introspection - before).toBe(2);
  });

  test("refusals are cached briefly, apart from good tokens; AUTH_CACHE_SECONDS=0 caches nothing", async () => {
    const inactive = activeToken({ active: false });
    const clock = testClock();
    const auth = introspectionOnly({}, { now: clock.now, tuning: { refusalCacheMs: 10_000 } });
    let before = provider.calls.introspection;
    await auth.authenticate(inactive);
    await auth.authenticate(inactive);
    expect(provider.calls.introspection - before).toBe(1);
    clock.advance(10_001);
    expectRefused(await auth.authenticate(inactive), 401);
    expect(provider.calls.introspection - before).toBe(2);

    const uncached = introspectionOnly({ cacheSeconds: 0 });
    const token = activeToken();
    before = provider.calls.introspection;
    expect((await uncached.authenticate(token)).ok).toBe(true);
    expect((await uncached.authenticate(token)).ok).toBe(true);
    expect(provider.calls.introspection - before).toBe(2);
  });

  test("a refresh or ID token (token_type) is refused; Bearer and access-token names in any case are accepted", async () => {
    const auth = introspectionOnly();
    for (const type of ["refresh_token", "urn:ietf:params:oauth:token-type:id_token", "N_A"]) {
      expectRefused(await auth.authenticate(activeToken({ token_type: type })), 401);
    }
    for (const type of [
      "Bearer",
      "bearer",
      "ACCESS_TOKEN",
      "urn:ietf:params:oauth:token-type:access_token",
    ]) {
      expect((await auth.authenticate(activeToken({ token_type: type }))).ok).toBe(true);
    }
  });

  test("5,000 bogus tokens: bounded provider calls in flight and in total; a good token still works", async () => {
    const auth = introspectionOnly(
      {},
      { tuning: { introspectionConcurrency: 4, introspectionMaxWaiting: 200 } },
    );
    const good = activeToken();
    expect((await auth.authenticate(good)).ok).toBe(true);
    const before = provider.calls.introspection;
    // 1,000 distinct made-up tokens, each tried five times, all at once
    const bogus = Array.from({ length: 1000 }, () => opaque());
    const flood = Array.from({ length: 5000 }, (_, i) => auth.authenticate(bogus[i % 1000] as string));
    // a cached good token is answered during the flood without waiting for it
    expect((await auth.authenticate(good)).ok).toBe(true);
    const verdicts = await Promise.all(flood);
    expect(verdicts.every((v) => !v.ok)).toBe(true);
    const calls = provider.calls.introspection - before;
    // at most 4 in flight + 200 waiting were let through; the rest were shed (503) unasked
    expect(calls).toBeLessThanOrEqual(204);
    expect(verdicts.filter((v) => !v.ok && v.status === 503).length).toBeGreaterThan(0);
    // the refusals are remembered: the tokens the provider refused cost nothing the second time
    const refusedTokens = new Set(
      verdicts.flatMap((v, i) => (!v.ok && v.status === 401 ? [bogus[i % 1000] as string] : [])),
    );
    expect(refusedTokens.size).toBeGreaterThan(0);
    const again = provider.calls.introspection;
    await Promise.all([...refusedTokens].map((t) => auth.authenticate(t)));
    expect(provider.calls.introspection - again).toBe(0);
    expect((await auth.authenticate(activeToken())).ok).toBe(true);
  });

  test("concurrent checks of one token share one request", async () => {
    const auth = introspectionOnly();
    const token = activeToken();
    const before = provider.calls.introspection;
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => auth.authenticate(token)));
    expect(verdicts.every((v) => v.ok)).toBe(true);
    expect(provider.calls.introspection - before).toBe(1);
  });

  test("the cache is bounded: the least recently used entry goes first", async () => {
    const auth = introspectionOnly({}, { tuning: { cacheMaxEntries: 2 } });
    const [a, b, c] = [activeToken(), activeToken(), activeToken()];
    const before = provider.calls.introspection;
    for (const token of [a, b, a, c]) await auth.authenticate(token); // c pushes out b, not a
    expect(provider.calls.introspection - before).toBe(3);
    await auth.authenticate(a);
    expect(provider.calls.introspection - before).toBe(3);
    await auth.authenticate(b);
    expect(provider.calls.introspection - before).toBe(4);
  });

  test("required scope: missing gives 403 (and is cached like any active answer)", async () => {
    const auth = introspectionOnly({ requiredScope: SCOPE });
    expect((await auth.authenticate(activeToken({ scope: `openid ${SCOPE}` }))).ok).toBe(true);
    const lacking = activeToken({ scope: "openid" });
    const before = provider.calls.introspection;
    expectRefused(await auth.authenticate(lacking), 403, "INSUFFICIENT_SCOPE");
    expectRefused(await auth.authenticate(lacking), 403, "INSUFFICIENT_SCOPE");
    expect(provider.calls.introspection - before).toBe(1);
  });

  test("introspection endpoint down, failing, slow or answering nonsense gives 503, not cached", async () => {
    const token = activeToken();
    for (const mode of ["down", "error", "slow", "garbage"] as const) {
      const auth = introspectionOnly({}, { tuning: { timeoutMs: 200 } });
      await provider.setMode(mode);
      expectRefused(await auth.authenticate(token), 503, "AUTH_PROVIDER_UNAVAILABLE");
      await provider.setMode("up");
      expect((await auth.authenticate(token)).ok).toBe(true);
    }
  });
});

describe("both kinds together", () => {
  test("a JWT is checked locally, an opaque token by introspection", async () => {
    const auth = authenticator();
    const opaqueToken = opaque();
    provider.setIntrospection(opaqueToken, { active: true, sub: "by-introspection", aud: provider.audience });
    const before = provider.calls.introspection;
    expect(await auth.authenticate(await provider.sign({ claims: { sub: "by-jwt" } }))).toEqual({
      ok: true,
      subject: "by-jwt",
      role: "read",
    });
    expect(provider.calls.introspection).toBe(before);
    expect(await auth.authenticate(opaqueToken)).toEqual({
      ok: true,
      subject: "by-introspection",
      role: "read",
    });
  });

  test("neither the client secret nor any token is ever logged", async () => {
    const lines: string[] = [];
    const logger = createLogger("debug", {}, (line) => lines.push(line));
    const jwt = await provider.sign();
    const expired = await provider.sign({ claims: { exp: nowSeconds() - 3600 } });
    const opaqueToken = opaque();
    provider.setIntrospection(opaqueToken, { active: true, sub: "x", aud: provider.audience });
    for (const mode of ["up", "down", "error", "up"] as const) {
      await provider.setMode(mode);
      const auth = authenticator({}, { logger });
      for (const token of [jwt, expired, opaqueToken]) await auth.authenticate(token);
      await authenticator({ clientSecret: `${provider.clientSecret}-wrong` }, { logger }).authenticate(
        opaqueToken,
      );
    }
    expect(lines.length).toBeGreaterThan(0);
    const log = lines.join("");
    for (const secret of [provider.clientSecret, jwt, expired, opaqueToken])
      expect(log).not.toContain(secret);
  });
});

describe("through the HTTP app", () => {
  const STATIC = "static-token-0123456789abcdef";
  let t: TestDatabase;
  let runner: JobRunner;

  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    runner = createJobRunner({
      repository: createJobRepository(t.db, { leaseMs: 60_000 }),
      jobs: [],
      leaseMs: 60_000,
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await runner.shutdown();
    await t.drop();
  });

  function buildApp(overrides: Partial<AuthConfig> = {}) {
    const auth = authConfig({ requiredScope: SCOPE, ...overrides });
    const repository = createJobRepository(t.db, { leaseMs: 60_000 });
    return createApp(
      testAppDeps({
        jobs: createJobService({ jobName: "itemSynchronizationJob", repository, runner, leaseMs: 60_000 }),
        items: createItemViews(t.db, imrtTables(t.db.dialect)),
        authenticator: combineAuthenticators([
          createStaticTokenAuthenticator([{ token: STATIC, role: "admin" }]),
          ...createOAuthAuthenticators(auth, { logger: silentLogger, tuning: { timeoutMs: 500 } }),
        ]),
      }),
    );
  }

  const getJobs = (app: ReturnType<typeof buildApp>, token: string) =>
    app.handle(new Request("http://localhost/jobs", { headers: { authorization: `Bearer ${token}` } }));

  async function errorCode(res: Response): Promise<string> {
    return ((await res.json()) as { error: { code: string } }).error.code;
  }

  test("GET /jobs: 200 for good tokens, 401 for bad ones, 403 without the scope", async () => {
    const app = buildApp();
    const opaqueToken = opaque();
    provider.setIntrospection(opaqueToken, { active: true, sub: "o", scope: SCOPE, aud: provider.audience });
    const lackingOpaque = opaque();
    provider.setIntrospection(lackingOpaque, {
      active: true,
      sub: "o",
      scope: "openid",
      aud: provider.audience,
    });

    for (const token of [STATIC, await provider.sign({ claims: { scope: SCOPE } }), opaqueToken]) {
      const res = await getJobs(app, token);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ jobs: [] });
    }

    for (const token of [
      await provider.sign({ claims: { scope: SCOPE, exp: nowSeconds() - 3600 } }),
      await provider.sign({ key: await provider.newKey(), claims: { scope: SCOPE } }),
      opaque(),
    ]) {
      const res = await getJobs(app, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toStartWith("Bearer");
      expect(await errorCode(res)).toBe("UNAUTHORIZED");
    }

    for (const token of [await provider.sign({ claims: { scope: "openid" } }), lackingOpaque]) {
      const res = await getJobs(app, token);
      expect(res.status).toBe(403);
      expect(res.headers.get("www-authenticate")).toContain("insufficient_scope");
      expect(await errorCode(res)).toBe("INSUFFICIENT_SCOPE");
    }
  });

  test("GET /jobs: 503 with Retry-After when the provider is down, for JWT and opaque tokens alike", async () => {
    const jwt = await provider.sign({ claims: { scope: SCOPE } });
    const opaqueToken = opaque();
    provider.setIntrospection(opaqueToken, { active: true, sub: "o", scope: SCOPE, aud: provider.audience });
    for (const mode of ["down", "error"] as const) {
      await provider.setMode(mode);
      const app = buildApp();
      for (const token of [jwt, opaqueToken]) {
        const res = await getJobs(app, token);
        expect(res.status).toBe(503);
        expect(res.headers.get("retry-after")).not.toBeNull();
        expect(await errorCode(res)).toBe("AUTH_PROVIDER_UNAVAILABLE");
      }
      expect((await getJobs(app, STATIC)).status).toBe(200);
      await provider.setMode("up");
      expect((await getJobs(app, jwt)).status).toBe(200);
    }
  });
});
