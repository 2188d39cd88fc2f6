/**
 * GitLab refusing the token is not a per-message failure: against the simulator and the real
 * RabbitMQ, the workers stop consuming, readiness names GitLab and the reason, nothing goes to
 * `.dead`, and once the token works again every held message is handled.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Connection } from "rabbitmq-client";
import { readiness } from "../../src/commands/compose.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { createItemStore } from "../../src/ingest/item-store.ts";
import { type Ingest, startIngest } from "../../src/ingest/workers.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { type Broker, createBroker } from "../../src/queue/broker.ts";
import { createJobMessage } from "../../src/queue/messages.ts";
import { createPublisher, type Publisher } from "../../src/queue/publisher.ts";
import { deadQueueName } from "../../src/queue/topology.ts";
import { waitFor } from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import {
  adminConnection,
  deleteTopology,
  messageCount,
  testAmqpUrl,
  uniqueConfig,
} from "../queue/amqp-helpers.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const WEBHOOK_URL = "https://item-sync.test/webhooks/gitlab";

describe("GitLab refusing the token", () => {
  let t: TestDatabase;
  let sim: GitlabSim;
  let config: Config;
  let broker: Broker;
  let publisher: Publisher;
  let ingest: Ingest;
  let admin: Connection;

  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    sim = startGitlabSim({ projects: 6, subgroupFraction: 0, sharedFraction: 0, webhookUrl: WEBHOOK_URL });
    const amqp = uniqueConfig(testAmqpUrl());
    config = loadConfig({
      DATABASE_URL: t.url,
      GITLAB_URL: sim.url,
      GITLAB_TOKEN: sim.token,
      GITLAB_GROUP: sim.group,
      WEBHOOK_URL,
      API_TOKENS: "refusal-token-0123456789",
      WEBHOOK_SECRET: "refusal-webhook-secret-0123456789",
      AMQP_URL: amqp.url,
      AMQP_EXCHANGE: amqp.exchange,
      AMQP_MONITOR_QUEUE: amqp.monitorQueue,
      AMQP_UPDATE_QUEUE: amqp.updateQueue,
      AMQP_DELETE_QUEUE: amqp.deleteQueue,
    });
    broker = createBroker(config.amqp, silentLogger);
    await broker.start();
    publisher = createPublisher(broker, silentLogger);
    const gitlab = createGitlabClient(config.gitlab, {
      logger: silentLogger,
      retry: { retries: 1, baseMs: 10, maxMs: 50 },
    });
    ingest = await startIngest({
      config,
      broker,
      db: t.db,
      gitlab,
      logger: silentLogger,
      gateProbeIntervalMs: 100,
    });
    admin = adminConnection(config.amqp.url);
  });

  afterAll(async () => {
    await ingest.close();
    await publisher.close();
    await broker.close();
    await admin.close();
    await deleteTopology(config.amqp.url, config.amqp);
    await sim.close();
    await t.drop();
  });

  test("workers pause and readiness says why; nothing is dead-lettered; all is handled once the token works again", async () => {
    const validToken = sim.token;
    sim.set({ token: "rotated-elsewhere" }); // our GITLAB_TOKEN is now refused: 401 on everything
    const ids = [1, 2, 3, 4, 5];
    await publisher.publishAll(
      ids.map((id) =>
        createJobMessage("update-item", 1, {
          projectId: id,
          projectPath: sim.state.fullPathOf(sim.state.project(id)!),
        }),
      ),
    );

    const shut = await waitFor("the gate shut", async () => {
      const s = ingest.gate.state();
      return !s.open && s;
    });
    expect(shut.reason).toContain("401");
    const health = readiness(t.db, broker, undefined, {
      gate: () => ingest.gate.state(),
      gitlabDecides: true,
    });
    const report = await health.ready();
    expect(report.ok).toBe(false);
    expect(report.checks.gitlab).toMatch(/^unavailable since .*401.*ingest paused, messages stay queued$/);

    // several probes later, still nothing lost to .dead and nothing handled
    const probesBefore = sim.stats().requests;
    await waitFor("more probes", async () => sim.stats().requests >= probesBefore + 3);
    for (const c of ingest.consumers) expect(c.stats().deadLettered).toBe(0);
    expect(await messageCount(admin, deadQueueName(config.amqp.updateQueue))).toBe(0);
    expect(await createItemStore(t.db).count()).toBe(0);

    sim.set({ token: validToken });
    await waitFor("every item", async () => (await createItemStore(t.db).count()) === ids.length);
    expect(ingest.gate.state().open).toBe(true);
    expect((await health.ready()).checks.gitlab).toBe("ok");
    expect(await messageCount(admin, deadQueueName(config.amqp.updateQueue))).toBe(0);
    expect(ingest.consumers[1]?.stats().failed).toBe(0);
  }, 60_000);
});
