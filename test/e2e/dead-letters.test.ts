/**
 * `item-sync dead list`, `dead replay` and `dead purge` through the compiled binary against the
 * real RabbitMQ: dead letters are shown with their reason and kind and left in place; a replay
 * puts the chosen ones back on their work queue with their message id and body, and only those:
 * at most the ones present when it started (workers dead-letter them again meanwhile), never the
 * malformed or quarantined ones unless asked, saying what it left; a purge removes them, all or
 * only the malformed and quarantined ones; the dead-letter counter counts a message once however
 * often it is replayed; none of these commands logs the broker's set-up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Connection } from "rabbitmq-client";
import { AppError } from "../../src/lib/errors.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { consumerDeadLettered, consumerDeadLetteredAgain } from "../../src/lib/telemetry.ts";
import { createConsumer } from "../../src/queue/consumer.ts";
import { createJobMessage } from "../../src/queue/messages.ts";
import { createTopology, deadQueueName } from "../../src/queue/topology.ts";
import { amqpUrl, brokerNames, deleteBrokerNames, startBinary } from "../helpers/binary.ts";
import { amqpEnv, eventually, messageCount, useBrokerFixture } from "../queue/amqp-helpers.ts";

/** An update-item of execution 7, as the sync publishes it. */
const updateItemBody = (projectId: number) =>
  Buffer.from(
    JSON.stringify({
      type: "update-item",
      version: 1,
      projectId,
      projectPath: `imrt/items/item-${projectId}`,
      jobExecutionId: 7,
      createdAt: "2026-01-05T08:59:00.000Z",
    }),
  );

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
        updateItemBody(projectId),
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

    expect(r.out).not.toContain("broker topology declared");

    const table = await run(["dead", "list", "--table"]);
    expect(table.out).toMatch(/QUEUE\s+MESSAGE ID\s+PROJECT\s+KIND\s+ATTEMPTS\s+DEAD-LETTERED AT\s+REASON/);
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

