/**
 * `item-sync dead list` and `item-sync dead replay` through the compiled binary against the real
 * RabbitMQ: dead letters are shown with their reason and left in place; a replay puts the chosen
 * ones back on their work queue with their message id and body, and only those.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Connection } from "rabbitmq-client";
import { createTopology, deadQueueName } from "../../src/queue/topology.ts";
import { amqpUrl, brokerNames, deleteBrokerNames, startBinary } from "../helpers/binary.ts";

describe("dead letters", () => {
  const names = brokerNames("dead");
  const topology = createTopology({
    exchange: names.AMQP_EXCHANGE,
    monitorQueue: names.AMQP_MONITOR_QUEUE,
    updateQueue: names.AMQP_UPDATE_QUEUE,
    deleteQueue: names.AMQP_DELETE_QUEUE,
    queueType: "quorum",
    deliveryLimit: 10,
  });
  const update = names.AMQP_UPDATE_QUEUE;
  let connection: Connection;

  const run = async (args: string[]) => {
    const p = await startBinary(args, { AMQP_URL: amqpUrl(), ...names }, { waitForHttp: false });
    return { code: await p.exited, out: p.logs() };
  };
  const depth = async (queue: string) =>
    (await connection.queueDeclare({ queue, passive: true })).messageCount;

  beforeAll(async () => {
    connection = new Connection({ url: amqpUrl() });
    for (const e of topology.exchanges) await connection.exchangeDeclare(e);
    for (const q of topology.queueDeclares) await connection.queueDeclare(q);
    for (const b of topology.bindings) await connection.queueBind(b);
    // three messages dead-lettered as the consumer does it: to the DLX, with the reason headers
    const publisher = connection.createPublisher({ confirm: true });
    for (const projectId of [11, 12, 13]) {
      await publisher.send(
        {
          exchange: topology.deadLetterExchange,
          routingKey: update,
          durable: true,
          contentType: "application/json",
          type: "update-item",
          appId: "item-sync",
          messageId: `7:update-item:${projectId}`,
          headers: {
            "x-item-sync-reason": `GitLab answered 500 for project ${projectId}`,
            "x-item-sync-attempts": 5,
            "x-item-sync-dead-lettered-at": "2026-01-05T09:00:00.000Z",
          },
        },
        Buffer.from(
          JSON.stringify({
            type: "update-item",
            version: 1,
            projectId,
            projectPath: `imrt/items/item-${projectId}`,
            jobExecutionId: 7,
            createdAt: "2026-01-05T08:59:00.000Z",
          }),
        ),
      );
    }
    await publisher.close();
  });
  afterAll(async () => {
    await connection.close();
    await deleteBrokerNames(names);
  });

  test("dead list shows each dead letter with its reason and leaves it in its dead queue", async () => {
    const r = await run(["dead", "list", "--queue", update]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out.slice(r.out.indexOf('{\n  "counts"'))) as {
      counts: Record<string, number>;
      deadLetters: { messageId: string; projectId: number; reason: string; attempts: number }[];
    };
    expect(json.counts).toEqual({ [update]: 3 });
    expect(json.deadLetters.map((d) => [d.messageId, d.projectId, d.reason, d.attempts])).toEqual([
      ["7:update-item:11", 11, "GitLab answered 500 for project 11", 5],
      ["7:update-item:12", 12, "GitLab answered 500 for project 12", 5],
      ["7:update-item:13", 13, "GitLab answered 500 for project 13", 5],
    ]);
    expect(await depth(deadQueueName(update))).toBe(3);
    expect(await depth(update)).toBe(0);

    const table = await run(["dead", "list", "--table"]);
    expect(table.out).toMatch(/QUEUE\s+MESSAGE ID\s+PROJECT\s+ATTEMPTS\s+DEAD-LETTERED AT\s+REASON/);
    expect(table.out).toContain("GitLab answered 500 for project 12");

    const bad = await run(["dead", "list", "--queue", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--queue: "nope" is none of item-sync\'s queues');
  });

  test("dead replay --id puts that message back on its work queue, then replay puts back the rest", async () => {
    const one = await run(["dead", "replay", "--id", "7:update-item:12"]);
    expect(one.code).toBe(0);
    expect(one.out).toContain(`replayed 7:update-item:12 to ${update}`);
    expect(await depth(deadQueueName(update))).toBe(2);
    expect(await depth(update)).toBe(1);

    const ch = await connection.acquire();
    try {
      const msg = await ch.basicGet({ queue: update, noAck: true });
      expect(msg?.messageId).toBe("7:update-item:12");
      expect(msg?.type).toBe("update-item");
      const body = Buffer.isBuffer(msg?.body) ? JSON.parse(msg.body.toString("utf8")) : msg?.body;
      expect(body.projectId).toBe(12);
      expect(msg?.headers?.["x-item-sync-reason"]).toBeUndefined();
    } finally {
      await ch.close();
    }

    const missing = await run(["dead", "replay", "--id", "no-such-id"]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("no dead letter with message id no-such-id");

    const rest = await run(["dead", "replay", "--queue", update]);
    expect(rest.code).toBe(0);
    expect(rest.out).toContain("2 message(s) put back on their work queue");
    expect(await depth(deadQueueName(update))).toBe(0);
    expect(await depth(update)).toBe(2);
  });
});
