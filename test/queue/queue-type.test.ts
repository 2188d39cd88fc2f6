/**
 * AMQP_QUEUE_TYPE against a real RabbitMQ: quorum queues by default, whose delivery limit the
 * broker enforces by dead-lettering into `.dead`; and a queue that already exists with another
 * type stops start-up (exit 2 from the binary) naming the queue and the migration.
 */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Connection } from "rabbitmq-client";
import type { AmqpConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/lib/errors.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type Broker, createBroker } from "../../src/queue/broker.ts";
import { createTopology, deadQueueName } from "../../src/queue/topology.ts";
import { requireBinary, startBinary } from "../helpers/binary.ts";
import { startGitlabSim } from "../sim/gitlab.ts";
import { adminConnection, amqpEnv, deleteTopology, testAmqpUrl, uniqueConfig } from "./amqp-helpers.ts";

const url = testAmqpUrl();

/** A work queue as the releases before quorum queues declared it: classic, dead-lettering. */
function previousRelease(config: AmqpConfig, queue: string) {
  return {
    queue,
    durable: true as const,
    arguments: { "x-dead-letter-exchange": `${config.exchange}.dlx`, "x-dead-letter-routing-key": queue },
  };
}

describe("queue type", () => {
  let config: AmqpConfig;
  let broker: Broker | undefined;
  let admin: Connection;

  beforeEach(() => {
    config = uniqueConfig(url, { deliveryLimit: 2 });
    admin = adminConnection(url);
  });

  afterEach(async () => {
    await broker?.close();
    broker = undefined;
    await deleteTopology(url, config);
    await admin.close();
  });

  test("the default makes quorum queues: the broker refuses to see them as classic", async () => {
    broker = createBroker(config, silentLogger);
    await broker.start();
    // the classic declaration of the same topology is refused: the queues are not classic
    const classic = createTopology({ ...config, queueType: "classic" });
    for (const queue of [config.updateQueue, deadQueueName(config.updateQueue)]) {
      const params = classic.queueDeclares.find((q) => q.queue === queue);
      if (!params) throw new Error(`no ${queue} in the topology`);
      const err = await admin.queueDeclare(params).catch((e: unknown) => e);
      expect(String(err)).toContain("PRECONDITION_FAILED - inequivalent arg");
    }
  });

  test("a message delivered more than AMQP_DELIVERY_LIMIT times is dead-lettered by the broker", async () => {
    broker = createBroker(config, silentLogger);
    await broker.start();
    const ch = await admin.acquire();
    try {
      await ch.confirmSelect();
      await ch.basicPublish({ exchange: config.exchange, routingKey: "item.update" }, Buffer.from("x"));
      // every delivery comes back unsettled, as when the worker holding it dies, until the
      // message turns up in .dead (the loop ends only then, or at the deadline)
      let deliveries = 0;
      let deadReason: unknown;
      const deadline = Date.now() + 30_000;
      while (deadReason === undefined && Date.now() < deadline) {
        const got = await ch.basicGet({ queue: config.updateQueue });
        if (!got) {
          const dead = await ch.basicGet({ queue: deadQueueName(config.updateQueue), noAck: true });
          if (dead) deadReason = dead.headers?.["x-death"]?.[0]?.reason ?? null;
          else await Bun.sleep(20);
          continue;
        }
        deliveries++;
        ch.basicNack({ deliveryTag: got.deliveryTag, requeue: true });
      }
      expect(deadReason).toBe("delivery_limit");
      expect(deliveries).toBe(config.deliveryLimit + 1);
    } finally {
      await ch.close();
    }
  });

  test("a queue that exists as classic stops start-up with the queue's name and the migration", async () => {
    await admin.queueDeclare(previousRelease(config, config.updateQueue));
    broker = createBroker(config, silentLogger);
    const err = await broker.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`"${config.updateQueue}"`);
    expect(problems[0]).toContain("exists as a classic queue but AMQP_QUEUE_TYPE=quorum");
    expect(problems[0]).toContain("docs/cluster.md");
  });

  test("the binary exits 2 on a queue of another type, and starts with AMQP_QUEUE_TYPE=classic", async () => {
    requireBinary();
    const gitlab = startGitlabSim({ projects: 1, subgroupFraction: 0, sharedFraction: 0 }); // asked at start
    await admin.queueDeclare(previousRelease(config, config.monitorQueue));
    const dir = mkdtempSync(join(tmpdir(), "item-sync-queue-type-"));
    const env = {
      DATABASE_URL: `sqlite:${join(dir, "queue-type.db")}`,
      ...amqpEnv(config),
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_GROUP: gitlab.group,
      WEBHOOK_URL: "https://item-sync.test/hook",
      WEBHOOK_ENABLED: "false",
    };
    const refused = await startBinary(["worker"], env, { waitForHttp: false });
    expect(await refused.exited).toBe(2);
    expect(refused.logs()).toContain(`RabbitMQ queue "${config.monitorQueue}" exists as a classic queue`);
    expect(refused.logs()).not.toContain("    at ");

    // the escape hatch the message names: keep the classic queues
    await admin.queueDelete({ queue: config.updateQueue });
    await admin.queueDelete({ queue: config.deleteQueue });
    await admin.queueDelete({ queue: deadQueueName(config.monitorQueue) });
    await admin.queueDelete({ queue: deadQueueName(config.updateQueue) });
    await admin.queueDelete({ queue: deadQueueName(config.deleteQueue) });
    const classic = await startBinary(
      ["worker"],
      { ...env, AMQP_QUEUE_TYPE: "classic" },
      { waitForHttp: true },
    );
    try {
      expect(classic.proc.exitCode).toBeNull();
    } finally {
      expect(await classic.kill("SIGTERM")).toBe(0);
      await gitlab.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
