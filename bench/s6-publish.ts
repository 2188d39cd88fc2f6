/**
 * S6 worker: publishes COUNT persistent messages with publisher confirms to a local RabbitMQ,
 * keeping WINDOW publishes awaiting their confirm at all times, and prints one JSON line
 * `{lib, count, window, ms, msgsPerSec}`. Run once per library, in its own process, so neither
 * shares an event loop or a connection with the other:
 *
 *   bun bench/s6-publish.ts --lib item-sync --url AMQP_URL --exchange X --queue Q --count N --window W
 *   bun bench/s6-publish.ts --lib amqplib   ...same...
 *
 * `item-sync` is the product's own path: createBroker → createPublisher → publish(createJobMessage),
 * i.e. rabbitmq-client with confirms, the mandatory flag, the contract's properties and the
 * return check. `amqplib` is the peer: a confirm channel publishing the same bytes with the same
 * properties and mandatory flag, each publish's callback releasing one window slot.
 * Both route to one durable queue bound to the exchange; the caller deletes it afterwards.
 */
import { connect } from "amqplib";
import { silentLogger } from "../src/lib/log.ts";
import { createBroker } from "../src/queue/broker.ts";
import { createJobMessage, encodeMessage } from "../src/queue/messages.ts";
import { createPublisher, messageEnvelope } from "../src/queue/publisher.ts";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const lib = arg("lib");
const url = arg("url");
const exchange = arg("exchange");
const queue = arg("queue");
const count = Number(arg("count", "100000"));
const window = Number(arg("window", "1000"));

/** Runs `count` tasks with at most `window` unsettled at once; resolves when all settled. */
const confirmMs: number[] = [];
async function windowed(task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < count && failure === undefined) {
      const i = next++;
      const t = performance.now();
      await task(i).catch((err) => {
        failure ??= err;
      });
      confirmMs.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  if (failure !== undefined) throw failure;
}

const messages = Array.from({ length: count }, (_, i) =>
  createJobMessage("update-item", 1, { projectId: i + 1, projectPath: `imrt/items/item-${i + 1}` }),
);

let ms = 0;
if (lib === "item-sync") {
  const broker = createBroker(
    {
      url,
      urls: [url],
      // the amqplib peer publishes to a classic queue: compare like with like
      queueType: "classic",
      deliveryLimit: 10,
      exchange,
      monitorQueue: `${queue}-monitor`,
      updateQueue: queue,
      deleteQueue: `${queue}-delete`,
      reconnectTimeoutMs: 30_000,
    },
    silentLogger,
    { connectionName: "bench-s6-item-sync" },
  );
  await broker.start();
  const publisher = createPublisher(broker, silentLogger);
  // warm-up: channel opened, topology declared
  await publisher.publish(createJobMessage("update-item", 0, { projectId: 0, projectPath: "warm/up" }));
  const t0 = performance.now();
  await windowed((i) => publisher.publish(messages[i] as (typeof messages)[number]));
  ms = performance.now() - t0;
  await broker.close();
} else if (lib === "amqplib") {
  const conn = await connect(url);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(exchange, "topic", { durable: true });
  await ch.assertQueue(queue, { durable: true });
  await ch.bindQueue(queue, exchange, "item.update");
  ch.on("return", (msg) => {
    throw new Error(`returned: ${msg.properties.messageId}`);
  });
  const publishOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const m = messages[i] as (typeof messages)[number];
      const env = messageEnvelope(exchange, m);
      ch.publish(
        exchange,
        m.routingKey,
        encodeMessage(m.body),
        {
          mandatory: true,
          persistent: true,
          contentType: "application/json",
          type: env.type,
          appId: env.appId,
          messageId: env.messageId,
        },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  await publishOne(0);
  const t0 = performance.now();
  await windowed((i) => publishOne(i));
  ms = performance.now() - t0;
  await ch.close();
  await conn.close();
} else {
  throw new Error(`--lib must be item-sync or amqplib, not ${lib}`);
}

confirmMs.sort((a, b) => a - b);
const pct = (p: number) =>
  Number((confirmMs[Math.min(confirmMs.length - 1, Math.floor(p * confirmMs.length))] ?? 0).toFixed(1));
console.log(
  JSON.stringify({
    lib,
    count,
    window,
    ms: Math.round(ms),
    msgsPerSec: Math.round((count / ms) * 1000),
    confirmP50Ms: pct(0.5),
    confirmP99Ms: pct(0.99),
    // CPU of this process (the client side) per message: what the library costs, not the broker
    cpuUsPerMsg: Number(((process.cpuUsage().user + process.cpuUsage().system) / count).toFixed(1)),
  }),
);
process.exit(0);
