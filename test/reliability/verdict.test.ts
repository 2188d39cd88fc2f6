/**
 * The soak's verdict (lib/report.ts, used by soak/run.ts): a row passes only when the scenario ran,
 * made checks, lost nothing, and every check held. Each kind of check the scenarios make is fed to
 * it failing — alone, beside checks that held — and must turn the row into FAIL naming it.
 */
import { expect, test } from "bun:test";
import { check, faultCheck, historyCheck, lostCheck, type ScenarioResult, verdict } from "./lib/report.ts";

const base = (checks: ScenarioResult["checks"], lost = 0): ScenarioResult => ({
  scenario: "a scenario",
  tried: "something",
  runs: 1,
  faults: "1 fault",
  lost,
  duplicates: 0,
  outcome: "COMPLETED",
  checks,
});
const held = [lostCheck(0, 100), historyCheck([]), faultCheck("broker stopped", true, "1 outage")];

test("every check held, nothing lost: pass", () => {
  expect(verdict({ result: base(held) })).toEqual({ ok: true, text: "pass" });
});

// one of each kind the scenarios report, failing
const failing: Array<[string, ScenarioResult["checks"][number]]> = [
  ["items lost", lostCheck(3, 100)],
  ["a history problem", historyCheck(["7 and 8 overlap"])],
  [
    "the fault did not happen",
    faultCheck("update queue deleted", false, "the run COMPLETED before the deletion"),
  ],
  ["a fencing violation", check("fencing held", false, "12: 3 message(s) published after it FAILED")],
  ["a FAILED execution", check("the launched execution COMPLETED", false, "FAILED: no heartbeat")],
  ["dead-lettered messages", check("nothing dead-lettered", false, "2")],
  ["no 503 during a switch", check("503 while the database was away", false, "saw 200")],
  [
    "COMPLETED while writes were refused",
    check("never COMPLETED while writes were refused", false, "COMPLETED"),
  ],
  [
    "failed without a fault (product bug)",
    check("no execution failed without a fault", false, "1: deadlock"),
  ],
  ["a role leak", check("no call beyond the token's role succeeded", false, "200 POST /sync as read")],
  ["a webhook leak", check("no webhook without its token accepted", false, "202 without X-Gitlab-Token")],
  ["a wrong row", check("every item row at its latest commit", false, "998/1000")],
  ["duplicates over a bound", check("duplicates within the bound", false, "40 > 20")],
];

for (const [kind, failed] of failing) {
  test(`a failed check — ${kind}: FAIL, naming it with its figure`, () => {
    const v = verdict({ result: base([...held.filter((c) => c.name !== failed.name), failed]) });
    expect(v.ok).toBe(false);
    expect(v.text).toStartWith("FAIL: ");
    expect(v.text).toContain(`${failed.name} (${failed.figure})`);
  });
}

test("lost > 0 with no failing lost check (a scenario that forgot it): still FAIL", () => {
  const v = verdict({ result: base([historyCheck([])], 2) });
  expect(v.ok).toBe(false);
  expect(v.text).toContain("nothing lost (2 lost)");
});

test("a result without a single check: FAIL, not a vacuous pass", () => {
  const v = verdict({ result: base([]) });
  expect(v.ok).toBe(false);
  expect(v.text).toContain("no check made");
});

test("a scenario that ended in an error: ERROR", () => {
  expect(verdict({ error: "serve exited 1" })).toEqual({ ok: false, text: "ERROR: serve exited 1" });
});
