/**
 * The `.dead` queues are bounded (AMQP_DEAD_LETTER_MAX_LENGTH, `x-overflow: reject-publish`),
 * against a real RabbitMQ: a full one refuses new dead letters, the consumer counts the refusal
 * and keeps the message in its work queue, and once there is room it lands — none dropped. A
 * `.dead` queue an earlier release declared without the bound is used as it is, with a warning.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { AmqpConfig } from "../../src/config/config.ts";
import { ValidationError } from "../../src/lib/errors.ts";
import { createLogger, silentLogger } from "../../src/lib/log.ts";
import { registry } from "../../src/lib/telemetry.ts";
import { type Broker, createBroker } from "../../src/queue/broker.ts";
import { createConsumer } from "../../src/queue/consumer.ts";
import { createJobMessage } from "../../src/queue/messages.ts";
import { createPublisher } from "../../src/queue/publisher.ts";
import { deadQueueArguments, deadQueueName, legacyDeadQueueArguments } from "../../src/queue/topology.ts";
import {
  adminConnection,
  deleteTopology,
  eventually,
  messageCount,
  readMessages,
  testAmqpUrl,
  uniqueConfig,
} from "./amqp-helpers.ts";

const url = testAmqpUrl();
let config: AmqpConfig;
let broker: Broker | undefined;

afterEach(async () => {
  await broker?.close();
  broker = undefined;
  await deleteTopology(url, config);
});

async function metric(name: string, queue: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => v.labels.queue === queue)?.value ?? 0;
}

describe.each(["quorum", "classic"] as const)("bounded .dead queues (%s)", (queueType) => {
  test("a full .dead queue refuses; the refusal is counted and the message waits in its work queue", async () => {
    config = uniqueConfig(url, { queueType, deadLetterMaxLength: 2 });
    broker = createBroker(config, silentLogger);
    await broker.start();
    const admin = adminConnection(url);
    try {
      expect(await metric("item_sync_dead_letter_queue_bounded", config.updateQueue)).toBe(1);
      const before = await metric("item_sync_dead_letters_refused_total", config.updateQueue);
      const publisher = createPublisher(broker, silentLogger);
      const messages = [1, 2, 3, 4, 5].map((projectId) =>
        createJobMessage("update-item", 9, { projectId, projectPath: `imrt/items/item-${projectId}` }),
      );
      await publisher.publishAll(messages);
      const consumer = createConsumer(
        broker,
        config.updateQueue,
        async () => {
          throw new ValidationError("never works");
        },
        // one at a time: a quorum queue applies its limit to what it holds, not to publishes in flight
        { prefetch: 1, maxAttempts: 1, backoffMs: 1, deadQueueFullPauseMs: 50 },
        silentLogger,
      );
      const dead = deadQueueName(config.updateQueue);
      await eventually(
        async () => (await metric("item_sync_dead_letters_refused_total", config.updateQueue)) > before,
        20_000,
        "a refusal",
      );
      // classic queues stop at the limit; quorum queues may take one more
      expect(await messageCount(admin, dead)).toBeGreaterThanOrEqual(2);
      expect(await messageCount(admin, dead)).toBeLessThanOrEqual(3);
      expect(await messageCount(admin, dead)).toBeLessThan(5);
      // make room, one at a time: the ones waiting in the work queue land, none lost
      const ids: number[] = [];
      const ch = await admin.acquire();
      try {
        await eventually(
          async () => {
            const m = await ch.basicGet({ queue: dead, noAck: true });
            if (m) ids.push((m.body as { projectId: number }).projectId);
            return ids.length === 5;
          },
          20_000,
          "every dead letter",
        );
      } finally {
        await ch.close();
      }
      await consumer.close();
      expect(ids.sort()).toEqual([1, 2, 3, 4, 5]);
      expect(await messageCount(admin, config.updateQueue)).toBe(0);
    } finally {
      await admin.close();
    }
  }, 60_000);

  test("a .dead queue an earlier release declared unbounded is used as it is, with a warning", async () => {
    config = uniqueConfig(url, { queueType });
    const admin = adminConnection(url);
    const lines: string[] = [];
    try {
      const dead = deadQueueName(config.updateQueue);
      await admin.queueDeclare({ queue: dead, durable: true, arguments: legacyDeadQueueArguments(config) });
      broker = createBroker(
        config,
        createLogger("warn", {}, (line) => lines.push(line)),
      );
      await broker.start();
      expect(await metric("item_sync_dead_letter_queue_bounded", config.updateQueue)).toBe(0);
      const warnings = lines.map((l) => JSON.parse(l) as { msg: string; queue?: string });
      expect(warnings.filter((w) => w.queue === dead && w.msg.includes("earlier release"))).toHaveLength(1);
      // the other .dead queues got their bound
      expect(await metric("item_sync_dead_letter_queue_bounded", config.monitorQueue)).toBe(1);
      // dead-lettering into it works: its publisher re-declares it as it is
      const publisher = createPublisher(broker, silentLogger);
      await publisher.publishAll([
        createJobMessage("update-item", 9, { projectId: 1, projectPath: "imrt/items/item-1" }),
      ]);
      const consumer = createConsumer(
        broker,
        config.updateQueue,
        async () => {
          throw new ValidationError("never works");
        },
        { prefetch: 1, maxAttempts: 1, backoffMs: 1 },
        silentLogger,
      );
      expect(await readMessages(admin, dead, 1)).toHaveLength(1);
      await consumer.close();
      // a fresh declaration with the bound is what a new topology gets
      expect(deadQueueArguments(config)).toMatchObject({
        "x-max-length": 100_000,
        "x-overflow": "reject-publish",
      });
    } finally {
      await admin.close();
    }
  }, 60_000);
});
