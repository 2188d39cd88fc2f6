/**
 * The dashboard's charts in a real browser (Debian's Chromium, playwright-core) against the
 * compiled binary, RabbitMQ and the GitLab simulator, with data from real runs:
 * - during a full sync paced by GITLAB_MAX_RPS, the GitLab requests/s chart against that cap and
 *   the queue-depth chart, sampled from /metrics (serve runs no ingest workers, so the queues
 *   fill with exactly what the run published; a `worker` drains them afterwards);
 * - after an incremental run (a few pushes, two projects gone) and a stopped run, the last runs'
 *   durations and projects per run, their numbers against GET /jobs, and a bar leading to the
 *   run and its trace link (TRACE_URL_TEMPLATE).
 * Screenshots of each chart go to test/artifacts/ui/charts-*.png. No CSP violation, nothing
 * asked of any other origin.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { API_TOKEN, api, type RunningProcess, startBinary, waitFor } from "../helpers/binary.ts";
import type { GitlabSim } from "../sim/gitlab.ts";
import { ARTIFACTS, open } from "./browser.ts";
import { startUiService, type UiService } from "./service.ts";

const PROJECTS = 240;
const MAX_RPS = 30;
const TRACE_URL =
  "https://jaeger.item-sync.test/search?service=item-sync&tags=%7B%22item_sync.execution.id%22%3A%22{executionId}%22%7D&start={startUs}&end={endUs}";

let ui: UiService | undefined;
let sim: GitlabSim;
let serve: RunningProcess | undefined;
let worker: RunningProcess | undefined;
let browser: Browser | undefined;
let names: UiService["names"];

beforeAll(async () => {
  ui = await startUiService({
    prefix: "uic",
    sim: {
      projects: PROJECTS,
      monitoredFraction: 0.6,
      otherHookFraction: 0.2,
      subgroupFraction: 0,
      sharedFraction: 0,
    },
    env: {
      GITLAB_CONCURRENCY: "4",
      GITLAB_MAX_RPS: String(MAX_RPS),
      WEBHOOK_SECRET: "ui-webhook-secret-0123456789",
    },
    serveEnv: { INGEST_ENABLED: "false", TRACE_URL_TEMPLATE: TRACE_URL },
  });
  ({ sim, serve, browser, names } = ui);
}, 120_000);

afterAll(async () => {
  await worker?.kill("SIGKILL");
  await ui?.close();
});

const shot = (figure: Locator, name: string) => figure.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

/** Starts a sync with the button and waits until the page shows run `id` as the current one. */
async function startRun(page: Page, id: number): Promise<void> {
  await page.getByRole("button", { name: "Start sync" }).click();
  await page.locator("#answer", { hasText: `run #${id} started` }).waitFor();
  await page.locator("#current-summary", { hasText: `Run #${id} ` }).waitFor();
}

/** The legend's text while the cursor is over `figure`'s plot at `xFraction` of its width. */
async function legendAt(page: Page, figure: Locator, xFraction: number): Promise<string> {
  const over = figure.locator(".u-over");
  const box = await over.boundingBox();
  if (!box) throw new Error("the chart has no plot area");
  await page.mouse.move(box.x + box.width * xFraction, box.y + box.height * 0.9);
  return (await figure.locator(".u-legend").textContent()) ?? "";
}

/** Figures the page was asked not to break: CSP violations and script errors, as they happen. */
async function watch(page: Page) {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  return problems;
}

