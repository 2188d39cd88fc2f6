/**
 * "Why is this item stale", through the compiled binary (serve with its ingest workers), RabbitMQ,
 * Postgres and the GitLab simulator:
 *   - a push whose webhook never arrives, then a sync whose update-item reads the new head and
 *     cannot finish yet: the item is listed by GET /items?stale=true, its status naming GitLab's
 *     head, the older commit the tables hold and no push received; once the update is written (a
 *     POST /sync/{projectId} asked for it too) it is not stale any more;
 *   - a missed push with a document that cannot be written: update-item dead-letters it at once,
 *     and the item's status shows the dead letter (with its reason) and the quarantine until a
 *     later, good push is synced with POST /sync/{projectId}.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  serviceEnv,
  startBinary,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
  waitForItemsAtHead,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const WEBHOOK_URL = TEST_WEBHOOK_URL;
const FILE_ROUTE = "GET /projects/:id/repository/files/:file_path";

interface Status {
  stale: boolean;
  reasons: string[];
  gitlabHead: { commitHash: string; seenBy: string } | null;
  tables: { commitHash: string } | null;
  lastPush: unknown;
  lastUpdate: { messageId: string | null } | null;
  quarantine: { problem: string } | null;
  deadLetters: { messageType: string; reason: string; queue: string; deadLetteredBy: string }[];
}
interface ItemBody {
  projectId: number;
  currentCommitHash: string | null;
  status: Status;
}

describe("stale items", () => {
  let sim: GitlabSim;
  let t: TestDatabase;
  let serve: RunningProcess;
  const names = brokerNames("stale");
  let call: ReturnType<typeof api>;

  const item = async (projectId: number) =>
    (await call("GET", `/items/${projectId}`)).body as unknown as ItemBody;
  const staleIds = async () =>
    ((await call("GET", "/items?stale=true&limit=100")).body.items as ItemBody[]).map((i) => i.projectId);
  const syncAll = async () => {
    const started = await call("POST", "/sync?mode=full");
    expect(started.status).toBe(202);
    const done = await waitForExecution(call, Number(started.body.id), { proc: serve });
    expect(done.status).toBe("COMPLETED");
  };

  beforeAll(async () => {
    sim = startGitlabSim({
      projects: 6,
      monitoredFraction: 1,
      subgroupFraction: 0,
      sharedFraction: 0,
      webhookUrl: WEBHOOK_URL,
    });
    t = await createTestDatabase("pg");
    serve = await startBinary(["serve"], serviceEnv(sim, names, { DATABASE_URL: t.url }));
    call = api(serve.url);
    await syncAll();
    await waitForItemsAtHead(call, sim);
  }, 120_000);

  afterAll(async () => {
    await serve?.kill("SIGKILL");
    await sim?.close();
    await deleteBrokerNames(names).catch(() => {});
    await t?.drop();
  });

  const withItem = () => {
    const p = sim.state.projects.find((x) => sim.state.itemOf(x.id));
    if (!p) throw new Error("the simulator made no project with item.json");
    return p;
  };

  test("a missed push: stale once a sync has seen the new head, not stale once it is written", async () => {
    expect(await staleIds()).toEqual([]);
    const p = withItem();
    const before = sim.state.commitsOf(p)[0]!.id;
    const pushed = sim.state.touchItem(p.id, "missed push"); // no webhook delivered
    // nobody has seen it yet: the tables hold the old commit and nothing says otherwise
    expect((await item(p.id)).status.stale).toBe(false);

    // the sync's update-item reads the new head, then waits on GitLab for item.json
    const release = sim.hold(FILE_ROUTE);
    try {
      await syncAll();
      await waitFor("the item listed stale", async () => (await staleIds()).includes(p.id));
      const { status } = await item(p.id);
      expect(status).toMatchObject({
        stale: true,
        reasons: ["behind"],
        gitlabHead: { commitHash: pushed.id, seenBy: "update-item" },
        tables: { commitHash: before },
        lastPush: null,
        quarantine: null,
        deadLetters: [],
      });
      const asked = await call("POST", `/sync/${p.id}`);
      expect(asked.status).toBe(202);
      expect(asked.body.published).toContain("update-item");
    } finally {
      release();
    }
    await waitFor(
      "the item written at the new head",
      async () => (await item(p.id)).currentCommitHash === pushed.id,
    );
    expect((await item(p.id)).status).toMatchObject({
      stale: false,
      reasons: [],
      gitlabHead: { commitHash: pushed.id },
    });
    expect(await staleIds()).not.toContain(p.id);
  }, 120_000);

  test("a dead-lettered update shows in the status until a later update succeeds", async () => {
    const p = withItem();
    const good = sim.state.commitsOf(p)[0]!.id;
    const goodDoc = sim.state.itemOf(p.id)!;
    // a missed push of a document that cannot be written: quarantined and dead-lettered at once
    const bad = sim.state.pushCommit(p.id, { files: { "item.json": '{"id":"not a number","type":"mc"}' } });
    expect((await call("POST", `/sync/${p.id}`)).status).toBe(202);
    const dead = await waitFor("the dead letter in the status", async () => {
      const s = (await item(p.id)).status;
      return s.deadLetters.length > 0 && s;
    });
    expect(dead.reasons).toEqual(["behind", "quarantined", "dead_letter"]);
    expect(dead.gitlabHead?.commitHash).toBe(bad.id);
    expect(dead.tables?.commitHash).toBe(good);
    expect(dead.deadLetters).toEqual([
      expect.objectContaining({
        messageType: "update-item",
        queue: names.AMQP_UPDATE_QUEUE,
        deadLetteredBy: "item-sync",
      }),
    ]);
    expect(dead.deadLetters[0]?.reason).toContain("ITEM_QUARANTINED");
    expect(dead.quarantine?.problem).toBeTruthy();
    expect(await staleIds()).toContain(p.id);

    // the author repairs the document (again no webhook); POST /sync/{projectId} brings it in
    const fixed = sim.state.pushCommit(p.id, { files: { "item.json": { ...goodDoc, touched: "repaired" } } });
    expect((await call("POST", `/sync/${p.id}`)).status).toBe(202);
    await waitFor("the repaired head written", async () => (await item(p.id)).currentCommitHash === fixed.id);
    expect((await item(p.id)).status).toMatchObject({ stale: false, deadLetters: [], quarantine: null });
    expect(await staleIds()).not.toContain(p.id);
  }, 120_000);
});
