/** A Postgres failover: primary + streaming standby started by scripts/postgres.sh, primary lost, standby promoted. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { postgresFailover } from "./scenarios/failover.ts";

test("the primary stopped -m immediate mid-sync and the standby promoted: 503 during the switch, 200 after, the same execution COMPLETES", async () => {
  const r = await postgresFailover();
  console.log(JSON.stringify(r));
  expect(failedChecks(r)).toEqual([]);
  expect(r.status).toBe("COMPLETED");
  expect(r.during).toContain(503);
  expect(r.after).toBe(200);
  expect(r.lost).toBe(0);
}, 180_000);
