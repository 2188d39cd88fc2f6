/**
 * The dashboard's items view in a real browser (Debian's Chromium via playwright-core) against the
 * compiled binary (`dist/item-sync serve` with its ingest workers), RabbitMQ and the GitLab
 * simulator: the IMRT columns (item id, type, subject, grade, workflow status, days in status),
 * the search by IMRT item id, an item's detail with its commit history and authors, its status
 * block and problem, the "stale only" filter, and *Sync this item* really syncing (the row's
 * commit moves to GitLab's head) — shown to an operate token only. Screenshots go to
 * test/artifacts/ui/.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  API_TOKEN,
  api,
  type RunningProcess,
  waitFor,
  waitForExecution,
  waitForItemsAtHead,
} from "../helpers/binary.ts";
import type { GitlabSim } from "../sim/gitlab.ts";
import { ARTIFACTS, open } from "./browser.ts";
import { startUiService, type UiService } from "./service.ts";

const READ_TOKEN = "ui-items-read-token-0123456789";

interface ApiItem {
  projectId: number;
  projectPath: string;
  itemId: number | null;
  itemType: string | null;
  subject: string | null;
  grade: string | null;
  workflowStatus: string | null;
  workflowStatusSetAt: string | null;
  currentCommitHash: string | null;
  history?: { commitHash: string; author: string }[];
  status: { stale: boolean; reasons: string[] };
}

let ui: UiService | undefined;
let sim: GitlabSim;
let serve: RunningProcess | undefined;
let browser: Browser | undefined;
let call: ReturnType<typeof api>;

const item = async (projectId: number) =>
  (await call("GET", `/items/${projectId}`)).body as unknown as ApiItem;

beforeAll(async () => {
  ui = await startUiService({
    prefix: "uiitems",
    sim: { projects: 12, monitoredFraction: 1, subgroupFraction: 0, sharedFraction: 0 },
    env: { API_TOKENS: `${API_TOKEN},${READ_TOKEN}:read` },
  });
  ({ sim, serve, browser } = ui);
  call = api(serve.url);
  const started = await call("POST", "/sync?mode=full");
  expect(started.status).toBe(202);
  expect((await waitForExecution(call, Number(started.body.id), { proc: serve })).status).toBe("COMPLETED");
  await waitForItemsAtHead(call, sim);
}, 150_000);

afterAll(async () => {
  await ui?.close();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signedIn(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(90_000); // a hang guard only
  const page = await context.newPage();
  await open(page, `${serve!.url}/#/items`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#items-view").waitFor({ state: "visible" });
  return { context, page };
}

const withItem = () => sim.state.projects.filter((p) => sim.state.itemOf(p.id));
const cells = (page: Page, projectId: number) =>
  page.locator(`#items tbody tr[data-project="${projectId}"] td`).allTextContents();

test("columns, search by item id, the detail's history with authors and status", async () => {
  const { context, page } = await signedIn(API_TOKEN);
  const headings = await page.locator("#items thead th").allTextContents();
  expect(headings.slice(0, 6)).toEqual([
    "Item id",
    "Type",
    "Subject",
    "Grade",
    "Workflow status",
    "Days in status",
  ]);
  const target = withItem()[1]!;
  const api1 = await item(target.id);
  expect(api1.itemId).not.toBeNull();
  await page.locator(`#items tbody tr[data-project="${target.id}"]`).waitFor();
  const days = Math.floor((Date.now() - Date.parse(api1.workflowStatusSetAt!)) / 86_400_000);
  const row = await cells(page, target.id);
  expect(row.slice(0, 7)).toEqual([
    String(api1.itemId),
    api1.itemType ?? "—",
    api1.subject ?? "—",
    api1.grade ?? "—",
    api1.workflowStatus ?? "—",
    String(days),
    String(target.id),
  ]);
  await shot(page, "items-01-list");

  // the search finds the item by its IMRT id (not a project id)
  await page.getByLabel("Path, item id or project id").fill(String(api1.itemId));
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator("#items-note", { hasText: `item id or project id ${api1.itemId}` }).waitFor();
  const found = await page
    .locator("#items tbody tr")
    .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-project")));
  expect(found).toEqual([String(target.id)]);
  await shot(page, "items-02-search-item-id");

  // the detail: IMRT fields, the commit history with its authors, the status block
  await page.locator(`#items tbody tr[data-project="${target.id}"] a`).click();
  await page.locator("#item-history tbody tr").first().waitFor();
  const detail = await item(target.id);
  const history = await page
    .locator("#item-history tbody tr")
    .evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll("td")).map((td) => td.textContent)));
  expect(history.length).toBe(detail.history!.length);
  expect(history.map((h) => h[2])).toEqual(detail.history!.map((h) => h.author));
  expect(history.map((h) => h[0])).toEqual(detail.history!.map((h) => h.commitHash.slice(0, 12)));
  const authors = new Set(sim.state.commitsOf(target).flatMap((c) => [c.authorName, c.committerName]));
  expect(detail.history!.some((h) => h.author !== "" && authors.has(h.author))).toBe(true);
  expect(await page.locator("#item-fields").textContent()).toContain(String(api1.itemId));
  expect(await page.locator("#item-status").textContent()).toContain("Staleno");
  await page.getByRole("button", { name: "Sync this item" }).waitFor();
  await shot(page, "items-03-detail");
  await context.close();
}, 90_000);

test("stale only, with Sync this item beside each stale one; the button syncs it", async () => {
  const target = withItem()[2]!;
  const before = sim.state.commitsOf(target)[0]!.id;
  const goodDoc = sim.state.itemOf(target.id)!;
  // a missed push of a document that cannot be written: quarantined, dead-lettered, stale
  const bad = sim.state.pushCommit(target.id, { files: { "item.json": '{"id":"x","type":"mc"}' } });
  expect((await call("POST", `/sync/${target.id}`)).status).toBe(202);
  await waitFor("the item stale", async () => (await item(target.id)).status.reasons.includes("dead_letter"));
  // the author repairs it; that push is missed too: only a sync brings it in
  const fixed = sim.state.pushCommit(target.id, { files: { "item.json": { ...goodDoc, touched: "ui" } } });

  const { context, page } = await signedIn(API_TOKEN);
  // the detail explains it: the problem, the status block, the dead letter
  await open(page, `${serve!.url}/#/items/${target.id}`);
  await page.locator("#item-problem").waitFor();
  const status = await page.locator("#item-status").textContent();
  expect(status).toContain("yes — tables behind GitLab, quarantined, dead letter");
  expect(status).toContain(bad.id.slice(0, 12));
  expect(status).toContain(before.slice(0, 12));
  expect(await page.locator("#item-dead-letters").textContent()).toContain("ITEM_QUARANTINED");
  await shot(page, "items-04-stale-detail");

  await open(page, `${serve!.url}/#/items`);
  await page.getByLabel("stale only").check();
  await page.locator("#items-note", { hasText: "stale item" }).waitFor();
  const rows = page.locator("#items tbody tr");
  expect(await rows.evaluateAll((r) => r.map((x) => x.getAttribute("data-project")))).toEqual([
    String(target.id),
  ]);
  const row = page.locator(`#items tbody tr[data-project="${target.id}"]`);
  expect(await row.locator("code.commit").textContent()).toBe(before.slice(0, 12));
  await shot(page, "items-05-stale-only");

  await row.getByRole("button", { name: "Sync this item" }).click();
  // the row is redrawn with GitLab's head once the workers wrote it
  await page
    .locator(`#items tbody tr[data-project="${target.id}"] code.commit`, { hasText: fixed.id.slice(0, 12) })
    .waitFor();
  expect(await page.locator(`#items tbody tr[data-project="${target.id}"]`).textContent()).toContain(
    "up to date",
  );
  expect((await item(target.id)).status.stale).toBe(false);
  await shot(page, "items-06-synced");

  // the list asked again: nothing stale any more
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator("#items-note", { hasText: /^0 stale items/ }).waitFor();
  await context.close();
}, 120_000);

test("a read-only token gets no Sync this item button", async () => {
  const target = withItem()[0]!;
  const { context, page } = await signedIn(READ_TOKEN);
  await open(page, `${serve!.url}/#/items/${target.id}`);
  await page.locator("#item-history tbody tr").first().waitFor();
  expect(await page.getByRole("button", { name: "Sync this item" }).count()).toBe(0);
  await shot(page, "items-07-read-only");
  await context.close();
}, 60_000);