describe("dead letters that can be handled", () => {
  const f = useBrokerFixture(amqpUrl());
  const run = async (args: string[]) => {
    const p = await startBinary(args, amqpEnv(f.config), { waitForHttp: false });
    return { code: await p.exited, out: p.logs() };
  };
  /** Dead-letters a message as the consumer does: to the DLX, with the reason headers. */
  const deadLetter = async (queue: string, id: string, headers: Record<string, unknown>, raw: Buffer) => {
    const ch = await f.admin.acquire();
    try {
      await ch.confirmSelect();
      await ch.basicPublish(
        {
          exchange: f.broker.topology.deadLetterExchange,
          routingKey: queue,
          durable: true,
          messageId: id,
          headers: { "x-item-sync-attempts": 0, ...headers },
        },
        raw,
      );
    } finally {
      await ch.close();
    }
  };
  /** Messages left unacked go back through the quorum queue's log: a moment later. */
  const holds = (queue: string, n: number) =>
    eventually(async () => (await messageCount(f.admin, queue)) === n, 10_000, `${queue} holds ${n}`);
  const counted = async (counter: typeof consumerDeadLettered, queue: string) =>
    (await counter.get()).values.find((v) => v.labels.queue === queue)?.value ?? 0;

  test("replay takes the dead letters present when it starts while workers dead-letter them again; the counter counts each once", async () => {
    const queue = f.config.monitorQueue;
    // workers that dead-letter every message at once, as they do a message whose cause remains
    const consumer = createConsumer(
      f.broker,
      queue,
      async () => {
        throw new AppError("STILL_BROKEN", 500, "the cause is still there");
      },
      { prefetch: 4, maxAttempts: 5, backoffMs: 10 },
      silentLogger,
    );
    try {
      const before = await counted(consumerDeadLettered, queue);
      await f.publisher.publishAll(
        [1, 2, 3, 4].map((projectId) =>
          createJobMessage("monitor-item", 9, { projectId, projectPath: `imrt/items/item-${projectId}` }),
        ),
      );
      await eventually(
        async () => (await messageCount(f.admin, deadQueueName(queue))) === 4,
        10_000,
        "4 dead letters",
      );
      // counted once the broker confirmed each dead letter, which may come after it is visible
      await eventually(() => consumer.stats().deadLettered === 4, 10_000, "4 confirmed");
      expect((await counted(consumerDeadLettered, queue)) - before).toBe(4);

      for (const round of [1, 2]) {
        const r = await run(["dead", "replay", "--queue", queue]);
        expect(r.code).toBe(0);
        expect(r.out).toContain("4 message(s) put back on their work queue");
        expect(r.out.match(/^replayed /gm)?.length).toBe(4);
        expect(r.out).not.toContain("broker topology declared");
        await eventually(
          () => consumer.stats().deadLettered === 4 + 4 * round,
          10_000,
          `dead-lettered again (round ${round})`,
        );
        await eventually(
          async () => (await messageCount(f.admin, deadQueueName(queue))) === 4,
          10_000,
          "4 dead letters again",
        );
      }
      // 4 messages failed: the alert's counter says 4, the replays that failed again are apart
      expect((await counted(consumerDeadLettered, queue)) - before).toBe(4);
      expect(await counted(consumerDeadLetteredAgain, queue)).toBe(8);
    } finally {
      await consumer.close();
    }
  });

  test("replay leaves malformed and quarantined dead letters and says so, unless --include-malformed", async () => {
    const queue = f.config.updateQueue;
    await deadLetter(
      queue,
      "7:update-item:21",
      {
        "x-item-sync-reason": "failed after 5 attempt(s): GITLAB_ERROR: 502",
        "x-item-sync-kind": "GITLAB_ERROR",
      },
      updateItemBody(21),
    );
    await deadLetter(
      queue,
      "bad-1",
      {
        "x-item-sync-reason": "malformed message: body is not a JSON object",
        "x-item-sync-kind": "malformed",
      },
      Buffer.from("not json"),
    );
    // as an earlier release wrote it: no kind header, the code in the reason
    await deadLetter(
      queue,
      "7:update-item:22",
      {
        "x-item-sync-reason":
          "non-retryable error: ITEM_QUARANTINED: project 22: item.json quarantined: no id",
      },
      updateItemBody(22),
    );
    await deadLetter(
      queue,
      "7:update-item:23",
      { "x-item-sync-reason": "failed after 5 attempt(s): timeout" },
      updateItemBody(23),
    );

    const list = await run(["dead", "list", "--json", "--queue", queue]);
    const listed = JSON.parse(list.out.slice(list.out.indexOf('{\n  "counts"'))) as {
      deadLetters: { messageId: string; kind: string }[];
    };
    expect(listed.deadLetters.map((d) => [d.messageId, d.kind])).toEqual([
      ["7:update-item:21", "failed"],
      ["bad-1", "malformed"],
      ["7:update-item:22", "quarantined"],
      ["7:update-item:23", "failed"],
    ]);
    await holds(deadQueueName(queue), 4);

    const one = await run(["dead", "replay", "--id", "bad-1"]);
    expect(one.code).toBe(1);
    expect(one.out).toContain(`left bad-1 in ${deadQueueName(queue)}: malformed`);
    expect(one.out).toContain("--include-malformed");
    await holds(deadQueueName(queue), 4);

    const r = await run(["dead", "replay", "--queue", queue]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("2 message(s) put back on their work queue");
    expect(r.out).toContain(
      `left bad-1 in ${deadQueueName(queue)}: malformed (malformed message: body is not a JSON object)`,
    );
    expect(r.out).toContain(`left 7:update-item:22 in ${deadQueueName(queue)}: quarantined`);
    expect(r.out).toContain(
      "left 2 message(s) that a replay cannot make succeed (1 malformed, 1 quarantined)",
    );
    expect(r.out).toContain("item-sync dead purge --malformed");
    await holds(deadQueueName(queue), 2);
    await holds(queue, 2);

    const all = await run(["dead", "replay", "--queue", queue, "--include-malformed"]);
    expect(all.code).toBe(0);
    expect(all.out).toContain("2 message(s) put back on their work queue");
    expect(all.out).not.toContain("left ");
    await holds(deadQueueName(queue), 0);
    await holds(queue, 4);
  });

  test("purge --malformed removes only the malformed and quarantined dead letters; purge removes the rest", async () => {
    const update = f.config.updateQueue;
    const del = f.config.deleteQueue;
    await deadLetter(
      update,
      "bad-2",
      { "x-item-sync-reason": "malformed message: version must be 1", "x-item-sync-kind": "malformed" },
      Buffer.from("{}"),
    );
    await deadLetter(
      update,
      "7:update-item:31",
      { "x-item-sync-reason": "failed after 5 attempt(s): timeout" },
      updateItemBody(31),
    );
    await deadLetter(
      update,
      "7:update-item:32",
      {
        "x-item-sync-reason": "non-retryable error: ITEM_QUARANTINED: project 32: item.json quarantined: x",
        "x-item-sync-kind": "ITEM_QUARANTINED",
      },
      updateItemBody(32),
    );
    await deadLetter(
      del,
      "7:delete-item:33",
      { "x-item-sync-reason": "failed after 5 attempt(s): timeout" },
      updateItemBody(33),
    );

    const some = await run(["dead", "purge", "--malformed"]);
    expect(some.code).toBe(0);
    expect(some.out).toContain(`purged 2 malformed or quarantined message(s) from ${deadQueueName(update)}`);
    expect(some.out).toContain(`purged 0 malformed or quarantined message(s) from ${deadQueueName(del)}`);
    expect(some.out).not.toContain("broker topology declared");
    await holds(deadQueueName(update), 1);
    await holds(deadQueueName(del), 1);

    const one = await run(["dead", "purge", "--queue", del]);
    expect(one.code).toBe(0);
    expect(one.out).toContain(`purged 1 message(s) from ${deadQueueName(del)}`);
    await holds(deadQueueName(del), 0);
    await holds(deadQueueName(update), 1);

    const rest = await run(["dead", "purge"]);
    expect(rest.code).toBe(0);
    expect(rest.out).toContain(`purged 1 message(s) from ${deadQueueName(update)}`);
    await holds(deadQueueName(update), 0);

    const wrong = await run(["dead", "purge", "--id", "x"]);
    expect(wrong.code).toBe(2);
    expect(wrong.out).toContain("--id applies to dead replay only");
  });
});
