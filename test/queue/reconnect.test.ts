/**
 * Broker loss: the connection to a private RabbitMQ node (scripts/rabbitmq.sh, temp folder) is
 * reset by a TCP proxy while publishes are in flight — the cut-off ones are sent again; the node
 * is stopped while publishes are in flight and started again — every publish completes after the
 * reconnection — and kept down longer than the reconnect timeout — publishes reject with
 * BROKER_UNAVAILABLE.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { silentLogger } from "../../src/lib/log.ts";
import { SECOND } from "../../src/lib/time.ts";
import { createBroker } from "../../src/queue/broker.ts";
import { createJobMessage, type OutgoingMessage } from "../../src/queue/messages.ts";
import { createPublisher } from "../../src/queue/publisher.ts";
import { startTcpProxy } from "../reliability/lib/tcp-proxy.ts";
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

async function expectAllQueued(url: string, queue: string, messages: OutgoingMessage[]) {
  const admin = adminConnection(url);
  try {
    const { messageCount } = await admin.queueDeclare({ queue, passive: true });
    expect(messageCount).toBeGreaterThanOrEqual(messages.length);
    const got = await readMessages(admin, queue, messageCount);
    const ids = new Set(got.map((m) => m.messageId));
    for (const m of messages) expect(ids.has(m.messageId)).toBe(true);
  } finally {
    await admin.close();
  }
}

test(
  "a connection reset with publishes in flight: the cut-off publishes are sent again, none is lost",
  async () => {
    const proxy = startTcpProxy("127.0.0.1", Number(new URL(node.url).port));
    const config = uniqueConfig(`amqp://guest:guest@127.0.0.1:${proxy.port}`, {
      reconnectTimeoutMs: 30 * SECOND,
    });
    const broker = createBroker(config, silentLogger, { retryLowMs: 100, retryHighMs: 500 });
    try {
      await broker.start();
      const publisher = createPublisher(broker, silentLogger);
      const messages = Array.from({ length: 2_000 }, (_, i) => message(i));
      // every send starts before the reset and none can be confirmed yet: no I/O turn has passed
      const publishes = messages.map((m) => publisher.publish(m));
      expect(proxy.drop()).toBeGreaterThan(0);
      await Promise.all(publishes);
      expect(publisher.stats()).toMatchObject({ confirmed: messages.length, failed: 0, inFlight: 0 });
      expect(publisher.stats().resent).toBeGreaterThan(0);
      await expectAllQueued(node.url, config.updateQueue, messages);
    } finally {
      await broker.close();
      proxy.close();
    }
  },
  60 * SECOND,
);

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
      // Whether any publish was cut off mid-flight depends on how the node shuts down (it may
      // confirm all it received before closing); the reset test above covers resending.
      expect(publisher.stats()).toMatchObject({ confirmed: N, failed: 0, inFlight: 0 });
      await expectAllQueued(node.url, config.updateQueue, messages);

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
