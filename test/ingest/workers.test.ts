/**
 * The ingest workers against a real RabbitMQ, a real database and the GitLab simulator:
 * idempotent handling of redelivered messages, poison messages dead-lettered with a reason,
 * bad item.json quarantined (dead-lettered at once, no row changed, the reason on the item),
 * transient GitLab failures retried, projects gone acknowledged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Connection } from "rabbitmq-client";
import type { Config } from "../../src/config/config.ts";
import type { Ingest } from "../../src/ingest/workers.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createItemViews } from "../../src/items/item-views.ts";
import { DEAD_LETTER_HEADERS } from "../../src/queue/consumer.ts";
import { createJobMessage, type OutgoingMessage } from "../../src/queue/messages.ts";
import type { Publisher } from "../../src/queue/publisher.ts";
import { deadQueueName } from "../../src/queue/topology.ts";
import { waitFor } from "../helpers/binary.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { readMessages } from "../queue/amqp-helpers.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { type IngestFixture, startIngestFixture, WEBHOOK_URL } from "./fixture.ts";

for (const dialect of DIALECTS) {
  describe(`ingest workers on ${dialect}`, () => {
    let t: TestDatabase;
    let sim: GitlabSim;
    let config: Config;
    let publisher: Publisher;
    let ingest: Ingest;
    let admin: Connection;
    let fixture: IngestFixture;

    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      sim = startGitlabSim({
        projects: 20,
        monitoredFraction: 0,
        otherHookFraction: 0.5,
        subgroupFraction: 0,
        sharedFraction: 0,
        webhookUrl: WEBHOOK_URL,
      });
      fixture = await startIngestFixture(t, sim, {
        name: "ingest",
        retry: { retries: 2, baseMs: 20, maxMs: 100 },
      });
      ({ config, publisher, ingest, admin } = fixture);
    });

    afterAll(async () => {
      await fixture.close();
      await sim.close();
      await t.drop();
    });

    const items = () => createItemViews(t.db, imrtTables(t.db.dialect));
    const project = (id: number) => sim.state.project(id)!;
    const update = (id: number, execution = 1): OutgoingMessage =>
      createJobMessage("update-item", execution, {
        projectId: id,
        projectPath: sim.state.fullPathOf(project(id)),
      });
    const monitor = (id: number, execution = 1): OutgoingMessage =>
      createJobMessage("monitor-item", execution, {
        projectId: id,
        projectPath: sim.state.fullPathOf(project(id)),
      });

    test("update-item creates the item at its latest commit; the same message again changes nothing; a new commit updates it", async () => {
      await publisher.publish(update(1));
      const created = await waitFor("item 1", async () =>
        (await items().get(1))?.itemId ? items().get(1) : null,
      );
      const history = [...sim.state.commitsOf(project(1))];
      expect(created?.currentCommitHash).toBe(history[0]!.id);
      expect(created?.itemId).toBe(Number(sim.state.itemOf(1)?.id));
      expect(created?.itemJson).toEqual(sim.state.itemOf(1));
      expect((await items().commits(1)).length).toBe(history.length);

      // redelivery storm: the same message ten times
      await publisher.publishAll(Array.from({ length: 10 }, () => update(1)));
      await waitFor("ten handled", async () => (ingest.consumers[1]?.stats().handled ?? 0) >= 11);
      expect((await items().events(1, 100)).length).toBe(1);
      expect((await items().get(1))?.updatedAt).toEqual(created?.updatedAt);

      const commit = sim.state.setWorkflowStatus(1, "Rejected", { author: "reviewer" });
      await publisher.publish(update(1, 2));
      await waitFor(
        "item 1 at the new commit",
        async () => (await items().get(1))?.currentCommitHash === commit.id,
      );
      const updated = await items().get(1);
      expect(updated).toMatchObject({ workflowStatus: "Rejected", updatedBy: "reviewer" });
      expect(updated?.workflowStatusSetAt).toEqual(new Date(commit.committedDate));
      expect((await items().commits(1)).length).toBe(history.length + 1);
      const events = await items().events(1, 100);
      expect(events.map((h) => h.action)).toEqual(["updated", "created"]);
      expect(events[0]?.jobExecutionId).toBe(2);
    });

    test("a renamed default branch with the same head: ingest_source follows, nothing else is written", async () => {
      await publisher.publish(update(7));
      await waitFor("item 7", async () => ((await items().get(7))?.itemId ? items().get(7) : null));
      const before = await items().events(7, 10);
      sim.state.setDefaultBranch(7, "trunk");
      await publisher.publish(update(7, 3));
      const source = async () =>
        (
          await t.db.all<{ ingest_source: string }>("select ingest_source from item_git where project_id = 7")
        )[0]?.ingest_source;
      await waitFor("ingest_source trunk", async () => (await source()) === "trunk");
      expect(await items().events(7, 10)).toEqual(before); // no new revision written
      expect((await items().get(7))?.defaultBranch).toBe("trunk");
    });

    test("monitor-item creates our hook once, with the secret, however often it is delivered", async () => {
      const before = sim.state.hooksOf(project(2)).length;
      await publisher.publishAll(Array.from({ length: 5 }, () => monitor(2)));
      await waitFor("hook on 2", async () =>
        sim.state.hooksOf(project(2)).some((h) => h.url === WEBHOOK_URL),
      );
      await waitFor("five handled", async () => (ingest.consumers[0]?.stats().handled ?? 0) >= 5);
      const ours = sim.state.hooksOf(project(2)).filter((h) => h.url === WEBHOOK_URL);
      expect(ours.length).toBe(1);
      expect(ours[0]).toMatchObject({
        pushEvents: true,
        enableSslVerification: true,
        token: "ingest-webhook-secret-0123456789",
      });
      expect(sim.state.hooksOf(project(2)).length).toBe(before + 1);
    });

    test("monitor-item records our hook as verified on the item, so incremental scans may skip its check", async () => {
      const verifiedAt = async () =>
        (
          await t.db.all<{ hook_verified_at: unknown }>(
            "select hook_verified_at from sync_project where project_id = 1",
          )
        )[0]?.hook_verified_at ?? null;
      expect(await verifiedAt()).toBeNull(); // item 1 exists (first test); nothing verified its hook yet
      const handled = ingest.consumers[0]?.stats().handled ?? 0;
      await publisher.publish(monitor(1));
      await waitFor(
        "monitor-item handled",
        async () => (ingest.consumers[0]?.stats().handled ?? 0) > handled,
      );
      expect(await verifiedAt()).not.toBeNull();
    });

    test("poison messages land in .dead at once with the reason, on both queues", async () => {
      const ch = await admin.acquire();
      try {
        for (const queue of [config.amqp.updateQueue, config.amqp.monitorQueue]) {
          await ch.basicPublish(
            { exchange: "", routingKey: queue, durable: true },
            Buffer.from("{ not json"),
          );
          await ch.basicPublish(
            { exchange: "", routingKey: queue, durable: true },
            Buffer.from(JSON.stringify({ type: "update-item", projectId: "x" })),
          );
        }
      } finally {
        await ch.close();
      }
      for (const queue of [config.amqp.updateQueue, config.amqp.monitorQueue]) {
        const dead = await readMessages(admin, deadQueueName(queue), 2);
        for (const m of dead) {
          const reason = String(m.headers?.[DEAD_LETTER_HEADERS.reason] ?? "");
          expect(reason.length).toBeGreaterThan(5);
        }
      }
    });

    test("an item.json that cannot be written is quarantined: dead-lettered at once with the reason, no row changed, shown on the item", async () => {
      await publisher.publish(update(3));
      const before = await waitFor("item 3", async () =>
        (await items().get(3))?.itemId ? items().get(3) : null,
      );
      const failedBefore = ingest.consumers[1]?.stats().failed ?? 0;
      const bad = sim.state.pushCommit(3, {
        files: { "item.json": { id: "12a", type: "mc" } },
        author: "typo",
      });
      await publisher.publish(update(3, 2));
      const [dead] = await readMessages(admin, deadQueueName(config.amqp.updateQueue), 1);
      const reason = String(dead?.headers?.[DEAD_LETTER_HEADERS.reason]);
      expect(reason).toContain("project 3");
      expect(reason).toContain('"id"');
      expect(Number(dead?.headers?.[DEAD_LETTER_HEADERS.attempts])).toBe(1); // at once, no retries
      expect((ingest.consumers[1]?.stats().failed ?? 0) - failedBefore).toBe(1);
      const after = await items().get(3);
      expect(after?.problem).toContain('"id"');
      expect(after?.ingestState).toBe("quarantined");
      // the IMRT rows are the ones of before the bad commit
      expect(after?.currentCommitHash).toBe(before?.currentCommitHash);
      expect(after?.itemId).toBe(before?.itemId);
      expect(after?.currentCommitHash).not.toBe(bad.id);
      expect(ingest.counters.quarantined).toBe(1);

      // the next commit that fixes the document is ingested as usual, and the problem is gone
      const fixed = sim.state.pushCommit(3, {
        files: { "item.json": sim.state.itemOf(1) ?? {} },
        author: "fixer",
      });
      await publisher.publish(update(3, 3));
      await waitFor("item 3 fixed", async () => (await items().get(3))?.currentCommitHash === fixed.id);
      expect((await items().get(3))?.problem).toBeNull();
    });

    test("a project without item.json gets no IMRT rows and is counted; a project gone is acknowledged", async () => {
      sim.state.pushCommit(6, { files: { "item.json": null } });
      const noItem = ingest.counters.noItemJson;
      await publisher.publish(update(6));
      await waitFor("no item.json counted", async () => ingest.counters.noItemJson > noItem);
      expect(await items().get(6)).toMatchObject({ ingestState: "no_item_json", itemId: null });

      sim.state.removeProject(4);
      const handled = ingest.consumers[1]?.stats().handled ?? 0;
      await publisher.publish(
        createJobMessage("update-item", 1, { projectId: 4, projectPath: "imrt/items/item-4" }),
      );
      await publisher.publish(
        createJobMessage("monitor-item", 1, { projectId: 4, projectPath: "imrt/items/item-4" }),
      );
      await waitFor("gone project acked", async () => (ingest.consumers[1]?.stats().handled ?? 0) > handled);
      expect(await items().get(4)).toBeNull();
      expect(ingest.counters.projectsGone).toBeGreaterThanOrEqual(1);
    });

    test("GitLab failing for a while: the message is retried with backoff and handled once GitLab is back", async () => {
      sim.set({ fault5xxRate: 1 });
      await publisher.publish(update(5));
      await waitFor("a retry", async () => (ingest.consumers[1]?.stats().retried ?? 0) > 0);
      sim.set({ fault5xxRate: 0 });
      const item = await waitFor("item 5", () => items().get(5), 60_000);
      expect(item?.currentCommitHash).toBe(sim.state.commitsOf(project(5))[0]!.id);
    }, 90_000);
  });
}
