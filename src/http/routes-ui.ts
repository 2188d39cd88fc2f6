/**
 * The operator dashboard: one HTML page, its scripts (app.js, charts.js and the charting library
 * uPlot, pinned in package.json) and style sheets, embedded in the binary as text and served at
 * `/` and `/ui/…` without authentication — the page signs in and every decision stays with the
 * protected API. `/ui/config.json` tells the page whether an OAuth2 sign-in (authorization code +
 * PKCE) is configured and where a run's trace is (TRACE_URL_TEMPLATE).
 */
import { Elysia } from "elysia";
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import appJs from "../ui/app.js" with { type: "text" };
import chartsJs from "../ui/charts.js" with { type: "text" };
import indexHtmlModule from "../ui/index.html" with { type: "text" };
import styleCss from "../ui/style.css" with { type: "text" };

// bun-types declares *.html as an HTML bundle; imported as text it is the file's contents.
const indexHtml = indexHtmlModule as unknown as string;

export interface UiAuthSettings {
  /** AUTH_UI_CLIENT_ID: the dashboard's public OAuth2 client. */
  clientId?: string;
  /** AUTH_AUTHORIZE_URL: the provider's authorization endpoint. */
  authorizeUrl?: string;
  /** TRACE_URL_TEMPLATE: a run's trace in the tracing UI (src/lib/trace-url.ts); empty: none. */
  traceUrl?: string;
}

export interface UiDeps {
  version: string;
  ui?: UiAuthSettings;
}

/** What the page learns about sign-in; nothing secret. */
export interface UiConfig {
  version: string;
  oauth: { clientId: string; authorizeUrl: string; tokenUrl: string } | null;
  /** The page expands its placeholders per run; null: no trace link. */
  traceUrl: string | null;
}

/**
 * The token endpoint beside the authorization endpoint: its last path segment replaced by
 * `token` (GitLab /oauth/authorize → /oauth/token, Keycloak …/openid-connect/auth → …/token,
 * Okta and Entra ID …/authorize → …/token).
 */
export function tokenUrlFor(authorizeUrl: string): string {
  const url = new URL(authorizeUrl);
  url.pathname = url.pathname.replace(/[^/]*$/, "token");
  url.search = "";
  url.hash = "";
  return url.toString();
}

export function uiConfig(deps: UiDeps): UiConfig {
  const clientId = deps.ui?.clientId ?? "";
  const authorizeUrl = deps.ui?.authorizeUrl ?? "";
  return {
    version: deps.version,
    oauth:
      clientId !== "" && authorizeUrl !== ""
        ? { clientId, authorizeUrl, tokenUrl: tokenUrlFor(authorizeUrl) }
        : null,
    traceUrl: deps.ui?.traceUrl ? deps.ui.traceUrl : null,
  };
}

/** No inline script or style, nothing from elsewhere but the token endpoint (for PKCE). */
export function contentSecurityPolicy(config: UiConfig): string {
  const connect = ["'self'"];
  if (config.oauth) connect.push(new URL(config.oauth.tokenUrl).origin);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect.join(" ")}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

interface Asset {
  body: string;
  type: string;
  etag: string;
}

const asset = (body: string, type: string): Asset => ({
  body,
  type,
  etag: `"${Bun.hash(body).toString(36)}"`,
});

export function uiRoutes(deps: UiDeps) {
  const config = uiConfig(deps);
  const csp = contentSecurityPolicy(config);
  const configJson = JSON.stringify(config);
  const page = asset(indexHtml, "text/html; charset=utf-8");
  const script = asset(appJs, "text/javascript; charset=utf-8");
  const charts = asset(chartsJs, "text/javascript; charset=utf-8");
  const uplot = asset(uplotJs, "text/javascript; charset=utf-8");
  const style = asset(styleCss, "text/css; charset=utf-8");
  const uplotStyle = asset(uplotCss, "text/css; charset=utf-8");

  // Revalidated on every load (no-cache + ETag): a new binary is picked up at once, and an
  // unchanged asset costs a 304.
  const serve = (a: Asset, request: Request, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = {
      "content-type": a.type,
      "cache-control": "no-cache",
      etag: a.etag,
      "x-content-type-options": "nosniff",
      ...extra,
    };
    if (request.headers.get("if-none-match") === a.etag) return new Response(null, { status: 304, headers });
    return new Response(a.body, { headers });
  };
  const pageHeaders = {
    "content-security-policy": csp,
    // the OAuth2 callback URL carries a code: never send it elsewhere
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  };
  const hidden = { hide: true };

  return new Elysia()
    .get("/", ({ request }) => serve(page, request, pageHeaders), {
      detail: { summary: "The operator dashboard (signs in itself)", tags: ["ui"] },
    })
    .get("/ui", ({ request }) => serve(page, request, pageHeaders), { detail: hidden })
    .get("/ui/", ({ request }) => serve(page, request, pageHeaders), { detail: hidden })
    .get("/ui/app.js", ({ request }) => serve(script, request), { detail: hidden })
    .get("/ui/style.css", ({ request }) => serve(style, request), { detail: hidden })
    .get("/ui/charts.js", ({ request }) => serve(charts, request), { detail: hidden })
    .get("/ui/uplot.js", ({ request }) => serve(uplot, request), { detail: hidden })
    .get("/ui/uplot.css", ({ request }) => serve(uplotStyle, request), { detail: hidden })
    .get(
      "/ui/config.json",
      () =>
        new Response(configJson, {
          headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" },
        }),
      { detail: { summary: "The dashboard's sign-in settings (OAuth2 client, if any)", tags: ["ui"] } },
    );
}
