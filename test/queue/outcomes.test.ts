/**
 * What a consumer tells `outcomes` (the per-project record behind an item's status) against a
 * real RabbitMQ: each success; each dead letter it sends, with its reason; and, on a quorum queue,
 * the broker's last delivery before its handler runs — so a message the broker dead-letters past
 * its delivery limit (its workers keep stopping mid-way) is not invisible per project.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Connection } from "rabbitmq-client";
import type { AmqpConfig } from "../../src/config/config.ts";
import { ValidationError } from "../../src/lib/errors.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type Broker, createBroker } from "../../src/queue/broker.ts";
import {
  createConsumer,
  type DeadLetterNotice,
  type MessageHandler,
  type MessageOutcomes,
} from "../../src/queue/consumer.ts";
import { createJobMessage, type ItemMessage } from "../../src/queue/messages.ts";
import { createPublisher, type Publisher } from "../../src/queue/publisher.ts";
import { deadQueueName } from "../../src/queue/topology.ts";
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

describe("consumer outcomes", () => {
  let config: AmqpConfig;
  let broker: Broker;
  let publisher: Publisher;
  let admin: Connection;
  const heard: Array<{ kind: "handled" } | ({ kind: "dead"; projectId: number } & DeadLetterNotice)> = [];
  const outcomes: MessageOutcomes = {
    async deadLettered(message: ItemMessage, notice) {
      heard.push({ kind: "dead", projectId: message.projectId, ...notice });
    },
    async handled() {
      heard.push({ kind: "handled" });
    },
  };
  const update = (projectId: number) =>
    createJobMessage("update-item", 3, { projectId, projectPath: `imrt/items/item-${projectId}` });
  const consume = (handler: MessageHandler, extra: { deliveryLimit?: number; maxAttempts?: number } = {}) =>
    createConsumer(
      broker,
      config.updateQueue,
      handler,
      {
        prefetch: 1,
        maxAttempts: extra.maxAttempts ?? 2,
        backoffMs: 10,
        outcomes,
        deliveryLimit: extra.deliveryLimit,
      },
      silentLogger,
    );
  /** A handler that runs until its worker stops (the consumer closes): a worker lost mid-way. */
  const untilStopped: MessageHandler = (_m, ctx) =>
    new Promise((_resolve, reject) =>
      ctx.signal.addEventListener("abort", () => reject(new Error("stopped"))),
    );

  beforeEach(async () => {
    heard.length = 0;
    config = uniqueConfig(url, { deliveryLimit: 1 });
    broker = createBroker(config, silentLogger);
    await broker.start();
    publisher = createPublisher(broker, silentLogger);
    admin = adminConnection(url);
  });
  afterEach(async () => {
    await broker.close();
    await deleteTopology(url, config);
    await admin.close();
  });

  test("a success is told; a dead letter is told with its queue, reason and attempts", async () => {
    const ok = consume(async () => {});
    await publisher.publish(update(1));
    await eventually(() => heard.length === 1, 10_000, "the success told");
    await ok.close();
    expect(heard).toEqual([{ kind: "handled" }]);

    const failing = consume(async () => {
      throw new ValidationError("item.json is not valid");
    });
    await publisher.publish(update(2));
    await readMessages(admin, deadQueueName(config.updateQueue), 1);
    await eventually(() => heard.length === 2, 10_000, "the dead letter told");
    await failing.close();
    expect(heard[1]).toMatchObject({
      kind: "dead",
      projectId: 2,
      queue: config.updateQueue,
      messageId: "3:update-item:2",
      reason: "non-retryable error: INVALID_REQUEST: item.json is not valid",
      attempts: 1,
      by: "item-sync",
    });
  });

  test("the broker's last delivery is told before its handler runs; the broker then dead-letters it", async () => {
    await publisher.publish(update(3));
    // first delivery (x-delivery-count absent): its worker stops mid-way, nothing is told
    const first = consume(untilStopped, { deliveryLimit: config.deliveryLimit });
    await eventually(() => first.stats().inFlight === 1, 10_000, "first delivery in hand");
    await first.close();
    expect(heard).toEqual([]);
    // second and last delivery (x-delivery-count 1 = AMQP_DELIVERY_LIMIT): told at once
    const last = consume(untilStopped, { deliveryLimit: config.deliveryLimit });
    await eventually(() => heard.length === 1, 10_000, "the last delivery told");
    expect(heard[0]).toMatchObject({ kind: "dead", projectId: 3, by: "broker", attempts: 2 });
    expect((heard[0] as DeadLetterNotice).reason).toContain("AMQP_DELIVERY_LIMIT=1");
    await last.close();
    // it did not settle either: the broker moved it to .dead itself
    const [dead] = await readMessages(admin, deadQueueName(config.updateQueue), 1);
    expect(dead?.headers?.["x-death"]?.[0]?.reason).toBe("delivery_limit");
    expect(await messageCount(admin, config.updateQueue)).toBe(0);
    expect(heard).toHaveLength(1);
  });

  test("a last delivery that succeeds is told as a success after it", async () => {
    await publisher.publish(update(4));
    const first = consume(untilStopped, { deliveryLimit: config.deliveryLimit });
    await eventually(() => first.stats().inFlight === 1, 10_000, "first delivery in hand");
    await first.close();
    const last = consume(async () => {}, { deliveryLimit: config.deliveryLimit });
    await eventually(() => heard.length === 2, 10_000, "both told");
    await last.close();
    expect(heard.map((h) => (h.kind === "dead" ? h.by : h.kind))).toEqual(["broker", "handled"]);
  });
});
