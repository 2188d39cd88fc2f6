/**
 * The record each reliability scenario returns; soak/run.ts writes them into RELIABILITY.md.
 * Every figure is computed by the run from the database and the broker (see accounting.ts).
 */
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
  /** checks of this scenario that did not hold, besides lost items: the verdict fails on any */
  failures?: string[];
  notes?: string[];
}

export function say(msg: string) {
  if (process.env.RELIABILITY_QUIET !== "1") console.log(`[reliability] ${msg}`);
}
