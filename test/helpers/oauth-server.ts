/**
 * A small OAuth2 provider for tests, over real HTTP on 127.0.0.1: a JWKS endpoint publishing
 * real generated keys (rotatable), a token signer, and an RFC 7662 introspection endpoint that
 * requires HTTP Basic client credentials. It can be switched down (port closed), to 5xx, to
 * slow answers or to a non-JSON answer, and it counts the requests each endpoint received.
 */
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

export type ProviderMode = "up" | "down" | "error" | "slow" | "garbage";

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface SignOptions {
  /** Defaults to the current signing key. */
  key?: SigningKey;
  /** Overrides the key's kid in the header (e.g. to pose as a published key). */
  kid?: string;
  /** Claims besides the defaults (iss, aud, sub, iat, exp in an hour). */
  claims?: JWTPayload;
  /** The `typ` header; default `at+jwt`, null for none. */
  typ?: string | null;
}

export interface IntrospectionRequest {
  authorization: string | null;
  contentType: string | null;
  form: Record<string, string>;
}

export interface OAuthServer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly introspectionUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly calls: { jwks: number; introspection: number };
  readonly introspectionRequests: IntrospectionRequest[];
  /** The key new tokens are signed with. */
  current: SigningKey;
  setMode(mode: ProviderMode): Promise<void>;
  /** How long "slow" mode holds each answer. */
  slowMs: number;
  /** A new key pair, not published. */
  newKey(alg?: "RS256" | "ES256" | "PS256"): Promise<SigningKey>;
  /** Publishes a new key and signs with it from now on; `dropOld` unpublishes the others. */
  rotate(opts?: { dropOld?: boolean }): Promise<SigningKey>;
  publish(key: SigningKey): void;
  sign(opts?: SignOptions): Promise<string>;
  /** What introspection answers for `token` (unknown tokens are `{active:false}`). */
  setIntrospection(token: string, answer: Record<string, unknown>): void;
  stop(): Promise<void>;
}

const CLIENT_ID = "item-sync";
const CLIENT_SECRET = "client-secret-9f8e7d6c5b4a";

export async function startOAuthServer(): Promise<OAuthServer> {
  const published: SigningKey[] = [];
  const answers = new Map<string, Record<string, unknown>>();
  const calls = { jwks: 0, introspection: 0 };
  const introspectionRequests: IntrospectionRequest[] = [];
  const holds = new Set<{ timer: ReturnType<typeof setTimeout>; release: () => void }>();
  let mode: ProviderMode = "up";
  let keyCounter = 0;

  async function newKey(alg: "RS256" | "ES256" | "PS256" = "RS256"): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${++keyCounter}-${crypto.randomUUID().slice(0, 8)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    return { kid, alg, privateKey, publicJwk };
  }

  /** Waits `ms`, or less when the server stops, so no timer outlives the test. */
  function hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => entry.release(), ms),
        release: () => {
          clearTimeout(entry.timer);
          holds.delete(entry);
          resolve();
        },
      };
      holds.add(entry);
    });
  }

  async function fault(): Promise<Response | undefined> {
    if (mode === "error") return Response.json({ error: "server_error" }, { status: 503 });
    if (mode === "garbage") return new Response("<html>maintenance</html>", { status: 200 });
    if (mode === "slow") await hold(api.slowMs);
    return undefined;
  }

  async function handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === "/jwks" && req.method === "GET") {
      calls.jwks++;
      return (await fault()) ?? Response.json({ keys: published.map((k) => k.publicJwk) });
    }
    if (path === "/introspect" && req.method === "POST") {
      calls.introspection++;
      const form = Object.fromEntries(new URLSearchParams(await req.text()));
      const authorization = req.headers.get("authorization");
      introspectionRequests.push({ authorization, contentType: req.headers.get("content-type"), form });
      const failed = await fault();
      if (failed) return failed;
      if (!basicMatches(authorization)) {
        return Response.json(
          { error: "invalid_client" },
          { status: 401, headers: { "www-authenticate": 'Basic realm="oauth"' } },
        );
      }
      return Response.json(answers.get(form.token ?? "") ?? { active: false });
    }
    return new Response("not found", { status: 404 });
  }

  let server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  const port = server.port;
  const base = `http://127.0.0.1:${port}`;

  const api: OAuthServer = {
    issuer: `${base}/`,
    audience: "item-sync-api",
    jwksUrl: `${base}/jwks`,
    introspectionUrl: `${base}/introspect`,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    calls,
    introspectionRequests,
    current: await newKey(),
    slowMs: 3000,
    async setMode(next) {
      if (next === mode) return;
      if (next === "down") await server.stop(true);
      else if (mode === "down") server = Bun.serve({ hostname: "127.0.0.1", port, fetch: handle });
      mode = next;
    },
    newKey,
    async rotate(opts = {}) {
      const key = await newKey();
      if (opts.dropOld) published.length = 0;
      published.push(key);
      api.current = key;
      return key;
    },
    publish(key) {
      published.push(key);
    },
    async sign(opts = {}) {
      const key = opts.key ?? api.current;
      const seconds = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: api.issuer,
        aud: api.audience,
        sub: "operator",
        iat: seconds,
        exp: seconds + 3600,
        ...opts.claims,
      })
        .setProtectedHeader({
          alg: key.alg,
          kid: opts.kid ?? key.kid,
          ...(opts.typ === null ? {} : { typ: opts.typ ?? "at+jwt" }),
        })
        .sign(key.privateKey);
    },
    setIntrospection(token, answer) {
      answers.set(token, answer);
    },
    async stop() {
      for (const h of [...holds]) h.release();
      if (mode !== "down") await server.stop(true);
    },
  };
  published.push(api.current);
  return api;
}

function basicMatches(header: string | null): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? "");
  if (!match?.[1]) return false;
  const [id, secret] = Buffer.from(match[1], "base64").toString("utf8").split(":");
  return decodeURIComponent(id ?? "") === CLIENT_ID && decodeURIComponent(secret ?? "") === CLIENT_SECRET;
}
