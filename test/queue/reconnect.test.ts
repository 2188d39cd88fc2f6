/**
 * Broker loss: a private RabbitMQ node (scripts/rabbitmq.sh, temp folder) is stopped while
 * publishes are in flight and started again — every publish completes after the reconnection —
 * and kept down longer than the reconnect timeout — publishes reject with BROKER_UNAVAILABLE.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { silentLogger } from "../../src/lib/log.ts";
import { SECOND } from "../../src/lib/time.ts";
import { createBroker } from "../../src/queue/broker.ts";
import { createJobMessage, type OutgoingMessage } from "../../src/queue/messages.ts";
import { createPublisher } from "../../src/queue/publisher.ts";
import {
  adminConnection,
  createPrivateNode,
  eventually,
  type PrivateNode,
  readMessages,
  uniqueConfig,
} from "./amqp-helpers.ts";

let node: PrivateNode;

beforeAll(async () => {
  node = await createPrivateNode();
  await node.start();
}, 90 * SECOND);

afterAll(async () => {
  await node?.destroy();
}, 60 * SECOND);

const message = (i: number) =>
  createJobMessage("update-item", 11, { projectId: i + 1, projectPath: `imrt/items/item-${i + 1}` });

test(
  "publishes pending while the broker restarts complete after reconnection; a longer outage rejects them",
  async () => {
    const config = uniqueConfig(node.url, { reconnectTimeoutMs: 60 * SECOND });
    const broker = createBroker(config, silentLogger, { retryLowMs: 100, retryHighMs: 500 });
    try {
      await broker.start();
      const publisher = createPublisher(broker, silentLogger);

      // 1. restart mid-publish: nothing is lost, duplicates are allowed
      const messages: OutgoingMessage[] = [];
      const publishes: Promise<void>[] = [];
      const send = (count: number) => {
        for (let i = 0; i < count; i++) {
          const m = message(messages.length);
          messages.push(m);
          publishes.push(publisher.publish(m));
        }
      };
      send(500);
      const stopped = node.stop();
      // keep publishing until the loss is seen, so some publishes are cut off mid-flight
      while (broker.state().connected && messages.length < 30_000) {
        send(50);
        await Bun.sleep(10);
      }
      send(500); // and some while the broker is down
      await stopped;
      expect(broker.state().connected).toBe(false);
      expect(broker.state().lastError).not.toBeNull();
      await node.start();
      await Promise.all(publishes);
      const N = messages.length;
      expect(broker.state().connected).toBe(true);
      expect(publisher.stats()).toMatchObject({ confirmed: N, failed: 0, inFlight: 0 });
      expect(publisher.stats().resent).toBeGreaterThan(0);

      const admin = adminConnection(node.url);
      try {
        const { messageCount } = await admin.queueDeclare({ queue: config.updateQueue, passive: true });
        expect(messageCount).toBeGreaterThanOrEqual(N);
        const got = await readMessages(admin, config.updateQueue, messageCount);
        const ids = new Set(got.map((m) => m.messageId));
        for (const m of messages) expect(ids.has(m.messageId)).toBe(true);
      } finally {
        await admin.close();
      }

      // 2. an outage longer than the reconnect timeout fails the publish with BROKER_UNAVAILABLE
      const shortConfig = { ...config, reconnectTimeoutMs: 1_500 };
      const shortBroker = createBroker(shortConfig, silentLogger, { retryLowMs: 100, retryHighMs: 500 });
      try {
        await shortBroker.start();
        const shortPublisher = createPublisher(shortBroker, silentLogger);
        await shortPublisher.publish(message(0));
        await node.stop();
        await eventually(() => !shortBroker.state().connected, 10 * SECOND, "the loss to be seen");
        const results = await Promise.allSettled(
          [message(1), message(2)].map((m) => shortPublisher.publish(m)),
        );
        for (const r of results) {
          expect(r.status).toBe("rejected");
          if (r.status === "rejected") {
            expect(r.reason.code).toBe("BROKER_UNAVAILABLE");
            expect(r.reason.retryable).toBe(true);
          }
        }
        // the long-timeout publisher is still waiting out the same outage: it would not give up yet
        expect(broker.state().connected).toBe(false);
      } finally {
        await shortBroker.close();
      }
    } finally {
      await broker.close();
    }
  },
  90 * SECOND,
);
