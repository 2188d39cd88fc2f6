/**
 * Publisher against a real RabbitMQ: thousands of confirmed publishes in flight read back by an
 * independent consumer with every property checked, and unroutable messages rejected.
 */
import { describe, expect, test } from "bun:test";
import { UpstreamError } from "../../src/lib/errors.ts";
import {
  createJobMessage,
  createWebhookUpdateMessage,
  type OutgoingMessage,
} from "../../src/queue/messages.ts";
import { messageCount, readMessages, testAmqpUrl, useBrokerFixture } from "./amqp-helpers.ts";

const url = testAmqpUrl();
const N = 5_000;

function project(i: number) {
  return { projectId: 1000 + i, projectPath: `imrt/items/item-${1000 + i}` };
}

describe("publisher", () => {
  const f = useBrokerFixture(url);

  test(`${N} concurrent publishes are confirmed and arrive with the contract's body and properties`, async () => {
    const messages = Array.from({ length: N }, (_, i) => createJobMessage("update-item", 7, project(i)));
    const monitor = createJobMessage("monitor-item", 7, project(0));
    const webhook = createWebhookUpdateMessage("0123abcd", project(1));

    // every publish started at once; none waits for another
    await Promise.all([...messages.map((m) => f.publisher.publish(m)), f.publisher.publish(monitor)]);
    await f.publisher.publishAll([webhook]);
    expect(f.publisher.stats()).toMatchObject({ confirmed: N + 2, failed: 0, inFlight: 0 });

    const got = await readMessages(f.admin, f.config.updateQueue, N + 1);
    const expected = new Map<string, OutgoingMessage>(
      [...messages, webhook].map((m) => [m.messageId, m] as const),
    );
    for (const msg of got) {
      const sent = expected.get(msg.messageId ?? "");
      expect(sent).toBeDefined();
      if (!sent) continue;
      expected.delete(sent.messageId);
      expect(msg.body).toEqual(sent.body);
      expect(msg.exchange).toBe(f.config.exchange);
      expect(msg.routingKey).toBe("item.update");
      expect(msg.durable).toBe(true); // deliveryMode 2
      expect(msg.contentType).toBe("application/json");
      expect(msg.type).toBe("update-item");
      expect(msg.appId).toBe("item-sync");
    }
    expect(expected.size).toBe(0);
    // Nothing else is in the queue. On a loaded machine a quorum queue may hand back a few of the
    // messages just read (acks still in its log when the reading channel closed): those may only
    // be copies of what was read, never a message nobody published.
    const read = new Set(got.map((m) => m.messageId));
    const left = await messageCount(f.admin, f.config.updateQueue);
    const copies = await readMessages(f.admin, f.config.updateQueue, left);
    expect(copies.filter((m) => !read.has(m.messageId))).toEqual([]);

    const [mon] = await readMessages(f.admin, f.config.monitorQueue, 1);
    expect(mon?.messageId).toBe("7:monitor-item:1000");
    expect(mon?.routingKey).toBe("item.monitor");
    expect(mon?.type).toBe("monitor-item");
    expect(mon?.body).toEqual(monitor.body);
    expect(webhook.messageId).toBe("0123abcd:update-item:1001");
    expect(webhook.body.jobExecutionId).toBeNull();
  });

  test("an unroutable publish rejects with UNROUTABLE and is never reported as confirmed", async () => {
    // the publish channel (re)declares the topology when it opens: open it before breaking routes
    await f.publisher.publish(createJobMessage("delete-item", 8, project(9999)));
    await f.admin.queueUnbind({
      exchange: f.config.exchange,
      queue: f.config.updateQueue,
      routingKey: "item.update",
    });
    await f.admin.queueDelete({ queue: f.config.monitorQueue });

    // mixed with routable messages in flight at the same time: each outcome must be its own
    const unroutable = Array.from({ length: 200 }, (_, i) => createJobMessage("update-item", 8, project(i)));
    const gone = Array.from({ length: 50 }, (_, i) => createJobMessage("monitor-item", 8, project(i)));
    const routable = Array.from({ length: 300 }, (_, i) => createJobMessage("delete-item", 8, project(i)));
    const results = await Promise.allSettled(
      [...unroutable, ...gone, ...routable].map((m) => f.publisher.publish(m)),
    );

    const rejected = results.slice(0, 250);
    for (const r of rejected) {
      expect(r.status).toBe("rejected");
      if (r.status === "rejected") {
        expect(r.reason).toBeInstanceOf(UpstreamError);
        expect(r.reason.code).toBe("UNROUTABLE");
        expect(r.reason.retryable).toBe(false);
        expect(r.reason.message).toContain("NO_ROUTE");
      }
    }
    expect(results.slice(250).every((r) => r.status === "fulfilled")).toBe(true);
    expect(f.publisher.stats()).toMatchObject({ confirmed: 301, failed: 250 });
    expect(await messageCount(f.admin, f.config.deleteQueue)).toBe(301);

    await expect(
      f.publisher.publishAll([routable[0], unroutable[0]] as OutgoingMessage[]),
    ).rejects.toMatchObject({
      code: "UNROUTABLE",
    });
  });

  test("a closed publisher rejects new publishes", async () => {
    await f.publisher.close();
    await expect(f.publisher.publish(createJobMessage("update-item", 9, project(1)))).rejects.toMatchObject({
      code: "PUBLISHER_CLOSED",
    });
  });
});
