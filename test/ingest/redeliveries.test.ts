/**
 * Redeliveries counted across processes (ingest_redelivery): the ledger on both databases, and a
 * message that never gets settled — each consumer handling it goes away first, as a crashed or
 * killed worker does — dead-lettered after the limit instead of coming back for ever.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRedeliveryLedger } from "../../src/ingest/redelivery-ledger.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createConsumer, DEAD_LETTER_HEADERS, type QueueConsumer } from "../../src/queue/consumer.ts";
import { createJobMessage } from "../../src/queue/messages.ts";
import { deadQueueName } from "../../src/queue/topology.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import {
  eventually,
  messageCount,
  readMessages,
  testAmqpUrl,
  useBrokerFixture,
} from "../queue/amqp-helpers.ts";

for (const dialect of DIALECTS) {
  describe(`redelivery ledger on ${dialect}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
    });
    afterAll(async () => {
      await t.drop();
    });

    test("counts each message per queue, forgets it when settled", async () => {
      const ledger = createRedeliveryLedger(t.db);
      expect(await ledger.record("q1", "m1")).toBe(1);
      expect(await ledger.record("q1", "m1")).toBe(2);
      expect(await ledger.record("q1", "m2")).toBe(1);
      expect(await ledger.record("q2", "m1")).toBe(1);
      expect(await ledger.record("q1", "m1")).toBe(3);
      await ledger.forget("q1", "m1");
      expect(await ledger.record("q1", "m1")).toBe(1);
      expect(await ledger.record("q2", "m1")).toBe(2);
    });

    test("simultaneous records of one message (several workers) each get their own count", async () => {
      const ledger = createRedeliveryLedger(t.db);
      const counts = await Promise.all(Array.from({ length: 20 }, () => ledger.record("q3", "same")));
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });
  });
}

describe("a message that is never settled", () => {
  const f = useBrokerFixture(testAmqpUrl());
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
  });
  afterAll(async () => {
    await t.drop();
  });

  test("is dead-lettered after the redelivery limit, not handled again, and leaves the ledger", async () => {
    const MAX = 3;
    const ledger = createRedeliveryLedger(t.db);
    const message = createJobMessage("update-item", 5, { projectId: 42, projectPath: "imrt/items/item-42" });
    let handlerCalls = 0;
    const redeliveredFlags: boolean[] = [];
    await f.publisher.publish(message);

    // Each consumer takes the message and goes away before its handler finishes: the broker
    // gets the message back unsettled and delivers it again, flagged redelivered.
    for (let round = 1; round <= MAX + 1; round++) {
      let consumer: QueueConsumer | undefined;
      const inHandler = new Promise<void>((entered) => {
        consumer = createConsumer(
          f.broker,
          f.config.updateQueue,
          async (_m, ctx) => {
            handlerCalls++;
            redeliveredFlags.push(ctx.redelivered);
            entered();
            await new Promise((_, reject) =>
              ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
            );
          },
          { prefetch: 1, maxAttempts: 5, backoffMs: 10, redeliveries: { ledger, max: MAX } },
          silentLogger,
        );
      });
      await inHandler;
      await consumer?.close();
    }
    expect(handlerCalls).toBe(MAX + 1);
    expect(redeliveredFlags).toEqual([false, true, true, true]);

    // The next delivery is redelivery number MAX + 1: dead-lettered without calling the handler.
    const last = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {
        handlerCalls++;
      },
      { prefetch: 1, maxAttempts: 5, backoffMs: 10, redeliveries: { ledger, max: MAX } },
      silentLogger,
    );
    const [dead] = await readMessages(f.admin, deadQueueName(f.config.updateQueue), 1);
    expect(dead?.messageId).toBe(message.messageId);
    expect(String(dead?.headers?.[DEAD_LETTER_HEADERS.reason])).toStartWith(
      `redelivered ${MAX + 1} times without being settled`,
    );
    // the dead letter can be in .dead before the broker's confirm reaches the consumer, which
    // counts it only then: wait for both counts
    await eventually(
      () => last.stats().failed === 1 && last.stats().deadLettered === 1,
      5_000,
      "the dead-lettering to be counted",
    );
    expect(handlerCalls).toBe(MAX + 1);
    expect(last.stats()).toMatchObject({ handled: 0, failed: 1, deadLettered: 1 });
    await last.close();
    expect(await messageCount(f.admin, f.config.updateQueue)).toBe(0);
    expect(await t.db.all("select * from ingest_redelivery")).toEqual([]);
  });

  test("a redelivered message that is handled is acked and forgotten", async () => {
    const ledger = createRedeliveryLedger(t.db);
    const message = createJobMessage("update-item", 6, { projectId: 43, projectPath: "imrt/items/item-43" });
    await f.publisher.publish(message);
    let first: QueueConsumer | undefined;
    const entered = new Promise<void>((resolve) => {
      first = createConsumer(
        f.broker,
        f.config.updateQueue,
        async (_m, ctx) => {
          resolve();
          await new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
          );
        },
        { prefetch: 1, maxAttempts: 5, backoffMs: 10, redeliveries: { ledger, max: 3 } },
        silentLogger,
      );
    });
    await entered;
    await first?.close();
    const second = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {},
      { prefetch: 1, maxAttempts: 5, backoffMs: 10, redeliveries: { ledger, max: 3 } },
      silentLogger,
    );
    await eventually(() => second.stats().handled === 1, 5_000, "the redelivered message to be handled");
    await eventually(
      async () => (await t.db.all("select * from ingest_redelivery")).length === 0,
      5_000,
      "the ledger row to go",
    );
    await second.close();
    expect(await messageCount(f.admin, f.config.updateQueue)).toBe(0);
  });
});
