/** Consumers: redelivery storm, poison messages, 3 workers, one SIGKILLed mid-message; a crash loop. */
import { expect, test } from "bun:test";
import { failedChecks } from "./lib/report.ts";
import { consumerAbuse, crashLoop } from "./scenarios/consumers.ts";

test("3 workers, a redelivery storm, poison messages, a worker killed mid-message: every row right, poison in .dead with a reason", async () => {
  const r = await consumerAbuse();
  console.log(JSON.stringify(r));
  expect(r.wrongRows).toEqual([]);
  expect(r.duplicates).toBe(0);
  expect(failedChecks(r)).toEqual([]);
  expect(r.outcome).toContain(
    `${r.poison}/${r.poison} messages in .dead, ${r.poison} with x-item-sync-reason`,
  );
}, 240_000);

test("quorum queues: a message that kills every worker handling it is dead-lettered by the broker after AMQP_DELIVERY_LIMIT deliveries", async () => {
  const r = await crashLoop({ queueType: "quorum", deliveryLimit: 3 });
  console.log(JSON.stringify(r));
  expect(r.kills).toBe(3 + 1);
  expect(r.deadReason).toBe("broker: delivery_limit");
  // invisible to item-sync's code when it happens, yet recorded against the project beforehand
  expect(r.recorded?.by).toBe("broker");
  expect(r.recorded?.reason).toContain("AMQP_DELIVERY_LIMIT=3");
  expect(r.outcome).toContain("(the right message)");
  expect(r.ledgerRows).toBe(0); // the ledger is not used: the broker counts
  expect(r.wrongRows).toEqual([]);
  expect(failedChecks(r)).toEqual([]);
}, 240_000);

test("classic queues: a message that kills every worker handling it is dead-lettered by the ledger after AMQP_DELIVERY_LIMIT redeliveries", async () => {
  const r = await crashLoop({ queueType: "classic", deliveryLimit: 3 });
  console.log(JSON.stringify(r));
  expect(r.kills).toBe(3 + 1);
  expect(r.deadReason).toStartWith(`redelivered ${3 + 1} times without being settled`);
  expect(r.recorded).toEqual({ by: "item-sync", reason: r.deadReason });
  expect(r.outcome).toContain("(the right message)");
  expect(r.ledgerRows).toBe(0);
  expect(r.wrongRows).toEqual([]);
  expect(r.duplicates).toBe(0);
  expect(failedChecks(r)).toEqual([]);
}, 240_000);
