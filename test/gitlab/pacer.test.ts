/**
 * Pure logic of pacing: the concurrency bound, the hold after a 429 applying to every waiter,
 * abort while queued, and reading Retry-After / RateLimit-Reset. Bounds only, no timing claims.
 */
import { expect, test } from "bun:test";
import { createPacer, RATE_WINDOW_MARGIN_MS } from "../../src/gitlab/pacer.ts";
import { backoffDelay, DEFAULT_RETRY, retryAfterMs } from "../../src/gitlab/retry.ts";

test("never more than `concurrency` slots out; waiters are served in order", async () => {
  const pacer = createPacer({ concurrency: 2, maxRps: 0 });
  const order: number[] = [];
  const releases = await Promise.all([pacer.acquire(), pacer.acquire()]);
  const served = (n: number) => (release: () => void) => {
    order.push(n);
    return release;
  };
  const third = pacer.acquire().then(served(3));
  const fourth = pacer.acquire().then(served(4));
  await Bun.sleep(5);
  expect(pacer.stats()).toMatchObject({ inFlight: 2, queued: 2 });
  releases[0]?.();
  releases[0]?.(); // a second release of the same slot changes nothing
  (await third)();
  releases[1]?.();
  (await fourth)();
  expect(order).toEqual([3, 4]);
  expect(pacer.stats()).toMatchObject({ inFlight: 0, queued: 0, requests: 4 });
});

test("after a 429 no slot is granted until the hold has passed, for every caller", async () => {
  const pacer = createPacer({ concurrency: 8, maxRps: 0 });
  pacer.rateLimited(150);
  const asked = performance.now();
  const granted = await Promise.all(
    [1, 2, 3].map(async () => {
      const release = await pacer.acquire();
      release();
      return performance.now();
    }),
  );
  for (const at of granted) expect(at - asked).toBeGreaterThanOrEqual(149);
  expect(pacer.stats().rateLimited).toBe(1);
  expect(pacer.stats().waitedMs).toBeGreaterThanOrEqual(149);
});

test("an aborted waiter leaves the queue", async () => {
  const pacer = createPacer({ concurrency: 1, maxRps: 0 });
  const first = await pacer.acquire();
  const ctl = new AbortController();
  const waiting = pacer.acquire(ctl.signal);
  ctl.abort(new Error("stop"));
  await expect(waiting).rejects.toThrow("stop");
  expect(pacer.stats().queued).toBe(0);
  first();
});

test("Retry-After in seconds or as a date, else RateLimit-Reset, else the fallback", () => {
  const now = Date.UTC(2025, 0, 1);
  expect(retryAfterMs(new Headers({ "retry-after": "3" }), 99, now)).toBe(3000);
  expect(retryAfterMs(new Headers({ "retry-after": new Date(now + 5000).toUTCString() }), 99, now)).toBe(
    5000,
  );
  expect(retryAfterMs(new Headers({ "ratelimit-reset": String(now / 1000 + 7) }), 99, now)).toBe(7000);
  expect(retryAfterMs(new Headers({}), 99, now)).toBe(99);
});

test("backoff grows exponentially with jitter and stays under the bound", () => {
  const policy = { ...DEFAULT_RETRY, random: () => 1 };
  expect(backoffDelay(0, policy)).toBe(250);
  expect(backoffDelay(2, policy)).toBe(1000);
  expect(backoffDelay(20, policy)).toBe(DEFAULT_RETRY.maxMs);
  expect(backoffDelay(3, { ...policy, random: () => 0 })).toBe(1000);
});

test("urgent requests are granted before queued ordinary ones, in their own order", async () => {
  const pacer = createPacer({ concurrency: 1, maxRps: 0 });
  const order: string[] = [];
  const first = await pacer.acquire();
  const take = (name: string, urgent: boolean) =>
    pacer.acquire(undefined, urgent).then((release) => {
      order.push(name);
      release();
    });
  const waits = [take("a", false), take("b", false), take("U1", true), take("U2", true)];
  first();
  await Promise.all(waits);
  expect(order).toEqual(["U1", "U2", "a", "b"]);
});

test("the cap holds over send times: the send after maxRps within a second must wait", () => {
  const pacer = createPacer({ concurrency: 8, maxRps: 3 });
  expect([pacer.trySend(), pacer.trySend(), pacer.trySend()]).toEqual([0, 0, 0]);
  // the fourth inside the same second waits until the first has left the window (plus its margin)
  const wait = pacer.trySend();
  expect(wait).toBeGreaterThan(1000 - 50);
  expect(wait).toBeLessThanOrEqual(1000 + RATE_WINDOW_MARGIN_MS);
  expect(pacer.trySend()).toBeGreaterThan(0); // asking again does not count as a send
});

test("a Retry-After that began after the grant holds the send too, with or without a cap", () => {
  for (const maxRps of [0, 100]) {
    const pacer = createPacer({ concurrency: 8, maxRps });
    pacer.rateLimited(500);
    expect(pacer.trySend()).toBeGreaterThan(400);
  }
  expect(createPacer({ concurrency: 8, maxRps: 0 }).trySend()).toBe(0);
});
