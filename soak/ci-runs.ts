/**
 * `bun run ci-runs`: the CI script (`.ci/run`, the README's test command) run N times in a row,
 * each on a fresh clone of the commit checked out, while busy loops keep cores loaded — the
 * evidence that the suite passes on a loaded machine, not only on a quiet one. Rewrites
 * CI-RUNS.md with each run's exit status, its "N passed, N failed" summary line, the names of the
 * failed tests, its duration and the load average sampled during it; the verdict is green only
 * when every run exited 0 with 0 failed and at least one test passed.
 *
 * Options: `--runs N` (default 3), `--hog N` busy loops (default 1: one of the machine's cores
 * taken away), `--allow-dirty` (see scripts/lib/provenance.ts). Each run starts its own Postgres
 * and RabbitMQ as CI does: TEST_* variables are not passed on. The full logs stay in the directory
 * printed at the start.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git, requireProvenance } from "../scripts/lib/provenance.ts";

const ROOT = join(import.meta.dir, "..");

export interface CiRun {
  run: number;
  exitCode: number;
  passed: number;
  failed: number;
  /** false when the log has no "N passed, N failed" line (the script died before printing it) */
  summarised: boolean;
  failedTests: string[];
  seconds: number;
  /** 1-minute load averages sampled every 15 s during the run */
  load: number[];
}

// colour codes (ESC [ … letter), which a terminal-like CI adds; built from a string for the linter
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[ -/]*[@-~]`, "g");

/** The run's figures from its log: the last summary line and every "(fail)" test name. */
export function readCiLog(text: string): Pick<CiRun, "passed" | "failed" | "summarised" | "failedTests"> {
  const lines = text.replace(ANSI, "").replaceAll("\r", "").split("\n");
  const summary = lines
    .map((l) => /^(\d+) passed, (\d+) failed$/.exec(l.trim()))
    .filter((m) => m !== null)
    .at(-1);
  const failedTests = [
    ...new Set(lines.filter((l) => l.startsWith("(fail) ")).map((l) => l.slice(7).trim())),
  ];
  return {
    passed: summary ? Number(summary[1]) : 0,
    failed: summary ? Number(summary[2]) : 0,
    summarised: summary !== undefined,
    failedTests,
  };
}

/** Green only when the script exited 0, printed its summary, ran tests and none failed. */
export function runGreen(
  r: Pick<CiRun, "exitCode" | "passed" | "failed" | "summarised" | "failedTests">,
): boolean {
  return r.exitCode === 0 && r.summarised && r.passed > 0 && r.failed === 0 && r.failedTests.length === 0;
}

function option(args: string[], name: string, fallback: number, min: number): number {
  const i = args.indexOf(name);
  if (i === -1) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`${name} takes a whole number from ${min} (got ${args[i + 1] ?? "nothing"})`);
    process.exit(2);
  }
  return value;
}

const loadAverage = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

async function oneRun(run: number, commit: string, logDir: string, hogs: number): Promise<CiRun> {
  const clone = mkdtempSync(join(tmpdir(), "item-sync-ci-clone-"));
  try {
    git(ROOT, "clone", "--quiet", ROOT, clone);
    git(clone, "checkout", "--quiet", commit);
  } catch (err) {
    rmSync(clone, { recursive: true, force: true });
    throw err;
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TEST_")));
  const log = join(logDir, `run-${run}.log`);
  const busy = Array.from({ length: hogs }, () =>
    // a loop that ends with this process, however it ends (Ctrl-C, kill): it asks after its parent
    Bun.spawn(["sh", "-c", `while kill -0 ${process.pid} 2>/dev/null; do :; done`], {
      stdout: "ignore",
      stderr: "ignore",
    }),
  );
  const load: number[] = [];
  const sampler = setInterval(() => load.push(loadAverage()), 15_000);
  const t0 = Date.now();
  try {
    const ci = Bun.spawn([join(clone, ".ci/run")], {
      cwd: clone,
      env,
      stdout: Bun.file(log),
      stderr: Bun.file(log),
    });
    const progress = setInterval(() => {
      const text = readFileSync(log, "utf8");
      const passes = text.split("\n(pass) ").length - 1;
      const fails = text.split("\n(fail) ").length - 1;
      console.log(
        `run ${run}: ${Math.round((Date.now() - t0) / 60_000)} min, ${passes} passed, ${fails} failed so far`,
      );
    }, 60_000);
    const exitCode = await ci.exited;
    clearInterval(progress);
    const figures = readCiLog(readFileSync(log, "utf8"));
    return { run, exitCode, ...figures, seconds: Math.round((Date.now() - t0) / 1000), load };
  } finally {
    clearInterval(sampler);
    for (const b of busy) b.kill();
    rmSync(clone, { recursive: true, force: true });
  }
}

function render(runs: CiRun[], line: string, hogs: number, started: Date): string {
  const green = runs.filter(runGreen).length;
  const mean = (xs: number[]) =>
    xs.length === 0 ? "n/a" : (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
  const out = [
    "# CI runs on a loaded machine",
    "",
    line,
    "",
    `Run ${started.toISOString()}, ${navigator.hardwareConcurrency} cores, \`bun run ci-runs${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}\` (soak/ci-runs.ts):`,
    `each run is \`.ci/run\` on a fresh clone of that commit, with its own Postgres and RabbitMQ, while ${hogs} busy loop(s)`,
    "keep cores taken. Written by that command; edit the script, not this file.",
    "",
    `**${green} of ${runs.length} runs green${green === runs.length && runs.length > 0 ? ", in a row" : ""}.**`,
    "",
    "| run | exit | passed | failed | duration | load average (1 min, mean of samples) | verdict |",
    "|---|---|---|---|---|---|---|",
    ...runs.map(
      (r) =>
        `| ${r.run} | ${r.exitCode} | ${r.passed} | ${r.failed}${r.summarised ? "" : " (no summary line)"} | ${Math.floor(r.seconds / 60)} min ${r.seconds % 60} s | ${mean(r.load)} | ${runGreen(r) ? "green" : "**FAILED**"} |`,
    ),
  ];
  const failures = runs.filter((r) => r.failedTests.length > 0);
  if (failures.length > 0) {
    out.push("", "## Failed tests", "");
    for (const r of failures) for (const t of r.failedTests) out.push(`- run ${r.run}: ${t}`);
  }
  out.push("");
  return out.join("\n");
}

