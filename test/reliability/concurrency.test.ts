/** Concurrency, fast variant: 5 processes × 50 launches, 3 rounds (soak: 20); cron on 3 replicas. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { cronReplicas, launchRounds } from "./scenarios/concurrency.ts";

test("5 serve processes × 50 simultaneous launches on Postgres, 3 rounds: exactly one execution each round", async () => {
  const r = await launchRounds({ processes: 5, launches: 50, rounds: 3 });
  console.log(JSON.stringify(r));
  expect(r.perRound).toEqual([1, 1, 1]);
  expect(r.lost).toBe(0);
  expect(failedChecks(r)).toEqual([]);
  expect(r.outcome).toContain("history problems: none");
}, 180_000);

test("3 replicas ticking every second: one execution per slot", async () => {
  const r = await cronReplicas({ replicas: 3, seconds: 6 });
  console.log(JSON.stringify(r));
  expect(r.slots).toBeGreaterThanOrEqual(2);
  expect(r.slotsWithMoreThanOne).toBe(0);
  expect(r.lost).toBe(0);
  expect(failedChecks(r)).toEqual([]);
  expect(r.outcome).toContain("history problems: none");
}, 120_000);
