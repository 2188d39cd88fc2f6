/**
 * A publish the broker refuses (nack) for a while — as a quorum queue does while it elects a new
 * leader after losing a node — is sent again until the broker takes it, within
 * AMQP_RECONNECT_TIMEOUT; not given up after a few quick tries.
 */
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/lib/log.ts";
import { createJobMessage } from "../../src/queue/messages.ts";
import { createPublisher } from "../../src/queue/publisher.ts";
import { waitFor } from "../helpers/binary.ts";
import { messageCount, testAmqpUrl, useBrokerFixture } from "./amqp-helpers.ts";

describe("publisher and nacks", () => {
  const f = useBrokerFixture(testAmqpUrl());
  /** A full queue that rejects publishes (x-overflow reject-publish), bound beside the real one:
   *  the broker nacks every item.update until it is deleted. */
  const blockUpdates = async (blocker: string) => {
    await f.admin.queueDeclare({
      queue: blocker,
      durable: true,
      arguments: { "x-max-length": 0, "x-overflow": "reject-publish" },
    });
    await f.admin.queueBind({ exchange: f.config.exchange, queue: blocker, routingKey: "item.update" });
  };

  test("a publish nacked for a while is sent again until the broker accepts it", async () => {
    const blocker = `${f.config.updateQueue}-blocker`;
    await blockUpdates(blocker);
    const message = createJobMessage("update-item", 3, { projectId: 1, projectPath: "imrt/items/item-1" });
    let settled = false;
    const published = f.publisher.publish(message).finally(() => {
      settled = true;
    });
    // refused again and again (the publisher's own resend count says so): still waiting, not failed
    const resentBefore = f.publisher.stats().resent;
    await waitFor(
      "three refusals sent again",
      async () => f.publisher.stats().resent >= resentBefore + 3,
      30_000,
    );
    expect(settled).toBe(false);
    expect(f.publisher.stats().failed).toBe(0);
    await f.admin.queueDelete({ queue: blocker });
    await published;
    // a nack from one of two queues does not undo the other's copy: resends add duplicates there
    // (at least once; the consumers are idempotent)
    expect(await messageCount(f.admin, f.config.updateQueue)).toBeGreaterThanOrEqual(1);
  });

  test("a publish refused 5 times goes on a new channel, and lands there once the broker takes it", async () => {
    // RabbitMQ 3.10 was seen to keep refusing on one channel after the queue had its new leader
    const blocker = `${f.config.updateQueue}-blocker`;
    await blockUpdates(blocker);
    const warnings: { msg: string; nacks?: number }[] = [];
    const publisher = createPublisher(
      f.broker,
      createLogger("warn", {}, (line) => warnings.push(JSON.parse(line))),
    );
    try {
      const message = createJobMessage("update-item", 4, { projectId: 2, projectPath: "imrt/items/item-2" });
      const published = publisher.publish(message);
      await waitFor(
        "the publisher to change channels",
        async () =>
          warnings.some((w) =>
            w.msg.startsWith("the broker keeps refusing a publish; sending on a new channel"),
          ),
        15_000,
      );
      expect(warnings.find((w) => w.msg.includes("new channel"))?.nacks).toBe(5);
      await f.admin.queueDelete({ queue: blocker });
      await published;
      expect(await messageCount(f.admin, f.config.updateQueue)).toBeGreaterThanOrEqual(1);
    } finally {
      await publisher.close();
    }
  }, 30_000);
});
