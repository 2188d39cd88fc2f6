/** Hostile HTTP input: 10,000 random requests → no 5xx, no crash, RSS bounded, protected routes refused. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { fuzz } from "./scenarios/fuzz.ts";

test("10,000 hostile requests: no 5xx, no crash, memory stable, every protected route refuses without a valid token or the role, every webhook without its token, every accepted push reaches the broker", async () => {
  const r = await fuzz({ requests: 10_000 });
  console.log(
    JSON.stringify({
      ...r,
      fiveXx: r.fiveXx.slice(0, 20),
      leaks: r.leaks.slice(0, 20),
      roleLeaks: r.roleLeaks.slice(0, 20),
      webhookLeaks: r.webhookLeaks.slice(0, 20),
    }),
  );
  expect(r.crashed).toBe(false);
  expect(r.fiveXx).toEqual([]);
  expect(r.leaks).toEqual([]);
  expect(r.roleLeaks).toEqual([]);
  expect(r.webhookLeaks).toEqual([]);
  expect(r.lost).toBe(0);
  expect(failedChecks(r)).toEqual([]);
  const [start, end] = r.rss;
  expect(end - start).toBeLessThan(150 * 1024); // kB
}, 180_000);
