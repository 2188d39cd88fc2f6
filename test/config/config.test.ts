/** loadConfig's messages for typical mistakes (pure logic: no services). */
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/lib/errors.ts";

const VALID = {
  GITLAB_URL: "https://gitlab.example.org",
  GITLAB_TOKEN: "glpat-0123456789",
  GITLAB_GROUP: "imrt/items",
  WEBHOOK_URL: "https://item-sync.example.org/webhooks/gitlab",
  API_TOKENS: "0123456789abcdef0123",
  WEBHOOK_SECRET: "0123456789abcdef01234567",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...VALID, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("loadConfig mistakes", () => {
  test("a GITLAB_URL ending in /api/v4 is named as the problem, with the URL to use instead", () => {
    expect(problems({ GITLAB_URL: "https://gitlab.example.org/api/v4/" })).toEqual([
      'GITLAB_URL: "https://gitlab.example.org/api/v4/" ends with /api/v4; give GitLab\'s base URL, "https://gitlab.example.org": item-sync adds /api/v4 itself',
    ]);
    // a GitLab under a relative path keeps it
    expect(problems({ GITLAB_URL: "https://example.org/gitlab/api/v4" })[0]).toContain(
      '"https://example.org/gitlab"',
    );
    expect(problems({ GITLAB_URL: "https://example.org/gitlab" })).toEqual([]);
  });

  test("a variable one edit away from DATABASE_URL, AMQP_URL or a GITLAB_ one that is unset stops start-up, naming both", () => {
    const meant = (typo: string, real: string) =>
      `${typo} is set but ${real} is not: item-sync reads ${real} (is ${typo} a misspelling of it?); rename it`;
    // a letter missing, two letters swapped, a letter changed, a letter added
    expect(problems({ DATABSE_URL: "postgres://u:p@db:5432/imrt" })).toEqual([
      meant("DATABSE_URL", "DATABASE_URL"),
    ]);
    expect(problems({ DATABAES_URL: "postgres://u:p@db:5432/imrt" })).toEqual([
      meant("DATABAES_URL", "DATABASE_URL"),
    ]);
    expect(problems({ AMQP_URI: "amqp://rabbit" })).toEqual([meant("AMQP_URI", "AMQP_URL")]);
    expect(problems({ GITLAB_CONCURRENCYY: "4" })).toEqual([
      meant("GITLAB_CONCURRENCYY", "GITLAB_CONCURRENCY"),
    ]);
    const { GITLAB_TOKEN: _, ...noToken } = VALID;
    try {
      loadConfig({ ...noToken, GITLAB_TOEKN: "glpat-0123456789" });
      throw new Error("accepted");
    } catch (err) {
      expect((err as ConfigError).problems).toContain(meant("GITLAB_TOEKN", "GITLAB_TOKEN"));
      expect((err as Error).message).not.toContain("glpat-0123456789");
    }
    // the real one set: only the start-up warning (unknownVariableWarnings); two edits away: the same
    expect(problems({ DATABSE_URL: "x", DATABASE_URL: "sqlite:./a.db" })).toEqual([]);
    expect(problems({ DATBSE_URL: "x" })).toEqual([]);
    expect(problems({ SYNC_CRONN: "off" })).toEqual([]);
  });
});

describe("outbound URLs: https unless loopback", () => {
  const httpRefused = (name: string) =>
    expect.stringContaining(`${name}: must be an https URL (plain http only to a loopback host`);

  test("WEBHOOK_URL follows the https rule: GitLab sends the webhook secret to it", () => {
    const found = problems({ WEBHOOK_URL: "http://item-sync.example.org/webhooks/gitlab" });
    expect(found).toEqual([httpRefused("WEBHOOK_URL")]);
    expect(found[0]).toContain("GitLab sends WEBHOOK_SECRET to it with every delivery");
    expect(problems({ WEBHOOK_URL: "http://127.0.0.1:8080/webhooks/gitlab" })).toEqual([]);
    expect(
      problems({ WEBHOOK_URL: "http://item-sync.example.org/webhooks/gitlab", ALLOW_INSECURE_URLS: "true" }),
    ).toEqual([]);
  });

  test("the loopback exception is an IP literal or localhost, never a name that starts like one", () => {
    for (const host of [
      "127.evil.example",
      "127.0.0.1.evil.example",
      "localhost.evil.example",
      "127.0.0.1x",
    ]) {
      expect({
        host,
        found: problems({ GITLAB_URL: `http://${host}`, WEBHOOK_URL: `http://${host}/hook` }),
      }).toEqual({
        host,
        found: [httpRefused("GITLAB_URL"), httpRefused("WEBHOOK_URL")],
      });
    }
    for (const host of ["127.0.0.1", "127.1.2.3", "127.1", "localhost", "LOCALHOST", "[::1]", "2130706433"]) {
      expect({ host, found: problems({ GITLAB_URL: `http://${host}:8081` }) }).toEqual({ host, found: [] });
    }
  });
});

describe("API_TOKENS", () => {
  test("a token that could never be sent in a bearer header is refused, by position, never echoed", () => {
    for (const token of ["with a space-0123456789", "bang!bang!0123456789ab", "ümlaut-token-0123456789"]) {
      const found = problems({ API_TOKENS: `0123456789abcdef0123,${token}:read` });
      expect(found).toEqual([
        "API_TOKENS: entry 2: a token may hold only letters, digits and - . _ ~ + / (then = padding): it could never be sent in an Authorization: Bearer header",
      ]);
      expect(found.join()).not.toContain(token.trim());
    }
    // what RFC 6750 allows passes
    expect(problems({ API_TOKENS: "Ab0-._~+/Zz9qW3eRtY==:operate" })).toEqual([]);
  });

  test("the same token twice is refused, whatever the roles", () => {
    expect(problems({ API_TOKENS: "0123456789abcdef0123:read,0123456789abcdef0123:admin" })).toEqual([
      "API_TOKENS: entry 2: the same token as entry 1 (each token once, with one role)",
    ]);
    expect(problems({ API_TOKENS: "0123456789abcdef0123,0123456789abcdef0123" })).toHaveLength(1);
  });

  test("guessable tokens are refused: a pattern repeated, or too few different characters", () => {
    for (const token of [
      "aaaaaaaaaaaaaaaa",
      "abcdabcdabcdabcd",
      "passwordpassword",
      "0000000000000001",
      "abababababababababababab",
    ]) {
      const found = problems({ API_TOKENS: `${token}:read` });
      expect({ token, found }).toEqual({
        token,
        found: [
          "API_TOKENS: entry 1: the token is guessable (a pattern repeated, or too few different characters); generate one with openssl rand -hex 24",
        ],
      });
    }
    // random tokens of the documented kinds pass
    for (let i = 0; i < 200; i++) {
      const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex");
      expect(problems({ API_TOKENS: hex })).toEqual([]);
    }
  });

  test("a short token and a bad role are named by position", () => {
    expect(problems({ API_TOKENS: "short:read,0123456789abcdef0123:root" })).toEqual([
      "API_TOKENS: entry 1: the token must be at least 16 characters long",
      "API_TOKENS: entry 2: a role after ':' must be read, operate or admin (TOKEN:ROLE)",
    ]);
  });
});

describe("OAuth2 fails closed", () => {
  test("AUTH_INTROSPECTION_URL needs AUTH_AUDIENCE: tokens of any client would be accepted otherwise", () => {
    const introspection = {
      AUTH_INTROSPECTION_URL: "https://id.example.org/introspect",
      AUTH_CLIENT_ID: "item-sync",
      AUTH_CLIENT_SECRET: "client-secret-value",
    };
    expect(problems(introspection)).toEqual([
      "AUTH_AUDIENCE: required with AUTH_INTROSPECTION_URL (only tokens whose aud, or client_id, names it are accepted; without it an active token of any client of the provider would be)",
    ]);
    expect(problems({ ...introspection, AUTH_AUDIENCE: "item-sync-api" })).toEqual([]);
  });

  test("AUTH_CACHE_SECONDS is at most 300: a revoked token is refused within 5 minutes", () => {
    expect(problems({ AUTH_CACHE_SECONDS: "300" })).toEqual([]);
    expect(problems({ AUTH_CACHE_SECONDS: "0" })).toEqual([]);
    const found = problems({ AUTH_CACHE_SECONDS: "301" });
    expect(found).toHaveLength(1);
    expect(found[0]).toStartWith("AUTH_CACHE_SECONDS:");
    expect(found[0]).toContain("300");
  });
});

describe("TRUSTED_PROXIES", () => {
  test("addresses and CIDR ranges, IPv4 and IPv6; anything else is named", () => {
    expect(problems({ TRUSTED_PROXIES: "10.0.0.0/8, 192.0.2.7, fd00::/8, ::1" })).toEqual([]);
    expect(problems({ TRUSTED_PROXIES: "10.0.0.0/33,proxy.example,10.0.0.1/8/1" })).toEqual([
      'TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address or a CIDR range (10.0.0.0/8, fd00::/8)',
      'TRUSTED_PROXIES: "proxy.example" is not an IP address or a CIDR range (10.0.0.0/8, fd00::/8)',
      'TRUSTED_PROXIES: "10.0.0.1/8/1" is not an IP address or a CIDR range (10.0.0.0/8, fd00::/8)',
    ]);
  });
});
