/**
 * Consumer against a real RabbitMQ: malformed messages, transient and permanent handler failures
 * end where they should — handled once, or in `{queue}.dead` with the reason on the message.
 */
import { describe, expect, test } from "bun:test";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { UpstreamError, ValidationError } from "../../src/lib/errors.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createConsumer, DEAD_LETTER_HEADERS, type MessageHandler } from "../../src/queue/consumer.ts";
import { createJobMessage, type ItemMessage } from "../../src/queue/messages.ts";
import { deadQueueName } from "../../src/queue/topology.ts";
import { simConfig } from "../gitlab/helpers.ts";
import { startGitlabSim } from "../sim/gitlab.ts";
import { eventually, messageCount, readMessages, testAmqpUrl, useBrokerFixture } from "./amqp-helpers.ts";

const url = testAmqpUrl();
const options = { prefetch: 4, maxAttempts: 3, backoffMs: 10 };

describe("consumer", () => {
  const f = useBrokerFixture(url);

  const update = (projectId: number) =>
    createJobMessage("update-item", 3, { projectId, projectPath: `imrt/items/item-${projectId}` });

  async function publishRaw(body: Buffer | string, props: { contentType?: string; messageId?: string } = {}) {
    const ch = await f.admin.acquire();
    try {
      await ch.confirmSelect();
      await ch.basicPublish(
        { exchange: f.config.exchange, routingKey: "item.update", durable: true, ...props },
        typeof body === "string" ? Buffer.from(body) : body,
      );
    } finally {
      await ch.close();
    }
  }

  test("well-formed messages are handled once and acked", async () => {
    const seen: ItemMessage[] = [];
    const consumer = createConsumer(
      f.broker,
      f.config.updateQueue,
      async (m) => {
        seen.push(m);
      },
      options,
      silentLogger,
    );
    await f.publisher.publishAll([update(1), update(2), update(3)]);
    await eventually(() => consumer.stats().handled === 3, 10_000, "3 handled");
    expect(seen.map((m) => m.projectId).sort()).toEqual([1, 2, 3]);
    await consumer.close();
    expect(await messageCount(f.admin, f.config.updateQueue)).toBe(0);
  });

  test("a malformed message goes to .dead at once, with the reason, body and properties kept", async () => {
    let calls = 0;
    const consumer = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {
        calls++;
      },
      options,
      silentLogger,
    );
    await publishRaw('{"type":"update-item","version":2}', {
      contentType: "application/json",
      messageId: "bad-1",
    });
    await publishRaw("not json at all", { messageId: "bad-2" });

    const dead = await readMessages(f.admin, deadQueueName(f.config.updateQueue), 2);
    const byId = new Map(dead.map((m) => [m.messageId, m]));
    expect(byId.get("bad-1")?.headers?.[DEAD_LETTER_HEADERS.reason]).toContain("malformed message");
    expect(byId.get("bad-1")?.body).toEqual({ type: "update-item", version: 2 });
    expect(byId.get("bad-1")?.headers?.[DEAD_LETTER_HEADERS.routingKey]).toBe("item.update");
    expect(byId.get("bad-1")?.headers?.[DEAD_LETTER_HEADERS.queue]).toBe(f.config.updateQueue);
    expect(byId.get("bad-2")?.headers?.[DEAD_LETTER_HEADERS.reason]).toBe(
      "malformed message: body is not valid JSON",
    );
    expect(Buffer.from(byId.get("bad-2")?.body as Buffer).toString()).toBe("not json at all");
    expect(calls).toBe(0);
    // a dead letter can be read from .dead before the consumer has the broker's confirm of it
    await eventually(() => consumer.stats().deadLettered === 2, 10_000, "both confirmed");
    expect(consumer.stats()).toMatchObject({ malformed: 2, deadLettered: 2, handled: 0 });
    await consumer.close();
    expect(await messageCount(f.admin, f.config.updateQueue)).toBe(0);
  });

  test("a handler failing transiently is retried and the message handled exactly once", async () => {
    const attempts = new Map<number, number>();
    const handler: MessageHandler = async (m, ctx) => {
      const n = (attempts.get(m.projectId) ?? 0) + 1;
      attempts.set(m.projectId, n);
      expect(ctx.attempt).toBe(n);
      if (n < 3) throw new UpstreamError("GITLAB_UNAVAILABLE", "503 from GitLab", { retryable: true });
    };
    const consumer = createConsumer(f.broker, f.config.updateQueue, handler, options, silentLogger);
    await f.publisher.publish(update(42));
    await eventually(() => consumer.stats().handled === 1, 10_000, "handled");
    await consumer.close();
    expect(attempts.get(42)).toBe(3);
    expect(consumer.stats()).toMatchObject({ handled: 1, retried: 2, failed: 0, deadLettered: 0 });
    expect(await messageCount(f.admin, f.config.updateQueue)).toBe(0);
    expect(await messageCount(f.admin, deadQueueName(f.config.updateQueue))).toBe(0);
  });

  test("a handler that always fails dead-letters the message after maxAttempts, with the reason", async () => {
    let calls = 0;
    const consumer = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {
        calls++;
        throw new Error("database is locked");
      },
      options,
      silentLogger,
    );
    const sent = update(7);
    await f.publisher.publish(sent);
    const [dead] = await readMessages(f.admin, deadQueueName(f.config.updateQueue), 1);
    expect(calls).toBe(3);
    expect(dead?.messageId).toBe("3:update-item:7");
    expect(dead?.headers?.[DEAD_LETTER_HEADERS.reason]).toBe(
      "failed after 3 attempt(s): Error: database is locked",
    );
    expect(dead?.headers?.[DEAD_LETTER_HEADERS.attempts]).toBe(3);
    expect(dead?.type).toBe("update-item");
    expect(dead?.appId).toBe("item-sync");
    expect(dead?.durable).toBe(true);
    expect(dead?.body).toEqual(sent.body);
    await consumer.close();
    expect(consumer.stats()).toMatchObject({ handled: 0, failed: 1, deadLettered: 1, retried: 2 });
    expect(await messageCount(f.admin, f.config.updateQueue)).toBe(0);
  });

  test("a non-retryable error dead-letters at once", async () => {
    let calls = 0;
    const consumer = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {
        calls++;
        throw new ValidationError("item.json is not valid");
      },
      options,
      silentLogger,
    );
    await f.publisher.publish(update(8));
    const [dead] = await readMessages(f.admin, deadQueueName(f.config.updateQueue), 1);
    expect(calls).toBe(1);
    expect(dead?.headers?.[DEAD_LETTER_HEADERS.reason]).toBe(
      "non-retryable error: INVALID_REQUEST: item.json is not valid",
    );
    await consumer.close();
  });

  test("a message of another type than the queue accepts is malformed", async () => {
    const consumer = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {},
      { ...options, accept: ["monitor-item"] },
      silentLogger,
    );
    await f.publisher.publish(update(9));
    const [dead] = await readMessages(f.admin, deadQueueName(f.config.updateQueue), 1);
    expect(dead?.headers?.[DEAD_LETTER_HEADERS.reason]).toContain("does not belong on queue");
    await consumer.close();
  });

  test("close waits for in-flight handlers and cuts retry waits short", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let finished = false;
    const consumer = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {
        await gate;
        finished = true;
      },
      options,
      silentLogger,
    );
    await f.publisher.publish(update(10));
    await eventually(() => consumer.stats().inFlight === 1, 10_000, "in flight");
    const closed = consumer.close();
    setTimeout(release, 100);
    await closed;
    expect(finished).toBe(true);
    expect(consumer.stats()).toMatchObject({ handled: 1, inFlight: 0 });
    expect(await messageCount(f.admin, f.config.updateQueue)).toBe(0);

    // a message waiting between retries goes back to the queue on close, not to .dead
    const waiting = createConsumer(
      f.broker,
      f.config.updateQueue,
      async () => {
        throw new Error("transient");
      },
      { ...options, backoffMs: 60_000 },
      silentLogger,
    );
    await f.publisher.publish(update(11));
    await eventually(() => waiting.stats().retried === 1, 10_000, "first retry scheduled");
    await waiting.close();
    // back in its queue (a quorum queue applies the return through its log: a moment later)
    await eventually(
      async () => (await messageCount(f.admin, f.config.updateQueue)) === 1,
      10_000,
      "the message back in its queue",
    );
    expect(await messageCount(f.admin, deadQueueName(f.config.updateQueue))).toBe(0);
  });

  test("a GitLab request that keeps failing: the reason counts the message's attempts once", async () => {
    // GitLab answering 502 to everything: each attempt of the message retries its request too
    const sim = startGitlabSim({ projects: 3, fault5xxRate: 1 });
    const gitlab = createGitlabClient(simConfig(sim), {
      logger: silentLogger,
      retry: { retries: 2, baseMs: 1, maxMs: 2 },
    });
    const consumer = createConsumer(
      f.broker,
      f.config.updateQueue,
      async (m) => {
        await gitlab.getProject(m.projectId);
      },
      options,
      silentLogger,
    );
    try {
      await f.publisher.publish(update(1));
      const [dead] = await readMessages(f.admin, deadQueueName(f.config.updateQueue), 1);
      const reason = String(dead?.headers?.[DEAD_LETTER_HEADERS.reason]);
      expect(reason).toStartWith(
        "failed after 3 attempt(s): GITLAB_ERROR: project 1: GET /api/v4/projects/1",
      );
      expect(reason).toContain("answered 502");
      expect(reason.match(/attempt/g)?.length).toBe(1);
      expect(dead?.headers?.[DEAD_LETTER_HEADERS.attempts]).toBe(3);
      expect(dead?.headers?.[DEAD_LETTER_HEADERS.kind]).toBe("GITLAB_ERROR");
    } finally {
      await consumer.close();
      await sim.close();
    }
  });
});
