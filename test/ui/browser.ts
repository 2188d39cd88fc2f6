/**
 * The browser for the dashboard tests: Debian's Chromium driven by playwright-core.
 *
 * playwright-core's in-process mode hands each protocol message between its client and its
 * server through setImmediate. Under bun a message naming a Response object has been seen to
 * reach the client before that object's creation ("Object with guid response@… was not bound
 * in the connection", twice in loaded full-suite runs, 2026-11-29). The browser is therefore
 * driven through a browser server and its WebSocket, where messages keep their order.
 */
import { type Browser, chromium, type LaunchOptions, type Page } from "playwright-core";

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

/** Opens `url` in `page` and waits for its load event. */
export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: "load" });
}
