/** Fencing of the compiled binary: SIGSTOP past the lease, another replica resumes, SIGCONT. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { fencingScenario } from "./scenarios/fencing.ts";

test("a replica frozen (SIGSTOP) past its lease publishes and writes nothing after its execution is FAILED; another replica completes the run", async () => {
  const r = await fencingScenario();
  console.log(JSON.stringify(r));
  expect(failedChecks(r)).toEqual([]);
  expect(r.resumedStatus).toBe("COMPLETED");
  expect(r.lost).toBe(0);
}, 120_000);
