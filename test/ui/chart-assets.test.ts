/**
 * The dashboard's chart assets as the binary's routes serve them: uPlot at the version
 * package.json pins, its style sheet and charts.js, each with its type, nosniff and an ETag;
 * the page loads them from itself under the unchanged CSP; config.json carries
 * TRACE_URL_TEMPLATE only when it is set.
 */
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import pkg from "../../package.json";
import { uiRoutes } from "../../src/http/routes-ui.ts";

const get = (app: { handle(r: Request): Promise<Response> }, path: string) =>
  app.handle(new Request(`http://localhost${path}`));

describe("chart assets", () => {
  const app = new Elysia().use(uiRoutes({ version: "1" }));

  test("uPlot (the pinned version), its style sheet and charts.js are served from the binary", async () => {
    const uplot = await get(app, "/ui/uplot.js");
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(uplot.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await uplot.text()).toStartWith(
      `/*! https://github.com/leeoniya/uPlot (v${pkg.dependencies.uplot}) */`,
    );
    const css = await get(app, "/ui/uplot.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await css.text()).toContain(".uplot");
    const charts = await get(app, "/ui/charts.js");
    expect(await charts.text()).toContain("window.ItemSyncCharts");
    const etag = charts.headers.get("etag") ?? "";
    const again = await app.handle(
      new Request("http://localhost/ui/charts.js", { headers: { "if-none-match": etag } }),
    );
    expect(again.status).toBe(304);
  });

  test("the page loads them from itself, before app.js, and the CSP still allows only 'self'", async () => {
    const page = await get(app, "/");
    const html = await page.text();
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(["/ui/uplot.js", "/ui/charts.js", "/ui/app.js"]);
    expect([...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1])).toEqual([
      "/ui/uplot.css",
      "/ui/style.css",
    ]);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toContain("unsafe");
  });

  test("config.json carries TRACE_URL_TEMPLATE when set, null otherwise", async () => {
    expect((await (await get(app, "/ui/config.json")).json()).traceUrl).toBeNull();
    const template =
      "https://jaeger.example.org/search?tags=%7B%22item_sync.execution.id%22%3A%22{executionId}%22%7D";
    const withTrace = new Elysia().use(uiRoutes({ version: "1", ui: { traceUrl: template } }));
    expect((await (await get(withTrace, "/ui/config.json")).json()).traceUrl).toBe(template);
  });
});
