/**
 * Broker faults during a sync, against the compiled binary: a private RabbitMQ node stopped for
 * a while and started again; the connection reset by a TCP proxy the test controls; the update
 * queue deleted mid-run (messages unroutable → the execution must fail, never report COMPLETED,
 * and the resumed run must republish what was returned).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection } from "rabbitmq-client";
import {
  amqpUrl,
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  startTap,
  waitFor,
} from "../../helpers/binary.ts";
import { adminConnection, createPrivateNode } from "../../queue/amqp-helpers.ts";
import { instanceLines, ledgerOf, type TapMessage } from "../lib/accounting.ts";
import { type Execution, getExecution, scenarioSim, serviceEnv, waitTerminal } from "../lib/harness.ts";
import { startFaultProxy } from "../lib/http-fault-proxy.ts";
import { check, faultCheck, lostCheck, type ScenarioResult, say } from "../lib/report.ts";
import { startTcpProxy } from "../lib/tcp-proxy.ts";

async function untilRead(call: ReturnType<typeof api>, id: number, n: number) {
  await waitFor(`read ≥ ${n}`, async () => ((await getExecution(call, id)).counts?.read ?? 0) >= n, 60_000);
}

/** RabbitMQ (a private node) stopped for `downSeconds` in the middle of a sync, then started again. */
export async function brokerOutage(opts: {
  downSeconds: number;
  projects?: number;
}): Promise<ScenarioResult> {
  const projects = opts.projects ?? 1500;
  const node = await createPrivateNode();
  await node.start();
  const sim = scenarioSim(projects, 10);
  const dir = mkdtempSync(join(tmpdir(), "item-sync-rel-broker-"));
  const names = brokerNames("outage");
  const tap = await startTap(names.AMQP_EXCHANGE, { url: node.url, durable: true });
  let serve: RunningProcess | undefined;
  try {
    serve = await startBinary(
      ["serve"],
      serviceEnv(sim, {
        DATABASE_URL: `sqlite:${join(dir, "db.sqlite")}`,
        AMQP_URL: node.url,
        GITLAB_CONCURRENCY: "4",
        AMQP_RECONNECT_TIMEOUT: String(Math.max(60, opts.downSeconds * 2)),
        ...names,
      }),
    );
    const call = api(serve.url);
    const id = (await call("POST", "/sync")).body.id as number;
    await untilRead(call, id, 300);
    const atStop = (await getExecution(call, id)).status;
    await node.stop();
    const stoppedAt = Date.now();
    say(`broker stopped for ${opts.downSeconds} s`);
    let duringStatus = "";
    while (Date.now() - stoppedAt < opts.downSeconds * 1000) {
      duringStatus = (await getExecution(call, id)).status;
      if (serve.proc.exitCode !== null) throw new Error(`serve exited during the outage:\n${serve.logs()}`);
      await Bun.sleep(1000);
    }
    const readyDuring = (await fetch(`${serve.url}/health/ready`)).status;
    await node.start();
    const done = await waitTerminal(call, id, 300_000, serve);
    const ids = sim.state.projects.map((p) => p.id);
    const dbUrl = `sqlite:${join(dir, "db.sqlite")}`;
    // every completed instance's update-items reach the tap (it may still be draining)
    await waitFor(
      "every update-item",
      async () => (await ledgerOf(dbUrl, tap.messages, ids)).lost === 0,
      30_000,
    ).catch(() => {});
    await serve.kill("SIGTERM");
    const ledger = await ledgerOf(dbUrl, tap.messages, ids);
    return {
      scenario: `broker stopped ${opts.downSeconds} s`,
      tried: `private RabbitMQ node stopped ${opts.downSeconds} s after 300 of ${projects} projects were read, then started again`,
      runs: 1,
      faults: `1 outage of ${opts.downSeconds} s (status during: ${duringStatus}, /health/ready ${readyDuring})`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      outcome: `${done.status}${done.exitMessage ? `: ${done.exitMessage}` : ""}`,
      checks: [
        faultCheck(
          "broker stopped while the sync ran",
          atStop === "STARTED",
          `execution ${atStop} when stopped`,
        ),
        check("the sync COMPLETED after the outage", done.status === "COMPLETED", done.status),
        lostCheck(ledger.lost, ids.length),
      ],
      notes: instanceLines(ledger.instances),
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close().catch(() => {});
    await sim.close();
    await node.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The service's AMQP connection reset by a TCP proxy `drops` times during one sync. */
export async function proxyDrops(opts: { drops: number; projects?: number }): Promise<ScenarioResult> {
  const projects = opts.projects ?? 2000;
  const broker = new URL(amqpUrl());
  const proxy = startTcpProxy(broker.hostname, Number(broker.port || 5672));
  const proxied = new URL(amqpUrl());
  proxied.port = String(proxy.port);
  const sim = scenarioSim(projects, 5);
  const dir = mkdtempSync(join(tmpdir(), "item-sync-rel-proxy-"));
  const names = brokerNames("proxy");
  const tap = await startTap(names.AMQP_EXCHANGE);
  let serve: RunningProcess | undefined;
  try {
    serve = await startBinary(
      ["serve"],
      serviceEnv(sim, {
        DATABASE_URL: `sqlite:${join(dir, "db.sqlite")}`,
        AMQP_URL: proxied.toString(),
        GITLAB_CONCURRENCY: "4",
        AMQP_RECONNECT_TIMEOUT: "60",
        ...names,
      }),
    );
    const call = api(serve.url);
    const id = (await call("POST", "/sync")).body.id as number;
    let dropped = 0;
    let status = "";
    for (let i = 0; i < opts.drops; i++) {
      await untilRead(call, id, Math.floor(((i + 1) * projects) / (opts.drops + 2)));
      status = (await getExecution(call, id)).status;
      if (status !== "STARTED") break;
      dropped += proxy.drop();
      if (i % 2 === 1) proxy.refuse(1500); // and refuse reconnection for a moment
    }
    const done = await waitTerminal(call, id, 180_000, serve);
    const ids = sim.state.projects.map((p) => p.id);
    const dbUrl = `sqlite:${join(dir, "db.sqlite")}`;
    await waitFor(
      "every update-item",
      async () => (await ledgerOf(dbUrl, tap.messages, ids)).lost === 0,
      30_000,
    ).catch(() => {});
    await serve.kill("SIGTERM");
    const ledger = await ledgerOf(dbUrl, tap.messages, ids);
    return {
      scenario: "connection reset by a TCP proxy",
      tried: `the service's AMQP connection (through a test-controlled TCP proxy) reset ${opts.drops} times during a ${projects}-project sync, every other time with reconnection refused for 1.5 s`,
      runs: 1,
      faults: `${opts.drops} resets (${dropped} sockets)`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      outcome: `${done.status}${done.exitMessage ? `: ${done.exitMessage}` : ""}`,
      checks: [
        faultCheck("connections reset while the sync ran", dropped > 0, `${dropped} sockets reset`),
        check("the sync COMPLETED", done.status === "COMPLETED", done.status),
        lostCheck(ledger.lost, ids.length),
      ],
      notes: instanceLines(ledger.instances),
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    proxy.close();
    await sim.close();
    await deleteBrokerNames(names);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The independent witness of the update-queue-deleted scenario. A tap bound to the exchange would
 * keep item.update routable and so undo the fault; this one consumes the service's own update
 * queue as a worker would (the service runs without ingest): every update-item it records reached
 * the queue. It never declares the queue (passive): after the deletion it keeps retrying and
 * attaches again once the service has declared the queue anew.
 */
async function queueWitness(url: string, queue: string) {
  const connection = new Connection({ url, retryLow: 100, retryHigh: 500 });
  connection.on("error", () => {});
  const messages: TapMessage[] = [];
  const consumer = connection.createConsumer(
    { queue, queueOptions: { passive: true }, qos: { prefetchCount: 500 } },
    async (msg) => {
      const body = JSON.parse(
        Buffer.isBuffer(msg.body) ? msg.body.toString("utf8") : JSON.stringify(msg.body),
      ) as Record<string, unknown>;
      messages.push({ routingKey: msg.routingKey, body, properties: { messageId: msg.messageId } });
    },
  );
  consumer.on("error", () => {});
  await waitFor("the witness attached to the update queue", async () => consumer.queue !== "", 10_000);
  return {
    messages,
    async close() {
      await consumer.close().catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

/**
 * The update queue deleted mid-run: no queue is bound to item.update any more, the broker returns
 * the messages. The execution must fail saying so; after the operator restarts the service (which
 * declares the queue again) the resumed run republishes every project past the checkpoint.
 */
export async function queueDeleted(
  opts: { projects?: number } = {},
): Promise<ScenarioResult & { done: Execution; recreated: boolean }> {
  const projects = opts.projects ?? 1500;
  const sim = scenarioSim(projects, 5);
  // GitLab is held while the queue is deleted: deleting a quorum queue can take seconds on a busy
  // machine, and the sync must not finish meanwhile (it would COMPLETE and test nothing)
  const proxy = startFaultProxy(sim.url);
  const dir = mkdtempSync(join(tmpdir(), "item-sync-rel-unroutable-"));
  const names = brokerNames("unrt");
  const env = serviceEnv(
    { ...sim, url: proxy.url },
    {
      DATABASE_URL: `sqlite:${join(dir, "db.sqlite")}`,
      AMQP_URL: amqpUrl(),
      GITLAB_CONCURRENCY: "4",
      ...names,
    },
  );
  let serve: RunningProcess | undefined;
  const admin = adminConnection(amqpUrl());
  let witness: Awaited<ReturnType<typeof queueWitness>> | undefined;
  try {
    serve = await startBinary(["serve"], env);
    // the witness runs from before the first launch (the service has declared the queue)
    witness = await queueWitness(amqpUrl(), names.AMQP_UPDATE_QUEUE);
    const call = api(serve.url);
    const id = (await call("POST", "/sync")).body.id as number;
    await untilRead(call, id, 300);
    proxy.setDecider(() => ({ kind: "hang", ms: 5_000 }));
    // Delete an idle queue: with GitLab held the publishes stop; wait until the queue is empty and
    // the witness has taken everything, so that no message is on its way at the deletion (one
    // routed and confirmed at that very moment is lost with the queue — the operator's deletion,
    // not the product's — and the broker's delete-ok need not count it).
    const w0 = witness;
    let lastSeen = -1;
    await waitFor(
      "the update queue idle before the deletion",
      async () => {
        const { messageCount } = await admin.queueDeclare({ queue: names.AMQP_UPDATE_QUEUE, passive: true });
        const seen = w0.messages.length;
        const idle = messageCount === 0 && seen === lastSeen;
        lastSeen = seen;
        return idle;
      },
      4_000,
    ).catch(() => {});
    const before = await getExecution(call, id);
    const atDeletion = before.status;
    const witnessedBefore = witness.messages.length;
    const deleted = await admin.queueDelete({ queue: names.AMQP_UPDATE_QUEUE });
    const witnessedAtDeletion = witness.messages.length;
    proxy.setDecider(() => ({ kind: "pass" }));
    const done = await waitTerminal(call, id, 120_000, serve);
    // With quorum queues the broker may close the publishing channel when the queue goes away;
    // the service re-declares its topology on the reopened channel, the queue is back, and the
    // run can COMPLETE (publishes not yet confirmed are sent again and routed).
    const recreated = await admin
      .queueDeclare({ queue: names.AMQP_UPDATE_QUEUE, passive: true })
      .then(() => true)
      .catch(() => false);
    await serve.kill("SIGTERM");
    // the operator's fix: restart (topology declared again), relaunch: resumes from the checkpoint
    serve = await startBinary(["serve"], env);
    const call2 = api(serve.url);
    const resumed = await call2("POST", "/sync");
    const final = await waitTerminal(call2, resumed.body.id as number, 120_000, serve);
    const ids = sim.state.projects.map((p) => p.id);
    const dbUrl = `sqlite:${join(dir, "db.sqlite")}`;
    const w = witness;
    await waitFor(
      "every completed sync's update-items",
      async () => (await ledgerOf(dbUrl, w.messages, ids)).lost === 0,
      30_000,
    ).catch(() => {});
    await serve.kill("SIGTERM");
    const ledger = await ledgerOf(dbUrl, witness.messages, ids);
    const clearFailure =
      done.status === "FAILED" && /unroutable|returned|no queue/.test(done.exitMessage.toLowerCase());
    return {
      scenario: "update queue deleted mid-run",
      tried: `the service's update queue deleted after 300 of ${projects} projects were read (item.update unroutable); then restart + relaunch; update-items counted by a consumer of that queue from before the launch`,
      runs: 2,
      faults: `1 queue deletion (execution ${atDeletion}; ${deleted.messageCount} message(s) destroyed with the queue)`,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      outcome: `first ${done.status}: ${done.exitMessage || "the queue was re-declared by the service"}; resumed (restartOf ${resumed.body.restartOf}) ${final.status}`,
      checks: [
        faultCheck(
          "update queue deleted while the sync ran",
          atDeletion === "STARTED",
          `execution ${atDeletion} at the deletion`,
        ),
        check(
          "first run FAILED naming the unroutable messages, or COMPLETED on the queue it re-declared",
          clearFailure || (done.status === "COMPLETED" && recreated),
          `${done.status}${done.exitMessage ? `: ${done.exitMessage}` : ""}; queue re-declared: ${recreated}`,
        ),
        check("the relaunch COMPLETED", final.status === "COMPLETED", final.status),
        check("no message destroyed with the queue", deleted.messageCount === 0, deleted.messageCount),
        lostCheck(ledger.lost, ids.length),
      ],
      notes: [
        `at the deletion the execution had read ${before.counts?.read} and published ${before.counts?.updatePublished} update-items; the witness had ${witnessedBefore} (${witnessedAtDeletion} once the deletion returned); project ids are 1…${projects} in listing order`,
        ...instanceLines(ledger.instances),
      ],
      done,
      recreated,
    };
  } finally {
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await witness?.close();
    await admin.close();
    await proxy.close();
    await sim.close();
    await deleteBrokerNames(names);
    rmSync(dir, { recursive: true, force: true });
  }
}
