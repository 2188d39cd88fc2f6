/** Consumers: redelivery storm, poison messages, 3 workers, one SIGKILLed mid-message. */
import { expect, test } from "bun:test";
import { consumerAbuse } from "./scenarios/consumers.ts";

test("3 workers, a redelivery storm, poison messages, a worker killed mid-message: every row right, poison in .dead with a reason", async () => {
  const r = await consumerAbuse();
  console.log(JSON.stringify(r));
  expect(r.wrongRows).toEqual([]);
  expect(r.outcome).toContain(
    `${r.poison}/${r.poison} messages in .dead, ${r.poison} with x-item-sync-reason`,
  );
}, 240_000);
