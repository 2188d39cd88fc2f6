/** Crash anywhere, the fast variant (5 SIGKILLs of a 5,000-project sync); soak/run.ts runs 20. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { crashScenario } from "./scenarios/crash.ts";

test("SIGKILL at 5 moments of a 5,000-project sync, some right after a checkpoint: each relaunch resumes from its predecessor's checkpoint, every completed sync published every project, history consistent", async () => {
  const r = await crashScenario({ projects: 5000, crashes: 5 });
  console.log(JSON.stringify(r));
  expect(r.resumeProblems).toEqual([]);
  expect(r.resumesPastCheckpoint).toBeGreaterThan(0);
  expect(r.lost).toBe(0);
  expect(r.outcome).toContain("history problems: none");
  expect(failedChecks(r)).toEqual([]);
}, 240_000);
