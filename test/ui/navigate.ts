/**
 * Page navigation for the browser tests. playwright-core's client, run in-process under bun, has
 * been seen to reject a `page.goto` whose navigation succeeded with "Object with guid
 * response@… was not bound in the connection" (its answer named a Response object the client
 * did not hold; CI, 2026-11-29). That is the test driver's bookkeeping, not the page: the
 * navigation is made again once, and any other error, or a second one, fails the test.
 */
import type { Page } from "playwright-core";

const UNBOUND = /Object with guid \S+ was not bound in the connection/;

/** Opens `url` in `page` and waits for its load event. */
export async function open(page: Page, url: string): Promise<void> {
  try {
    await page.goto(url, { waitUntil: "load" });
  } catch (err) {
    if (!UNBOUND.test(String((err as Error)?.message ?? err))) throw err;
    await page.goto(url, { waitUntil: "load" });
  }
}
