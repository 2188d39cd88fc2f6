/**
 * 2,000 concurrent unauthenticated clients (scrapes, readiness probes, made-up tokens, slow
 * bodies) against serve on the API port, without METRICS_PORT: an operator's token keeps being
 * served, promptly, and memory stays under the chart's limit.
 *
 * The one timing bound, and why 3 s: on this project's machines (2 shared cores, the load
 * generator on the same cores) the operator's GET /jobs p99 was 0.5 s with this round's code on a
 * quiet machine and 1.1 s while other test suites ran beside it; the same scenario gave 11.1 s on
 * the code before this round (667d7cc; the review measured 80 s with 2,000 scrapers alone). 3 s
 * leaves room for a busy CI machine yet stays well below what the old code did: the test fails
 * when a stranger can again make the API wait on its work, not when a machine is slow.
 */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { CHART_MEMORY_LIMIT_KB, OPERATOR_P99_BOUND_MS, strangers } from "./scenarios/strangers.ts";

test("2,000 concurrent strangers: the operator's GET /jobs stays 200 with p99 under 3 s, RSS under the chart's limit, slow bodies cut, refusals counted and logged without tokens", async () => {
  const r = await strangers({ strangers: 2000, durationMs: 20_000 });
  console.log(JSON.stringify(r));
  expect(r.crashed).toBe(false);
  expect(r.operator.calls).toBeGreaterThan(20);
  expect(r.operator.non200).toBe(0);
  expect(r.operator.p99Ms).toBeLessThan(OPERATOR_P99_BOUND_MS);
  expect(r.rssPeakKb).toBeLessThan(CHART_MEMORY_LIMIT_KB);
  // the server closes a refused request's connection itself, before its 10 s idle timeout
  expect(r.slowBodyHeldMaxMs).toBeLessThan(10_000);
  // the strangers were answered, not left hanging: probes and scrapes served, tokens refused
  const answered = (kind: string, status: string) => r.strangerStatuses[`${kind} ${status}`] ?? 0;
  expect(answered("metrics", "200")).toBeGreaterThan(0);
  expect(answered("ready", "200")).toBeGreaterThan(0);
  expect(answered("bad-token", "401")).toBeGreaterThan(0);
  // refusals are logged, at most a line per 10 s interval (plus the first), never with a token
  expect(r.refusalLogLines).toBeGreaterThan(0);
  expect(r.refusalLogLines).toBeLessThanOrEqual(2 * (20 / 10 + 1));
  expect(r.tokenInLog).toBe(false);
  expect(failedChecks(r)).toEqual([]);
}, 240_000);