async function main() {
  const { provenance, args } = requireProvenance(ROOT, process.argv.slice(2));
  const runs = option(args, "--runs", 3, 1);
  const hogs = option(args, "--hog", 1, 0);
  const logDir = mkdtempSync(join(tmpdir(), `item-sync-ci-runs-${provenance.commit.slice(0, 7)}-`));
  console.log(
    `ci-runs: ${runs} run(s) of .ci/run at ${provenance.commit.slice(0, 7)}, ${hogs} busy loop(s); logs in ${logDir}`,
  );
  const started = new Date();
  const results: CiRun[] = [];
  for (let run = 1; run <= runs; run++) {
    const r = await oneRun(run, provenance.commit, logDir, hogs);
    results.push(r);
    console.log(
      `run ${run}: exit ${r.exitCode}, ${r.passed} passed, ${r.failed} failed in ${r.seconds} s${r.failedTests.length ? `; failed: ${r.failedTests.join("; ")}` : ""}`,
    );
  }
  writeFileSync(join(ROOT, "CI-RUNS.md"), render(results, provenance.line, hogs, started));
  const green = results.filter(runGreen).length;
  console.log(`ci-runs: ${green} of ${runs} green; CI-RUNS.md written`);
  process.exit(green === runs ? 0 : 1);
}

if (import.meta.main) await main();
