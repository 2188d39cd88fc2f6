/**
 * The operator dashboard in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, against the compiled binary (`dist/item-sync serve`), RabbitMQ and the GitLab
 * simulator. Signs in with a token, runs a sync to 100% and COMPLETED, stops a slow second run,
 * shows the 409 of a second start, force-resets a run, opens an item. Screenshots of each state
 * go to test/artifacts/ui/; the page's load time is printed, not asserted.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { API_TOKEN, type RunningProcess } from "../helpers/binary.ts";
import type { GitlabSim } from "../sim/gitlab.ts";
import { ARTIFACTS, open } from "./browser.ts";
import { startUiService, type UiService } from "./service.ts";

const PROJECTS = 300;

let ui: UiService | undefined;
let sim: GitlabSim;
let serve: RunningProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  ui = await startUiService({
    prefix: "ui",
    sim: {
      projects: PROJECTS,
      monitoredFraction: 0.5,
      otherHookFraction: 0.2,
      subgroupFraction: 0,
      sharedFraction: 0,
    },
    env: {
      GITLAB_CONCURRENCY: "4",
      WEBHOOK_SECRET: "ui-webhook-secret-0123456789",
      API_TOKENS: `${API_TOKEN},${READ_TOKEN}:read`,
    },
  });
  ({ sim, serve, browser } = ui);
}, 120_000); // a hang guard: bun's 5 s default for hooks is too short for a binary and a browser on a loaded machine

afterAll(async () => {
  await ui?.close();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

const READ_TOKEN = "ui-read-only-token-0123456789";

const currentStatus = (page: Page) => page.locator("#current-status .badge");

test("sign in, run to 100%, 409 on a second start, stop, force reset, open an item", async () => {
  const base = serve!.url;
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  // Only a hang guard: every wait below is for an event, however slow the machine.
  context.setDefaultTimeout(120_000);
  const page = await context.newPage();
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.accept();
  });

  // --- load time, from the binary: the load event by navigation timing, over a few fresh pages
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const probe = await context.newPage();
    await open(probe, `${base}/`);
    loads.push(
      await probe.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        return nav.loadEventEnd - nav.startTime;
      }),
    );
    await probe.close();
  }
  const sorted = [...loads].sort((a, b) => a - b);
  console.log(
    `dashboard load event from the binary (ms): first ${loads[0]?.toFixed(1)}, median ${sorted[2]?.toFixed(1)}, min ${sorted[0]?.toFixed(1)}, max ${sorted[4]?.toFixed(1)}`,
  );
  await open(page, `${base}/`);

  // --- only a sign-in without a token; a wrong token is refused by the API
  await expect(page.locator("#sign-in").isVisible()).resolves.toBe(true);
  await expect(page.locator("#app").isVisible()).resolves.toBe(false);
  await shot(page, "01-sign-in");
  await page.getByLabel("API token").fill("not-a-valid-token-at-all");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#sign-in-error", { hasText: "401" }).waitFor();
  await page.getByLabel("API token").fill(API_TOKEN);
  await page.keyboard.press("Enter");
  await page.locator("#app").waitFor({ state: "visible" });
  expect(await page.evaluate(() => sessionStorage.getItem("item-sync.token"))).toBe(API_TOKEN);

  // --- first run: progress bar to 100%, COMPLETED in the history
  await page.getByRole("button", { name: "Start sync" }).click();
  await page.locator("#answer", { hasText: "202" }).waitFor();
  await shot(page, "02-started");
  await page.locator('#progress[aria-valuenow="100"]').waitFor();
  // the bar reaches 100% once every project is read; the run completes after its last writes
  await currentStatus(page)
    .filter({ hasText: /^COMPLETED$/ })
    .waitFor();
  await page.locator("#history tbody tr", { hasText: "COMPLETED" }).first().waitFor();
  expect(await page.locator("#progress-label").textContent()).toContain(`${PROJECTS} projects handled`);
  // auto with no full run before: a full scan, shown with its mode and the unchanged count
  expect(await page.locator("#history tbody tr", { hasText: "COMPLETED" }).first().textContent()).toContain(
    "full",
  );
  expect(await page.locator("#current-figures").textContent()).toContain("Unchanged");
  await shot(page, "03-completed");

  // --- second, slow run: live progress against the listing's total, then 409, then stop.
  // GitLab answers the first listing page and holds every later listing request until the stop
  // is asked: the first page's projects are handled (a rate, an ETA), the run cannot finish.
  sim.set({ latencyMs: 150, fault429Rate: 0.05, retryAfterSeconds: 1 });
  let releaseListing = () => {};
  const offListing = sim.onRequest((info) => {
    if (info.route === "GET /groups/:id/projects" && !/[?&]page=1(&|$)/.test(info.url)) {
      releaseListing = sim.hold(info.route);
      offListing();
    }
  });
  await page.getByRole("button", { name: "Start sync" }).click();
  await page.locator("#current-status .badge", { hasText: "STARTED" }).waitFor();
  // live progress: projects handled out of the total GitLab gave with the first page (the
  // first run's count would be the estimate, marked ≈, were there none), with a rate and an ETA
  await page
    .locator("#progress-label", {
      hasText: new RegExp(`^[1-9][0-9]* / ≈?${PROJECTS} projects handled .* ETA [0-9]`),
    })
    .waitFor();
  await page.locator("#current-figures", { hasText: "GitLab requests" }).waitFor();
  await shot(page, "04-running");

  await page.getByRole("button", { name: "Start sync" }).click();
  const conflict = page.locator("#answer", { hasText: "409" });
  await conflict.waitFor();
  expect(await conflict.textContent()).toMatch(/already running/);
  await conflict.getByRole("link", { name: /Open run #\d+/ }).waitFor();
  await shot(page, "05-conflict-409");

  await page.getByRole("button", { name: "Stop", exact: true }).click();
  await page.locator("#answer", { hasText: "asked to stop" }).waitFor();
  offListing();
  releaseListing(); // the pages already asked for arrive; the run stops at its checkpoint
  await page.locator("#current-status .badge", { hasText: /^STOPPED$/ }).waitFor();
  await page.locator("#history tbody tr", { hasText: "STOPPED" }).first().waitFor();
  await shot(page, "06-stopped");

  // --- a third run, held like the second: reset answers 409 while its heartbeat is fresh; force
  // asks, then ABANDONED
  const releaseHooks = sim.hold("GET /projects/:id/hooks");
  await page.getByRole("button", { name: "Start sync" }).click();
  await page.locator("#current-status .badge", { hasText: "STARTED" }).waitFor();
  await page.getByRole("button", { name: "Reset", exact: true }).click();
  const fresh = page.locator("#answer", { hasText: "JOB_HEARTBEAT_FRESH" });
  await fresh.waitFor();
  await shot(page, "07-reset-409");
  await fresh.getByRole("button", { name: /Force reset/ }).click();
  await page.locator("#answer", { hasText: "ABANDONED" }).waitFor();
  expect(dialogs.length).toBe(1);
  await page.locator("#current-status .badge", { hasText: "ABANDONED" }).waitFor();
  releaseHooks();
  sim.set({ latencyMs: 0, fault429Rate: 0 });

  // --- history filter and one run's detail
  await page.getByLabel("Status").selectOption("COMPLETED");
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll("#history tbody tr"));
    return rows.length === 1 && rows[0]?.textContent?.includes("COMPLETED");
  });
  await page.locator("#history tbody tr a").first().click();
  await page.locator("#detail-body", { hasText: "Checkpoint" }).waitFor();
  expect(await page.locator("#detail-body").textContent()).toContain("itemSynchronizationStep");
  expect(await page.locator("#detail-body").textContent()).toContain(`Runner (host/pod)${hostname()}`);
  expect(await page.locator("#detail-body").textContent()).toMatch(/Mode\s*full/);
  await shot(page, "08-run-detail");
  await page.getByLabel("Status").selectOption("");

  // --- items: search by path, open one with its commit and history
  await page.getByRole("link", { name: "Items" }).click();
  const target = sim.state.projects[7]!;
  const path = sim.state.fullPathOf(target);
  const commit = sim.state.commitsOf(target)[0]!.id;
  await page.getByLabel("Path, item id or project id").fill(target.path.toUpperCase());
  // the workers may still be ingesting: search until the item is there
  for (;;) {
    await page.getByRole("button", { name: "Search" }).click();
    await page.locator("#items-note", { hasText: "item" }).waitFor();
    if (await page.locator("#items tbody tr", { hasText: path }).count()) break;
    await Bun.sleep(200);
  }
  await page.getByRole("link", { name: String(target.id), exact: true }).click();
  await page.locator("#item-body", { hasText: commit }).waitFor();
  expect(await page.locator("#item-history tbody tr").count()).toBeGreaterThan(0);
  await shot(page, "09-item");

  // --- a phone, dark scheme
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.getByRole("link", { name: "Runs" }).click();
  await page.locator("#history tbody tr", { hasText: "COMPLETED" }).first().waitFor();
  await shot(page, "10-phone-dark");

  // --- nothing but the service was asked for anything
  const outside = requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith("data:"));
  expect(outside).toEqual([]);
  expect(requests.some((u) => u.endsWith("/ui/app.js"))).toBe(true);
  await context.close();
}, 240_000);

test("a read-only token sees the runs and who launched them, without the controls it may not use", async () => {
  const base = serve!.url;
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await open(page, `${base}/`);
  await page.getByLabel("API token").fill(READ_TOKEN);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // the first test's runs were launched by the admin token, the first of API_TOKENS
  await page.locator("#current-summary", { hasText: "by token#1" }).waitFor();
  for (const id of ["start", "stop", "reset"]) expect(await page.locator(`#${id}`).isVisible()).toBe(false);
  expect(await page.locator("#allow-mass-delete").isVisible()).toBe(false);
  await shot(page, "11-read-only");
  await context.close();
}, 30_000);
