/** S9: the nightly run that costs what changed — incremental vs full side by side (bench/s9-incremental.ts). */

import { REPS, rows, sections, state } from "../lib/context.ts";
import { runS9 } from "../s9-incremental.ts";
import type { BenchScenario } from "./types.ts";

const scenario: BenchScenario = {
  id: "S9",
  async run() {
    const s9 = await runS9({ rabbitUrl: state.rabbit.url, reps: REPS });
    rows.push(...s9.rows);
    sections.push(s9.markdown);
  },
};
export default scenario;
