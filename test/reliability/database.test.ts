/** Database faults against the binary: Postgres restarted, connection pool exhausted, SQLite read-only / full. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { poolExhausted, postgresRestart, sqliteFault } from "./scenarios/database.ts";

test("Postgres restarted mid-sync: a clear outcome, and a relaunch completes with nothing lost", async () => {
  const r = await postgresRestart();
  console.log(JSON.stringify(r));
  expect(r.lost).toBe(0);
  expect(r.outcome).toContain("problems: none");
  expect(failedChecks(r)).toEqual([]);
}, 240_000);

test("connection limit below the pool: completes or fails clearly; nothing lost", async () => {
  const r = await poolExhausted();
  console.log(JSON.stringify(r));
  expect(r.lost).toBe(0);
  expect(r.outcome).toContain("history problems: none");
  expect(failedChecks(r)).toEqual([]);
}, 240_000);

for (const mode of ["read-only", "full"] as const) {
  test(`SQLite on a ${mode} filesystem: never COMPLETED during the fault, clear reason, nothing lost after relaunch`, async () => {
    const r = await sqliteFault(mode);
    console.log(JSON.stringify(r));
    expect(failedChecks(r)).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.outcome).toContain("history problems: none");
  }, 240_000);
}