test("during a run: GitLab requests/s against GITLAB_MAX_RPS and the queue depths; then the last runs with a trace link", async () => {
  const base = serve!.url;
  const call = api(base);
  const context = await browser!.newContext({ viewport: { width: 1280, height: 1000 } });
  context.setDefaultTimeout(120_000); // a hang guard; every wait is for an event
  const page = await context.newPage();
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  const problems = await watch(page);
  await open(page, `${base}/`);
  await page.getByLabel("API token").fill(API_TOKEN);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#app").waitFor({ state: "visible" });
  // no run ended yet: no chart of runs
  expect(await page.locator("#run-charts").isVisible()).toBe(false);

  // --- run 1, full, paced at MAX_RPS; nothing consumes, so the queues hold what it published
  await startRun(page, 1);
  const live = page.locator("#live-charts");
  await live.waitFor({ state: "visible" });
  const rpsFigure = page.locator("#chart-gitlab-rps");
  const queueFigure = page.locator("#chart-queues");
  // the cap comes from the binary's /metrics, as configured
  await rpsFigure.locator(".chart-summary", { hasText: `GITLAB_MAX_RPS ${MAX_RPS}` }).waitFor();
  await page.locator("#current-status .badge", { hasText: /^COMPLETED$/ }).waitFor();
  const [first] = await jobs(call, 1);
  if (!first) throw new Error("no run");
  expect(first.status).toBe("COMPLETED");
  const published = first.counts.updatePublished;
  expect(published).toBe(PROJECTS);
  // the run ended with every update-item waiting in its queue: the page follows the queues
  await page.locator("#live-run", { hasText: `Run #${first.id} · COMPLETED (ended; following` }).waitFor();
  await queueFigure
    .locator(".chart-summary", { hasText: `${names.AMQP_UPDATE_QUEUE} ${published} ` })
    .waitFor();
  expect(await legendAt(page, queueFigure, 0.995)).toContain(`${names.AMQP_UPDATE_QUEUE}${published}`);

  // requests were counted and drawn: the peak is a rate > 0, and the cap line is at MAX_RPS
  const rpsText = (await rpsFigure.locator(".chart-summary").textContent()) ?? "";
  expect(Number(/peak ([\d.,]+)\/s/.exec(rpsText)?.[1]?.replace(",", ""))).toBeGreaterThan(0);
  expect(await legendAt(page, rpsFigure, 0.5)).toContain(`GITLAB_MAX_RPS${MAX_RPS}`);
  await page.mouse.move(0, 0);
  await shot(rpsFigure, "charts-gitlab-rps");

  // --- a worker drains the queues: the chart follows them down to 0, then stops sampling
  // (uncapped: the cap is the sync's, and draining 240 items at it would take a minute)
  worker = await startBinary(
    ["worker"],
    { ...ui!.env, GITLAB_MAX_RPS: "0", GITLAB_CONCURRENCY: "8" },
    { cwd: ui!.dir },
  );
  await queueFigure.locator(".chart-summary", { hasText: `${names.AMQP_UPDATE_QUEUE} 0 ` }).waitFor();
  await page.locator("#live-run", { hasText: `Run #${first.id} · COMPLETED (ended) ·` }).waitFor();
  await page.mouse.move(0, 0);
  await shot(queueFigure, "charts-queue-depths");
  await waitFor("the worker to write every item", async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const items = sim.state.projects.filter((p) => sim.state.itemFacts(p.id).presence === "item").length;
    return metrics.includes(`\nitem_sync_items ${items}\n`);
  });

  // --- an incremental run sees a few pushes and two projects gone
  const projects = sim.state.projects;
  for (const p of projects.slice(10, 22)) sim.state.pushCommit(p.id, { title: "edit" });
  sim.state.removeProject(projects[3]!.id);
  sim.state.removeProject(projects[4]!.id);
  await page.locator("#mode").selectOption("incremental");
  await startRun(page, first.id + 1);
  await page.locator("#current-status .badge", { hasText: /^COMPLETED$/ }).waitFor();

  // --- a third, full run held on its hook checks and stopped
  const releaseHooks = sim.hold("GET /projects/:id/hooks");
  await page.locator("#mode").selectOption("full");
  await startRun(page, first.id + 2);
  await page.getByRole("button", { name: "Stop", exact: true }).click();
  await page.locator("#answer", { hasText: `run #${first.id + 2} asked to stop` }).waitFor();
  releaseHooks();
  await page.locator("#current-status .badge", { hasText: /^STOPPED$/ }).waitFor();

  // --- the last runs: the charts' numbers are the API's
  const runs = (await jobs(call, 30)).reverse();
  expect(runs.map((e) => e.status)).toEqual(["COMPLETED", "COMPLETED", "STOPPED"]);
  const second = runs[1]!;
  expect(second.mode).toBe("incremental");
  expect(second.counts.deletePublished).toBe(2);
  expect(second.counts.updatePublished).toBeGreaterThanOrEqual(12);
  expect(second.counts.unchanged).toBeGreaterThan(0);
  const runCharts = page.locator("#run-charts");
  await runCharts
    .locator("#run-chart-data tbody tr", { hasText: `#${runs[2]!.id}` })
    .waitFor({ state: "attached" });
  await runCharts.getByText("The numbers").click();
  const rows = await runCharts
    .locator("#run-chart-data tbody tr")
    .evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent ?? "")),
    );
  const seconds = (e: Execution) => (Date.parse(e.endTime!) - Date.parse(e.startTime!)) / 1000;
  const fmt = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US"));
  expect(rows).toEqual(
    [...runs]
      .reverse()
      .map((e) => [
        `#${e.id}`,
        e.status,
        e.mode ?? "—",
        `${fmt(seconds(e))} s`,
        fmt(e.counts.updatePublished),
        fmt(e.counts.deletePublished),
        fmt(e.counts.unchanged),
        "trace",
      ]),
  );

  // the bars: the legend under the cursor names the run and its figure
  const durations = page.locator("#chart-durations");
  const changes = page.locator("#chart-changes");
  expect(await legendAt(page, durations, 0.5)).toContain(
    `#${second.id} COMPLETED: ${fmt(seconds(second))} s`,
  );
  expect(await legendAt(page, changes, 0.5)).toContain(
    `delete-item published${second.counts.deletePublished}`,
  );
  expect(await legendAt(page, changes, 0.5)).toContain(
    `update-item published${fmt(second.counts.updatePublished)}`,
  );
  await page.mouse.move(0, 0);
  await shot(durations, "charts-run-durations");
  await shot(changes, "charts-projects-per-run");

  // a bar opens its run, whose detail links to its trace
  const box = await durations.locator(".u-over").boundingBox();
  await page.mouse.click(box!.x + box!.width * 0.5, box!.y + box!.height * 0.9);
  await page.waitForURL(`**/#/runs/${second.id}`);
  const trace = page.locator("#detail-body a.trace");
  await trace.waitFor();
  const href = new URL((await trace.getAttribute("href")) ?? "");
  expect(href.host).toBe("jaeger.item-sync.test");
  expect(JSON.parse(href.searchParams.get("tags") ?? "")).toEqual({
    "item_sync.execution.id": String(second.id),
  });
  // the window covers the run, in microseconds, a minute either side
  expect(Number(href.searchParams.get("start"))).toBe((Date.parse(second.startTime!) - 60_000) * 1000);
  expect(Number(href.searchParams.get("end"))).toBe((Date.parse(second.endTime!) + 60_000) * 1000);
  expect(await trace.getAttribute("rel")).toBe("noopener noreferrer");

  // --- a phone in the dark: the charts fit and follow the colour scheme
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${base}/#/runs`);
  await runCharts.waitFor({ state: "visible" });
  await page.locator("#chart-durations .u-over").waitFor();
  await shot(runCharts, "charts-phone-dark");
  const width = await durations.locator("canvas").evaluate((c) => c.getBoundingClientRect().width);
  expect(width).toBeLessThanOrEqual(390);

  expect(problems).toEqual([]);
  expect(requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith("data:"))).toEqual([]);
  expect(requests.some((u) => u.endsWith("/ui/uplot.js"))).toBe(true);
  await context.close();
}, 300_000);

/** The newest `limit` executions, from the API. */
async function jobs(call: ReturnType<typeof api>, limit: number): Promise<Execution[]> {
  return (await call("GET", `/jobs?limit=${limit}`)).body.jobs as Execution[];
}

interface Execution {
  id: number;
  status: string;
  mode: string | null;
  startTime: string | null;
  endTime: string | null;
  counts: { updatePublished: number; deletePublished: number; unchanged: number };
}
