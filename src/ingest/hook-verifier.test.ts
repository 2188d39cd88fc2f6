import { expect, test } from "bun:test";
import { silentLogger } from "../lib/log.ts";
import { HOUR } from "../lib/time.ts";
import { createHookVerifier } from "./hook-verifier.ts";

const NOW = Date.parse("2026-12-07T12:00:00Z");

function setup(items: Map<number, Date | null>, hooked: Set<number>) {
  const asked: number[] = [];
  const marked: number[] = [];
  let clock = NOW;
  const verifier = createHookVerifier({
    isMonitored: async (id) => {
      asked.push(id);
      await Bun.sleep(1);
      return hooked.has(id);
    },
    verifiedAt: async (id) => (items.has(id) ? (items.get(id) ?? null) : undefined),
    markVerified: async (id, at) => {
      marked.push(id);
      items.set(id, at);
    },
    freshForMs: 168 * HOUR,
    logger: silentLogger,
    maxPending: 100,
    now: () => clock,
  });
  return { verifier, asked, marked, advance: (ms: number) => (clock += ms) };
}

test("a push's project is recorded as verified only once GitLab lists our hook on it", async () => {
  const items = new Map<number, Date | null>([
    [1, null],
    [2, null],
  ]);
  const { verifier, asked, marked } = setup(items, new Set([1]));
  verifier.request(1); // our hook is there
  verifier.request(2); // a push named it, but GitLab has no hook of ours on it
  verifier.request(3); // not an item of ours at all
  await verifier.idle();
  expect(marked).toEqual([1]);
  expect(asked.sort()).toEqual([1, 2]);
  expect(items.get(2)).toBeNull();
});

test("each check costs at most one GitLab request per project and window", async () => {
  const items = new Map<number, Date | null>([
    [1, null],
    [2, null],
  ]);
  const { verifier, asked, advance } = setup(items, new Set([1]));
  for (let i = 0; i < 50; i++) {
    verifier.request(1);
    verifier.request(2);
  }
  await verifier.idle();
  expect(asked.sort()).toEqual([1, 2]);
  // 1 is fresh now, 2 was refused recently: a flood of pushes asks GitLab nothing
  for (let i = 0; i < 50; i++) {
    verifier.request(1);
    verifier.request(2);
    await verifier.idle();
  }
  expect(asked).toHaveLength(2);
  advance(11 * 60_000); // past the negative window: 2 is asked again, 1 is still fresh
  verifier.request(1);
  verifier.request(2);
  await verifier.idle();
  expect(asked.sort()).toEqual([1, 2, 2]);
});

test("requests beyond maxPending are dropped, not queued without end", async () => {
  const items = new Map<number, Date | null>(Array.from({ length: 500 }, (_, i) => [i + 1, null]));
  const { verifier, asked } = setup(items, new Set());
  for (let id = 1; id <= 500; id++) verifier.request(id);
  await verifier.close();
  expect(asked.length).toBe(100);
  verifier.request(1000); // closed: nothing more
  await verifier.idle();
  expect(asked.length).toBe(100);
});
