/**
 * The dashboard's OAuth2 sign-in: /ui/config.json and the CSP follow AUTH_UI_CLIENT_ID /
 * AUTH_AUTHORIZE_URL; in Chromium, the authorization code flow with PKCE (S256) against a
 * local provider ends with the page calling the API with the issued token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { Elysia } from "elysia";
import type { Browser } from "playwright-core";
import { tokenUrlFor, uiRoutes } from "../../src/http/routes-ui.ts";
import { open, startChromium, type TestBrowser } from "./browser.ts";

describe("ui routes", () => {
  test("without OAuth: config.json says so, connect-src is 'self' only", async () => {
    const app = new Elysia().use(uiRoutes({ version: "9.9.9" }));
    const config = await (await app.handle(new Request("http://localhost/ui/config.json"))).json();
    expect(config).toEqual({ version: "9.9.9", oauth: null, traceUrl: null });
    const page = await app.handle(new Request("http://localhost/"));
    expect(page.headers.get("content-type")).toContain("text/html");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("script-src 'self';");
    const etag = page.headers.get("etag") ?? "";
    const again = await app.handle(
      new Request("http://localhost/ui/", { headers: { "if-none-match": etag } }),
    );
    expect(again.status).toBe(304);
    expect(
      (await app.handle(new Request("http://localhost/ui/app.js"))).headers.get("content-type"),
    ).toContain("text/javascript");
  });

  test("with OAuth: the client, both endpoints, and the token endpoint's origin in connect-src", async () => {
    const app = new Elysia().use(
      uiRoutes({
        version: "1",
        ui: {
          clientId: "dash",
          authorizeUrl: "https://sso.example.org/realms/x/protocol/openid-connect/auth",
        },
      }),
    );
    const config = await (await app.handle(new Request("http://localhost/ui/config.json"))).json();
    expect(config.oauth).toEqual({
      clientId: "dash",
      authorizeUrl: "https://sso.example.org/realms/x/protocol/openid-connect/auth",
      tokenUrl: "https://sso.example.org/realms/x/protocol/openid-connect/token",
    });
    const csp = (await app.handle(new Request("http://localhost/"))).headers.get("content-security-policy");
    expect(csp).toContain("connect-src 'self' https://sso.example.org;");
    expect(tokenUrlFor("https://gitlab.example.org/oauth/authorize?x=1")).toBe(
      "https://gitlab.example.org/oauth/token",
    );
  });
});

describe("PKCE sign-in in Chromium", () => {
  let testBrowser: TestBrowser | undefined;
  let browser: Browser;
  let provider: ReturnType<typeof Bun.serve>;
  let service: ReturnType<typeof Bun.serve>;
  const issued = `at-${randomBytes(12).toString("hex")}`;
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const seenTokens: string[] = [];

  beforeAll(async () => {
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "content-type" };
    provider = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        if (url.pathname === "/oauth/authorize") {
          const p = url.searchParams;
          if (
            p.get("response_type") !== "code" ||
            p.get("code_challenge_method") !== "S256" ||
            p.get("client_id") !== "dash"
          )
            return new Response("bad request", { status: 400 });
          const code = randomBytes(8).toString("hex");
          codes.set(code, {
            challenge: p.get("code_challenge") ?? "",
            redirectUri: p.get("redirect_uri") ?? "",
          });
          const back = new URL(p.get("redirect_uri") ?? "");
          back.searchParams.set("code", code);
          back.searchParams.set("state", p.get("state") ?? "");
          return Response.redirect(back.toString(), 302);
        }
        if (url.pathname === "/oauth/token") {
          if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
          const form = new URLSearchParams(await req.text());
          const grant = codes.get(form.get("code") ?? "");
          const verifier = form.get("code_verifier") ?? "";
          const ok =
            grant &&
            form.get("grant_type") === "authorization_code" &&
            form.get("redirect_uri") === grant.redirectUri &&
            createHash("sha256").update(verifier).digest("base64url") === grant.challenge;
          if (!ok) return Response.json({ error: "invalid_grant" }, { status: 400, headers: cors });
          return Response.json({ access_token: issued, token_type: "Bearer" }, { headers: cors });
        }
        return new Response("not found", { status: 404 });
      },
    });
    const ui = new Elysia().use(
      uiRoutes({ version: "t", ui: { clientId: "dash", authorizeUrl: `${provider.url}oauth/authorize` } }),
    );
    // The protected API, reduced to what the sign-in needs: it accepts only the issued token.
    service = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const url = new URL(req.url);
        if (url.pathname === "/jobs" || url.pathname === "/metrics") {
          const auth = req.headers.get("authorization") ?? "";
          if (url.pathname === "/metrics") return new Response("");
          seenTokens.push(auth);
          if (auth !== `Bearer ${issued}`)
            return Response.json({ error: { code: "UNAUTHORIZED", message: "no" } }, { status: 401 });
          return Response.json({ jobs: [] });
        }
        return ui.handle(req);
      },
    });
    testBrowser = await startChromium();
    browser = testBrowser.browser;
  });

  afterAll(async () => {
    await testBrowser?.close();
    service?.stop(true);
    provider?.stop(true);
  });

  test("authorization code + PKCE: the page exchanges the code and the API accepts the token", async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await open(page, String(service.url));
    await page.getByRole("button", { name: "Sign in with single sign-on" }).click();
    await page.locator("#app").waitFor({ state: "visible" });
    expect(new URL(page.url()).search).toBe(""); // the code is gone from the address bar
    expect(await page.evaluate(() => sessionStorage.getItem("item-sync.token"))).toBe(issued);
    expect(seenTokens).toContain(`Bearer ${issued}`);
    expect(violations).toEqual([]);
    await page.close();
  }, 30_000);
});
