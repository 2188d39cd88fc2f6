/**
 * Ingest workers under abuse, against the compiled binary on Postgres: three `item-sync worker`
 * processes on one queue, a redelivery storm (every update-item five times), poison messages
 * (not JSON, unknown type, bad fields, and an item.json that is not JSON), commits pushed while
 * they work, and one worker SIGKILLed mid-message and restarted. At the end every item row is at
 * its project's latest commit and every poison message sits in `{queue}.dead` with its reason.
 */
import { Connection, type Publisher } from "rabbitmq-client";
import { type Db, openDb } from "../../../src/db/client.ts";
import {
  amqpUrl,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  waitFor,
} from "../../helpers/binary.ts";
import { createTestDatabase } from "../../helpers/db.ts";
import { readMessages } from "../../queue/amqp-helpers.ts";
import type { GitlabSim } from "../../sim/gitlab.ts";
import { duplicateWrites } from "../lib/accounting.ts";
import { scenarioSim, serviceEnv } from "../lib/harness.ts";
import { startFaultProxy } from "../lib/http-fault-proxy.ts";
import { check, faultCheck, lostCheck, type ScenarioResult } from "../lib/report.ts";

/** Publishes a body (JSON-encoded unless already a string) as an outside publisher would: item.update. */
function updateSender(pub: Publisher, exchange: string) {
  return (body: unknown, id: string) =>
    pub.send(
      {
        exchange,
        routingKey: "item.update",
        durable: true,
        contentType: "application/json",
        messageId: id,
        mandatory: true, // an unroutable one is returned (see `returned`), not dropped unseen
      },
      Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
    );
}

type SimProject = GitlabSim["state"]["projects"][number];

/**
 * The projects not handled at their latest commit, as `id: hash|missing`: the IMRT item of a project
 * with an item.json not at it, or a project without one not recorded so at it.
 */
export async function rowsNotAtLatestCommit(
  db: Db,
  sim: GitlabSim,
  projects: readonly SimProject[],
): Promise<string[]> {
  const rows = await db.all<{
    project_id: number;
    current_commit_hash: string | null;
    head_commit_hash: string | null;
    ingest_state: string | null;
  }>(
    `select p.project_id, g.current_commit_hash, p.head_commit_hash, p.ingest_state
     from sync_project p left join item_git g on g.project_id = p.project_id`,
  );
  const atCommit = new Map(
    rows.map((r) => [
      Number(r.project_id),
      r.ingest_state === "no_item_json" ? `no item.json at ${r.head_commit_hash}` : r.current_commit_hash,
    ]),
  );
  return projects
    .filter((p) => {
      const head = sim.state.commitsOf(p)[0]?.id;
      const want = sim.state.itemOf(p.id) ? head : `no item.json at ${head}`;
      return atCommit.get(p.id) !== want;
    })
    .map((p) => `${p.id}: ${atCommit.get(p.id) ?? "missing"}`);
}

