/**
 * The browser for the dashboard tests: Debian's Chromium driven by playwright-core.
 *
 * playwright-core's in-process mode hands each protocol message between its client and its
 * server through setImmediate. Under bun a message naming a Response object has been seen to
 * reach the client before that object's creation ("Object with guid response@… was not bound
 * in the connection", twice in loaded full-suite runs, 2026-11-29). The browser is therefore
 * driven through a browser server and its WebSocket, where messages keep their order.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type LaunchOptions, type Page } from "playwright-core";

/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";
/** Where the UI tests put their screenshots (git ignores test/artifacts/). */
export const ARTIFACTS = join(import.meta.dir, "../artifacts/ui");

// As on this kind of machine: no background networking, no first-run or component updates.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--metrics-recording-only",
];

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(options: LaunchOptions): Promise<TestBrowser> {
  const server = await chromium.launchServer(options);
  try {
    const browser = await chromium.connect(server.wsEndpoint());
    return {
      browser,
      async close() {
        await browser.close().catch(() => {});
        await server.close();
      },
    };
  } catch (err) {
    await server.close();
    throw err;
  }
}

/**
 * Headless CHROMIUM for a UI test, with ARTIFACTS made for its screenshots; fails saying how to
 * install Chromium where it is missing.
 */
export async function startChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return launchBrowser({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Opens `url` in `page` and waits for its load event. */
export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: "load" });
}
