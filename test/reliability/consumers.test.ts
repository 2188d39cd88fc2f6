/** Consumers: redelivery storm, poison messages, 3 workers, one SIGKILLed mid-message; a crash loop. */
import { expect, test } from "bun:test";
import { INGEST_MAX_REDELIVERIES } from "../../src/ingest/workers.ts";
import { consumerAbuse, crashLoop } from "./scenarios/consumers.ts";

test("3 workers, a redelivery storm, poison messages, a worker killed mid-message: every row right, poison in .dead with a reason", async () => {
  const r = await consumerAbuse();
  console.log(JSON.stringify(r));
  expect(r.wrongRows).toEqual([]);
  expect(r.duplicates).toBe(0);
  expect(r.failures).toEqual([]);
  expect(r.outcome).toContain(
    `${r.poison}/${r.poison} messages in .dead, ${r.poison} with x-item-sync-reason`,
  );
}, 240_000);

test("a message that kills every worker handling it is dead-lettered after INGEST_MAX_REDELIVERIES, not taken for ever", async () => {
  const r = await crashLoop();
  console.log(JSON.stringify(r));
  expect(r.kills).toBe(INGEST_MAX_REDELIVERIES + 1);
  expect(r.deadReason).toStartWith(`redelivered ${INGEST_MAX_REDELIVERIES + 1} times without being settled`);
  expect(r.outcome).toContain("(the right message)");
  expect(r.ledgerRows).toBe(0);
  expect(r.wrongRows).toEqual([]);
  expect(r.duplicates).toBe(0);
}, 240_000);
