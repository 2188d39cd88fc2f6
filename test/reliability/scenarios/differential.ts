/**
 * The differential test (test/sync/differential.test.ts: an incremental instance's item tables
 * against a full one's after every step of a seeded random sequence, on SQLite and Postgres) run
 * for several seeds and longer sequences than `npm test` runs, each seed in its own `bun test`
 * process. A seed passes when both dialects' tests pass.
 */
import { join } from "node:path";
import { check, faultCheck, type ScenarioResult, say } from "../lib/report.ts";

const ROOT = join(import.meta.dir, "../../..");
const TEST = "test/sync/differential.test.ts";

export async function differentialSeeds(opts: { seeds: number[]; steps: number }): Promise<ScenarioResult> {
  const results: Array<{ seed: number; pass: number; fail: number; code: number; tail: string }> = [];
  for (const seed of opts.seeds) {
    say(`differential: seed ${seed}, ${opts.steps} steps`);
    const proc = Bun.spawn(["bun", "test", "--timeout", String(opts.steps * 20_000), TEST], {
      cwd: ROOT,
      env: { ...process.env, DIFFERENTIAL_SEED: String(seed), DIFFERENTIAL_STEPS: String(opts.steps) },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    const text = `${out}\n${err}`;
    const count = (what: string) => Number(new RegExp(`^\\s*(\\d+) ${what}$`, "m").exec(text)?.[1] ?? 0);
    results.push({
      seed,
      pass: count("pass"),
      fail: count("fail"),
      code,
      tail: text.trim().split("\n").slice(-6).join(" "),
    });
  }
  const ran = results.reduce((n, r) => n + r.pass + r.fail, 0);
  return {
    scenario: "incremental equals full: differential test, several seeds",
    tried: `${TEST} with ${opts.seeds.length} seeds (${opts.seeds.join(", ")}), ${opts.steps} random steps each, 150 projects, SQLite and Postgres`,
    runs: results.length,
    faults: `${opts.seeds.length} × ${opts.steps} steps of pushes, renames, branch switches, new projects, removals, transfers out, hook deletions`,
    lost: 0,
    duplicates: 0,
    outcome: results.map((r) => `seed ${r.seed}: ${r.pass} pass, ${r.fail} fail (exit ${r.code})`).join("; "),
    checks: [
      faultCheck("random sequences applied", ran > 0, `${ran} tests ran`),
      ...results.map((r) =>
        check(
          `seed ${r.seed}: the incremental tables equal the full ones after every step, on both databases`,
          r.code === 0 && r.fail === 0 && r.pass === 2,
          r.code === 0 && r.fail === 0 && r.pass === 2
            ? `${r.pass} pass`
            : `${r.pass} pass, ${r.fail} fail, exit ${r.code}: ${r.tail.slice(0, 400)}`,
        ),
      ),
    ],
  };
}
