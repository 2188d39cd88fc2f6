/**
 * Helpers for queue tests against a real RabbitMQ: the broker URL from TEST_AMQP_URL, a config with
 * names of its own per test (random suffix) and their removal, an independent AMQP reader that
 * bypasses src/queue, and private nodes started with scripts/rabbitmq.sh.
 */

import { afterEach, beforeEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AsyncMessage, Connection } from "rabbitmq-client";
import type { AmqpConfig } from "../../src/config/config.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { SECOND } from "../../src/lib/time.ts";
import { type Broker, createBroker } from "../../src/queue/broker.ts";
import { createPublisher, type Publisher } from "../../src/queue/publisher.ts";
import { createTopology, deadQueueName } from "../../src/queue/topology.ts";

export function testAmqpUrl(): string {
  const url = process.env.TEST_AMQP_URL;
  if (!url) {
    throw new Error(
      "TEST_AMQP_URL is not set. Start a broker and point the tests at it, e.g.\n" +
        "  scripts/rabbitmq.sh install && scripts/rabbitmq.sh start /tmp/rmq-test 5679\n" +
        "  TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5679 bun test test/queue",
    );
  }
  return url;
}

/** A config whose exchange and queues no other test uses. */
export function uniqueConfig(url: string, overrides: Partial<AmqpConfig> = {}): AmqpConfig {
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const config: AmqpConfig = {
    url,
    urls: [url],
    queueType: "quorum",
    deliveryLimit: 10,
    exchange: `test.items.${suffix}`,
    monitorQueue: `test-monitor-${suffix}`,
    updateQueue: `test-update-${suffix}`,
    deleteQueue: `test-delete-${suffix}`,
    reconnectTimeoutMs: 30 * SECOND,
    ...overrides,
  };
  return overrides.url && !overrides.urls ? { ...config, urls: [overrides.url] } : config;
}

/** The AMQP_* variables that give a configuration `config`'s broker and names. */
export function amqpEnv(config: AmqpConfig): Record<string, string> {
  return {
    AMQP_URL: config.url,
    AMQP_EXCHANGE: config.exchange,
    AMQP_MONITOR_QUEUE: config.monitorQueue,
    AMQP_UPDATE_QUEUE: config.updateQueue,
    AMQP_DELETE_QUEUE: config.deleteQueue,
  };
}

export function allQueues(config: AmqpConfig): string[] {
  const work = [config.monitorQueue, config.updateQueue, config.deleteQueue];
  return [...work, ...work.map(deadQueueName)];
}

/** Deletes every queue and exchange of `config` (missing ones are fine). */
export async function deleteTopology(url: string, config: AmqpConfig): Promise<void> {
  const admin = new Connection({ url, retryLow: 100, retryHigh: 500 });
  admin.on("error", () => {});
  try {
    for (const queue of allQueues(config)) await admin.queueDelete({ queue });
    for (const { exchange } of createTopology(config).exchanges) await admin.exchangeDelete({ exchange });
  } finally {
    await admin.close();
  }
}

export function adminConnection(url: string): Connection {
  const conn = new Connection({ url, retryLow: 100, retryHigh: 500 });
  conn.on("error", () => {});
  return conn;
}

/**
 * Reads `count` messages from `queue` with a plain channel (acked), independent of src/queue.
 * Rejects when they have not all arrived within `timeoutMs`; those that did are in `received`
 * when the caller passes its own array.
 */
export async function readMessages(
  conn: Connection,
  queue: string,
  count: number,
  timeoutMs = 30 * SECOND,
  received: AsyncMessage[] = [],
): Promise<AsyncMessage[]> {
  const ch = await conn.acquire();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await ch.basicQos({ prefetchCount: 500 });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`read ${received.length} of ${count} messages from ${queue}`)),
        timeoutMs,
      );
      if (count === 0) return resolve();
      void ch
        .basicConsume({ queue }, (msg) => {
          received.push(msg);
          ch.basicAck({ deliveryTag: msg.deliveryTag });
          if (received.length >= count) resolve();
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await ch.close();
  }
  return received;
}

/** Messages currently ready in `queue` (passive declare). */
export async function messageCount(conn: Connection, queue: string): Promise<number> {
  const ok = await conn.queueDeclare({ queue, passive: true });
  return ok.messageCount;
}

/** Polls `check` until it is true; rejects after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20 * SECOND,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const SCRIPT = join(import.meta.dir, "../../scripts/rabbitmq.sh");

async function script(...args: string[]): Promise<string> {
  const proc = Bun.spawn(["bash", SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`scripts/rabbitmq.sh ${args.join(" ")} failed (${code}):\n${err}`);
  return out.trim();
}

/** A private RabbitMQ node in a temporary folder, for tests that stop and restart their broker. */
export interface PrivateNode {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** stops the node and removes its folder */
  destroy(): Promise<void>;
}

export async function createPrivateNode(): Promise<PrivateNode> {
  const dir = mkdtempSync(join(tmpdir(), "item-sync-rmq-"));
  const port = await script("free-port");
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    // A node can die at start-up when a port was taken between the script's check and the bind
    // (each start draws a new distribution port): start again, a few times, before giving up.
    start: async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await script("start", dir, port);
          return;
        } catch (err) {
          if (attempt >= 3) throw err;
          await script("stop", dir).catch(() => {});
          await Bun.sleep(500);
        }
      }
    },
    stop: async () => {
      await script("stop", dir);
    },
    destroy: async () => {
      await script("stop", dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What each queue test gets: its own names, a started broker with a publisher, and an admin connection. */
export interface BrokerFixture {
  config: AmqpConfig;
  broker: Broker;
  publisher: Publisher;
  admin: Connection;
}

/** Registers beforeEach/afterEach that build a BrokerFixture per test and remove its topology after. */
export function useBrokerFixture(url: string): BrokerFixture {
  const f = {} as BrokerFixture;
  beforeEach(async () => {
    f.config = uniqueConfig(url);
    f.broker = createBroker(f.config, silentLogger);
    await f.broker.start();
    f.publisher = createPublisher(f.broker, silentLogger);
    f.admin = adminConnection(url);
  });
  afterEach(async () => {
    await f.broker.close(); // consumers and the publisher first
    await deleteTopology(url, f.config);
    await f.admin.close();
  });
  return f;
}
