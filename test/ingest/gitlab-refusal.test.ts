/**
 * GitLab refusing the token is not a per-message failure: against the simulator and the real
 * RabbitMQ, the workers stop consuming, readiness names GitLab and the reason, nothing goes to
 * `.dead`, and once the token works again every held message is handled.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Connection } from "rabbitmq-client";
import { readiness } from "../../src/commands/compose.ts";
import type { Config } from "../../src/config/config.ts";
import type { Ingest } from "../../src/ingest/workers.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createItemViews } from "../../src/items/item-views.ts";
import type { Broker } from "../../src/queue/broker.ts";
import { createJobMessage } from "../../src/queue/messages.ts";
import type { Publisher } from "../../src/queue/publisher.ts";
import { deadQueueName } from "../../src/queue/topology.ts";
import { waitFor } from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { messageCount } from "../queue/amqp-helpers.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { type IngestFixture, startIngestFixture, WEBHOOK_URL } from "./fixture.ts";

describe("GitLab refusing the token", () => {
  let t: TestDatabase;
  let sim: GitlabSim;
  let config: Config;
  let broker: Broker;
  let publisher: Publisher;
  let ingest: Ingest;
  let admin: Connection;
  let fixture: IngestFixture;

  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    sim = startGitlabSim({ projects: 6, subgroupFraction: 0, sharedFraction: 0, webhookUrl: WEBHOOK_URL });
    fixture = await startIngestFixture(t, sim, {
      name: "refusal",
      retry: { retries: 1, baseMs: 10, maxMs: 50 },
      gateProbeIntervalMs: 100,
    });
    ({ config, broker, publisher, ingest, admin } = fixture);
  });

  afterAll(async () => {
    await fixture.close();
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
    expect(await createItemViews(t.db, imrtTables(t.db.dialect)).count()).toBe(0);

    sim.set({ token: validToken });
    await waitFor(
      "every item",
      async () => (await createItemViews(t.db, imrtTables(t.db.dialect)).count()) === ids.length,
    );
    expect(ingest.gate.state().open).toBe(true);
    expect((await health.ready()).checks.gitlab).toBe("ok");
    expect(await messageCount(admin, deadQueueName(config.amqp.updateQueue))).toBe(0);
    expect(ingest.consumers[1]?.stats().failed).toBe(0);
  }, 60_000);
});
