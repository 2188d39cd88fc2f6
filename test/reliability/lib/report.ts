/**
 * The record each reliability scenario returns, and the verdict soak/run.ts writes into
 * RELIABILITY.md. Every figure is computed by the run from the database and the broker (see
 * accounting.ts). A scenario states every check it makes as a named Check — held or not, with the
 * figure it was judged by — and the verdict passes only when every one holds: a scenario cannot
 * measure something that then has no say in its row.
 */

/** One check a scenario makes: what it promises, whether it held, and the measured figure. */
export interface Check {
  name: string;
  ok: boolean;
  figure: string;
}

export const check = (name: string, ok: boolean, figure: string | number): Check => ({
  name,
  ok,
  figure: String(figure),
});

/** "nothing lost": lost counted per job instance (accounting.ts), out of what could be lost. */
export const lostCheck = (lost: number, of: number, what = "projects"): Check =>
  check("nothing lost", lost === 0, `${lost} of ${of} ${what} lost`);

/** The execution history's invariants (harness.ts historyProblems) as one check. */
export const historyCheck = (problems: readonly string[]): Check =>
  check(
    "execution history consistent",
    problems.length === 0,
    problems.length === 0 ? "none" : problems.join("; "),
  );

/** The fault the scenario is about happened: a row whose fault did not happen proves nothing. */
export const faultCheck = (what: string, happened: boolean, figure: string | number): Check =>
  check(`fault injected: ${what}`, happened, figure);

export interface ScenarioResult {
  scenario: string;
  /** what was tried, in one line */
  tried: string;
  runs: number;
  faults: string;
  /** projects (or items) that ended without their update-item / correct row: must be 0 */
  lost: number;
  duplicates: number;
  outcome: string;
  /** every check the scenario makes, held or not: the verdict passes only when all hold */
  checks: Check[];
  notes?: string[];
}

/** The checks of a result that did not hold (a test expects this to be empty). */
export function failedChecks(r: Pick<ScenarioResult, "checks" | "lost">): string[] {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name} (${c.figure})`);
  // lost is a check of its own in every scenario; should one forget it, the figure still counts
  if (r.lost > 0 && !r.checks.some((c) => c.name === "nothing lost" && !c.ok))
    failed.push(`nothing lost (${r.lost} lost)`);
  if (r.checks.length === 0) failed.push("no check made (a row without checks proves nothing)");
  return failed;
}

/** A scenario's verdict: pass only when it ran, made checks, and every one held. */
export function verdict(r: { result?: ScenarioResult; error?: string }): { ok: boolean; text: string } {
  if (!r.result) return { ok: false, text: `ERROR: ${r.error ?? ""}` };
  const failed = failedChecks(r.result);
  return failed.length === 0 ? { ok: true, text: "pass" } : { ok: false, text: `FAIL: ${failed.join("; ")}` };
}

export function say(msg: string) {
  if (process.env.RELIABILITY_QUIET !== "1") console.log(`[reliability] ${msg}`);
}