export async function consumerAbuse(
  opts: { projects?: number; copies?: number } = {},
): Promise<ScenarioResult & { wrongRows: string[]; deadReasons: string[]; poison: number }> {
  const projects = opts.projects ?? 300;
  const copies = opts.copies ?? 5;
  const sim = scenarioSim(projects, 10);
  const t = await createTestDatabase("pg");
  const names = brokerNames("cons");
  const env = serviceEnv(sim, {
    DATABASE_URL: t.url,
    AMQP_URL: amqpUrl(),
    GITLAB_CONCURRENCY: "8",
    ...names,
  });
  const workers: RunningProcess[] = [];
  let victimLogs = () => "";
  const conn = new Connection({ url: amqpUrl(), retryLow: 100, retryHigh: 500 });
  conn.on("error", () => {});
  const pub = conn.createPublisher({ confirm: true });
  const returned: string[] = [];
  pub.on("basic.return", (m) => returned.push(String(m.messageId)));
  const db = openDb(t.url);
  try {
    // a worker's HTTP server answers once it has declared the topology: the queues and their
    // bindings. Publishing earlier (when only the queue existed) lost the first messages: the
    // exchange had nowhere to route them, and a publish without `mandatory` is confirmed anyway
    for (let i = 0; i < 3; i++) workers.push(await startBinary(["worker"], env, { waitForHttp: true }));
    const send = updateSender(pub, names.AMQP_EXCHANGE);
    // three projects whose item.json turns into garbage: their handler fails for good
    const broken = sim.state.projects.slice(0, 3).map((p) => p.id);
    for (const id of broken) sim.state.pushCommit(id, { files: { "item.json": "{ not json" } });
    const poison: Array<[unknown, string]> = [
      ["not json at all", "p1"],
      [
        {
          type: "explode-item",
          version: 1,
          projectId: 5,
          projectPath: "x/y",
          jobExecutionId: 1,
          createdAt: new Date().toISOString(),
        },
        "p2",
      ],
      [
        {
          type: "update-item",
          version: 1,
          projectId: "5",
          projectPath: "x/y",
          jobExecutionId: 1,
          createdAt: "now",
        },
        "p3",
      ],
      [
        {
          type: "update-item",
          version: 9,
          projectId: 5,
          projectPath: "x/y",
          jobExecutionId: 1,
          createdAt: new Date().toISOString(),
          extra: 1,
        },
        "p4",
      ],
      ["[1,2,3]", "p5"],
    ];
    const messages: Array<Promise<void>> = [];
    for (let c = 0; c < copies; c++) {
      for (const p of sim.state.projects) {
        const body = {
          type: "update-item",
          version: 1,
          projectId: p.id,
          projectPath: sim.state.fullPathOf(p),
          jobExecutionId: 1,
          createdAt: new Date().toISOString(),
        };
        messages.push(send(body, `1:update-item:${p.id}`));
      }
      if (c === 0) for (const [body, id] of poison) messages.push(send(body, id));
    }
    await Promise.all(messages);
    // commits pushed while the workers are at it, with their update-items
    const pushed = sim.state.projects.slice(10, 40).map((p) => p.id);
    await Bun.sleep(300);
    for (const id of pushed) {
      const commit = sim.state.touchItem(id, "v2");
      const p = sim.state.project(id);
      await send(
        {
          type: "update-item",
          version: 1,
          projectId: id,
          projectPath: p ? sim.state.fullPathOf(p) : "",
          jobExecutionId: null,
          createdAt: new Date().toISOString(),
        },
        `${commit.id}:update-item:${id}`,
      );
    }
    // one worker killed mid-message, restarted
    await Bun.sleep(200);
    const victim = workers[1] as RunningProcess;
    victimLogs = () => victim.logs();
    // work still queued when the worker dies: it was mid-stream, with messages in hand
    const readyAtKill = (await conn.queueDeclare({ queue: names.AMQP_UPDATE_QUEUE, passive: true }))
      .messageCount;
    victim.proc.kill("SIGKILL");
    await victim.exited;
    workers[1] = await startBinary(["worker"], env, { waitForHttp: false });

    const expectedRows = sim.state.projects.filter((p) => !broken.includes(p.id));
    const wrongRows = () => rowsNotAtLatestCommit(db, sim, expectedRows);
    await waitFor(
      "every item row at its latest commit",
      async () => (await wrongRows()).length === 0,
      120_000,
    ).catch(() => {});
    const wrong = await wrongRows();
    const expectedDead = poison.length + broken.length * copies;
    // what reached .dead within the wait, kept even when some are missing (for the outcome)
    const dead: Awaited<ReturnType<typeof readMessages>> = [];
    let readError = "";
    await readMessages(conn, `${names.AMQP_UPDATE_QUEUE}.dead`, expectedDead, 60_000, dead).catch(
      (err: unknown) => {
        readError = String((err as Error)?.message ?? err);
      },
    );
    const reasons = dead.map((m) => String(m.headers?.["x-item-sync-reason"] ?? ""));
    // which poison messages are missing from .dead (or there too often), by message id
    const expectedIds = new Map<string, number>(poison.map(([, id]) => [id, 1]));
    for (const id of broken) expectedIds.set(`1:update-item:${id}`, copies);
    for (const m of dead)
      expectedIds.set(String(m.messageId), (expectedIds.get(String(m.messageId)) ?? 0) - 1);
    const deadMismatch = [...expectedIds]
      .filter(([, n]) => n !== 0)
      .map(([id, n]) => `${id}: ${n > 0 ? `${n} missing` : `${-n} extra`}`);
    // what the workers logged of a missing one: the failure's message says where it went
    const missingIds = [...expectedIds].filter(([, n]) => n > 0).map(([id]) => id);
    const traces = [victimLogs(), ...workers.map((w) => w.logs())]
      .flatMap((log, i) => log.split("\n").map((line) => `${i === 0 ? "killed" : `worker ${i}`}: ${line}`))
      .filter((line) => missingIds.some((id) => line.includes(`"${id}"`)))
      .slice(0, 40);
    const leftInQueue = (await conn.queueDeclare({ queue: names.AMQP_UPDATE_QUEUE, passive: true }))
      .messageCount;
    await Bun.sleep(500);
    const extraDead = (await conn.queueDeclare({ queue: `${names.AMQP_UPDATE_QUEUE}.dead`, passive: true }))
      .messageCount;
    const logs = await db.all<{ n: number }>("select count(*) as n from sync_item_event");
    const duplicates = await duplicateWrites(db);
    return {
      scenario: "consumers",
      tried: `3 worker processes on one queue; ${projects} projects × ${copies} copies of update-item (redelivery storm), ${poison.length} malformed messages and ${broken.length} projects with a non-JSON item.json, ${pushed.length} commits pushed meanwhile, one worker SIGKILLed mid-message and restarted`,
      runs: 1,
      faults: `${projects * copies} storm messages, ${poison.length + broken.length * copies} poison, 1 SIGKILL`,
      // projects missing or not handled at their latest commit
      lost: wrong.length,
      // events beyond one per change: a redelivered message applied twice
      duplicates,
      outcome: `${expectedRows.length - wrong.length}/${expectedRows.length} projects at their latest commit; ${dead.length + extraDead}/${expectedDead} messages in .dead, ${reasons.filter((r) => r !== "").length} with x-item-sync-reason; ${logs[0]?.n} item events${readError ? `; reading .dead: ${readError}` : ""}`,
      checks: [
        faultCheck(
          "a worker SIGKILLed while messages were still queued",
          readyAtKill > 0,
          `${readyAtKill} ready at the kill`,
        ),
        check(
          "every poison message in .dead",
          dead.length + extraDead === expectedDead,
          dead.length + extraDead === expectedDead
            ? `${expectedDead}/${expectedDead}`
            : `${dead.length + extraDead} of ${expectedDead} (${deadMismatch.join(", ")}; ${leftInQueue} still ready)\n${traces.join("\n")}`,
        ),
        check(
          "every dead-lettered message carries its reason",
          reasons.every((r) => r !== ""),
          `${reasons.filter((r) => r !== "").length}/${reasons.length}`,
        ),
        check("no change written twice", duplicates === 0, duplicates),
        check(
          "nothing returned unroutable",
          returned.length === 0,
          returned.length === 0 ? 0 : `${returned.length}: ${returned.slice(0, 5).join(", ")}`,
        ),
        lostCheck(wrong.length, expectedRows.length, "projects (row not at the latest commit)"),
      ],
      wrongRows: wrong,
      deadReasons: [...new Set(reasons.map((r) => r.replace(/\d+/g, "N")))],
      poison: expectedDead,
    };
  } finally {
    await Promise.all(workers.map((w) => w.kill("SIGKILL")));
    await pub.close();
    await conn.close();
    await db.close();
    await sim.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}

/**
 * A message that takes down every worker handling it (a crash loop, as a handler that runs the
 * process out of memory would cause): its GitLab requests hang behind a fault proxy and each
 * worker that picks it up is SIGKILLed there and restarted. The broker hands it back each time,
 * flagged redelivered; past AMQP_DELIVERY_LIMIT it goes to `.dead` instead of being taken again:
 * dead-lettered by the broker itself on a quorum queue (x-death reason `delivery_limit`), by the
 * next worker with our reason header on a classic queue (the redelivery ledger). The other
 * messages are handled as usual.
 */
export async function crashLoop(
  opts: { projects?: number; queueType?: "quorum" | "classic"; deliveryLimit?: number } = {},
): Promise<
  ScenarioResult & {
    kills: number;
    deadReason: string;
    ledgerRows: number;
    wrongRows: string[];
    /** the killer's dead letter as recorded against its project (its item's status block) */
    recorded: { by: string; reason: string } | null;
  }
> {
  const projects = opts.projects ?? 20;
  const queueType = opts.queueType ?? "quorum";
  const deliveryLimit = opts.deliveryLimit ?? 3;
  const sim = scenarioSim(projects + 1);
  const proxy = startFaultProxy(sim.url);
  const [killer, ...others] = sim.state.projects;
  if (!killer) throw new Error("the simulator has no project");
  proxy.setDecider((_req, url) =>
    url.pathname === `/api/v4/projects/${killer.id}` ||
    url.pathname.startsWith(`/api/v4/projects/${killer.id}/`)
      ? { kind: "hang", ms: 120_000 }
      : { kind: "pass" },
  );
  const t = await createTestDatabase("pg");
  const names = brokerNames("loop");
  const env = serviceEnv(
    { ...sim, url: proxy.url },
    {
      DATABASE_URL: t.url,
      AMQP_URL: amqpUrl(),
      AMQP_QUEUE_TYPE: queueType,
      AMQP_DELIVERY_LIMIT: String(deliveryLimit),
      ...names,
    },
  );
  const conn = new Connection({ url: amqpUrl(), retryLow: 100, retryHigh: 500 });
  conn.on("error", () => {});
  const pub = conn.createPublisher({ confirm: true });
  const db = openDb(t.url);
  let worker: RunningProcess | undefined;
  const update = (p: { id: number }) => ({
    type: "update-item",
    version: 1,
    projectId: p.id,
    projectPath: sim.state.fullPathOf(sim.state.project(p.id) ?? killer),
    jobExecutionId: 1,
    createdAt: new Date().toISOString(),
  });
  const send = updateSender(pub, names.AMQP_EXCHANGE);
  const wrongRows = () => rowsNotAtLatestCommit(db, sim, others);
  try {
    worker = await startBinary(["worker"], env, { waitForHttp: true });
    // the ordinary messages first, all handled, so that only the killer is in hand at each kill
    await Promise.all(others.map((p) => send(update(p), `1:update-item:${p.id}`)));
    await waitFor(
      "the ordinary messages to be handled",
      async () => (await wrongRows()).length === 0,
      60_000,
    );
    await send(update(killer), `1:update-item:${killer.id}`);

    let kills = 0;
    const dead = readMessages(conn, `${names.AMQP_UPDATE_QUEUE}.dead`, 1, 120_000);
    let settled = false;
    void dead.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    // each delivery of the killer hangs in GitLab: kill the worker there, start another (counting
    // the hangs from before its start: it may take the message while it starts)
    let hangsBefore = 0;
    for (;;) {
      const state = await waitFor(
        "the killer to be taken, or dead-lettered",
        async () => ((proxy.counts.hang ?? 0) > hangsBefore ? "taken" : settled ? "dead" : undefined),
        60_000,
      );
      if (state === "dead") break;
      worker.proc.kill("SIGKILL");
      await worker.exited;
      kills++;
      if (kills > 30) throw new Error("the killer was never dead-lettered after 30 kills");
      hangsBefore = proxy.counts.hang ?? 0;
      worker = await startBinary(["worker"], env, { waitForHttp: true });
    }
    const [message] = await dead;
    const deadReason =
      queueType === "quorum"
        ? `broker: ${String(message?.headers?.["x-death"]?.[0]?.reason ?? "")}`
        : String(message?.headers?.["x-item-sync-reason"] ?? "");
    // the worker forgets the message right after it is dead-lettered, which is when we read it
    const ledgerRows = async () =>
      Number((await db.all<{ n: number }>("select count(*) as n from ingest_redelivery"))[0]?.n ?? -1);
    await waitFor("the ledger row to go", async () => (await ledgerRows()) === 0, 10_000).catch(() => {});
    const ledger = { n: await ledgerRows() };
    const [row] = await db.all<{ dead_lettered_by: string; reason: string }>(
      "select dead_lettered_by, reason from sync_dead_letter where project_id = $1 and message_type = 'update-item'",
      [killer.id],
    );
    const recorded = row ? { by: row.dead_lettered_by, reason: row.reason } : null;
    const wrong = await wrongRows();
    const duplicates = await duplicateWrites(db);
    return {
      scenario: `consumers: crash loop (${queueType} queues)`,
      tried: `one update-item whose handling hangs in GitLab, its worker SIGKILLed there each time and restarted; ${others.length} ordinary messages beside it; ${queueType} queues, AMQP_DELIVERY_LIMIT=${deliveryLimit}`,
      runs: 1,
      faults: `${kills} SIGKILLs`,
      lost: wrong.length,
      duplicates,
      outcome: `killer dead-lettered after ${kills} kills (${message?.messageId === `1:update-item:${killer.id}` ? "the right message" : `unexpected message ${message?.messageId}`}): "${deadReason}"; ${others.length - wrong.length}/${others.length} other rows right; ledger rows left ${ledger?.n}`,
      checks: [
        faultCheck("the worker killed while handling the message", kills > 0, `${kills} kills`),
        check(
          "the killer dead-lettered",
          message?.messageId === `1:update-item:${killer.id}`,
          String(message?.messageId),
        ),
        check("no redelivery ledger row left", ledger.n === 0, ledger.n),
        check("no change written twice", duplicates === 0, duplicates),
        lostCheck(wrong.length, others.length, "projects (row not right)"),
      ],
      kills,
      deadReason,
      ledgerRows: Number(ledger?.n ?? -1),
      wrongRows: wrong,
      recorded,
    };
  } finally {
    await worker?.kill("SIGKILL");
    await pub.close();
    await conn.close();
    await db.close();
    await proxy.close();
    await sim.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}
