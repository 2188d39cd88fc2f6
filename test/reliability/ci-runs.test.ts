import { describe, expect, test } from "bun:test";
import { readCiLog, runGreen } from "../../soak/ci-runs.ts";

/** What `bun run ci-runs` reads from a CI log and when it calls a run green (soak/ci-runs.ts). */
describe("ci-runs verdict", () => {
  const log = (...lines: string[]) => lines.join("\n");

  test("reads the last summary line, coloured or not, and every failed test once", () => {
    const text = log(
      "(pass) a > one [1ms]",
      "(fail) b > two [2ms]",
      "\x1B[31m(fail) b > two [3ms]\x1B[0m",
      "(fail) c > three",
      " 1 pass",
      "\x1B[1m1 passed, 2 failed\x1B[0m\r",
    );
    expect(readCiLog(text)).toEqual({
      passed: 1,
      failed: 2,
      summarised: true,
      failedTests: ["b > two [2ms]", "b > two [3ms]", "c > three"],
    });
  });

  test("a log without the summary line is not summarised and counts nothing", () => {
    expect(readCiLog(log("(pass) a", "Killed"))).toEqual({
      passed: 0,
      failed: 0,
      summarised: false,
      failedTests: [],
    });
  });

  const green = { exitCode: 0, passed: 1400, failed: 0, summarised: true, failedTests: [] };
  test("green only when every part holds", () => {
    expect(runGreen(green)).toBe(true);
    expect(runGreen({ ...green, exitCode: 1 })).toBe(false);
    expect(runGreen({ ...green, failed: 1 })).toBe(false);
    expect(runGreen({ ...green, summarised: false })).toBe(false);
    expect(runGreen({ ...green, passed: 0 })).toBe(false);
    expect(runGreen({ ...green, failedTests: ["x"] })).toBe(false);
  });
});
