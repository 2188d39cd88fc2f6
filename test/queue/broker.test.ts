/**
 * Broker start against a real RabbitMQ: the contract's topology exists afterwards, and the
 * work queues really dead-letter into their `.dead` queues.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Connection } from "rabbitmq-client";
import type { AmqpConfig } from "../../src/config/config.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type Broker, createBroker } from "../../src/queue/broker.ts";
import { deadQueueName } from "../../src/queue/topology.ts";
import { adminConnection, allQueues, deleteTopology, testAmqpUrl, uniqueConfig } from "./amqp-helpers.ts";

const url = testAmqpUrl();

describe("broker", () => {
  let config: AmqpConfig;
  let broker: Broker;
  let admin: Connection;

  beforeEach(() => {
    config = uniqueConfig(url);
    broker = createBroker(config, silentLogger);
    admin = adminConnection(url);
  });

  afterEach(async () => {
    await broker.close();
    await deleteTopology(url, config);
    await admin.close();
  });

  test("start declares the exchanges, work queues, dead queues and bindings", async () => {
    await broker.start();
    await broker.start(); // idempotent

    for (const exchange of [config.exchange, `${config.exchange}.dlx`]) {
      await admin.exchangeDeclare({ exchange, passive: true });
    }
    for (const queue of allQueues(config)) {
      const ok = await admin.queueDeclare({ queue, passive: true });
      expect(ok.messageCount).toBe(0);
    }
    // declaring again with the contract's arguments is accepted: they match what start() made
    await admin.queueDeclare({
      queue: config.updateQueue,
      durable: true,
      arguments: {
        "x-queue-type": "quorum",
        "x-delivery-limit": config.deliveryLimit,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-dead-letter-exchange": `${config.exchange}.dlx`,
        "x-dead-letter-routing-key": config.updateQueue,
      },
    });
    await admin.queueDeclare({
      queue: deadQueueName(config.updateQueue),
      durable: true,
      // bounded: AMQP_DEAD_LETTER_MAX_LENGTH, refusing beyond it (test/queue/dead-bound.test.ts)
      arguments: { "x-queue-type": "quorum", "x-max-length": 100_000, "x-overflow": "reject-publish" },
    });

    // bindings: item.monitor / item.update / item.delete route to their queues
    const ch = await admin.acquire();
    try {
      await ch.confirmSelect();
      for (const [key, queue] of [
        ["item.monitor", config.monitorQueue],
        ["item.update", config.updateQueue],
        ["item.delete", config.deleteQueue],
      ] as const) {
        await ch.basicPublish({ exchange: config.exchange, routingKey: key }, Buffer.from("x"));
        const got = await ch.basicGet({ queue });
        expect(got?.routingKey).toBe(key);
        // rejecting without requeue dead-letters it: it must land in the queue's .dead queue
        if (got) ch.basicNack({ deliveryTag: got.deliveryTag, requeue: false });
        let dead = await ch.basicGet({ queue: deadQueueName(queue), noAck: true });
        for (let i = 0; !dead && i < 50; i++) {
          await Bun.sleep(20);
          dead = await ch.basicGet({ queue: deadQueueName(queue), noAck: true });
        }
        expect(dead?.body).toBeDefined();
        expect(dead?.headers?.["x-death"]?.[0]?.reason).toBe("rejected");
      }
    } finally {
      await ch.close();
    }
  });

  test("state reports the connection and when it changed", async () => {
    await broker.start();
    const state = broker.state();
    expect(state.connected).toBe(true);
    expect(state.since).toBeInstanceOf(Date);
    expect(await broker.waitForConnection(10)).toBe(true);
    await broker.close();
    expect(broker.state().connected).toBe(false);
    await broker.close(); // idempotent
  });
});
