/**
 * A RabbitMQ node lost mid-sync and mid-ingest: a 3-node cluster on this machine, `serve` (with
 * its ingest workers) given every node in AMQP_URL, quorum queues. While the sync publishes and
 * the workers consume, the node leading the queues is SIGKILLed. The same execution must
 * COMPLETE, every project's update-item reach the (independent) tap, nothing be dead-lettered,
 * and every item row be at its project's latest commit once the workers drain.
 * CLUSTER_LOG=FILE writes serve's debug log there (to see what a failing run did).
 */
import { Connection } from "rabbitmq-client";
import { openDb } from "../../../src/db/client.ts";
import {
  api,
  brokerNames,
  type RunningProcess,
  startBinary,
  startTap,
  waitFor,
} from "../../helpers/binary.ts";
import { createTestDatabase } from "../../helpers/db.ts";
import { messageCount } from "../../queue/amqp-helpers.ts";
import { instanceLines, readExecutions, syncLedger } from "../lib/accounting.ts";
import {
  fencingProblems,
  getExecution,
  historyProblems,
  missingUpdates,
  readHistory,
  scenarioSim,
  serviceEnv,
  waitTerminal,
} from "../lib/harness.ts";
import { startRabbitCluster } from "../lib/rabbit-cluster.ts";
import { check, faultCheck, historyCheck, lostCheck, type ScenarioResult, say } from "../lib/report.ts";
import { rowsNotAtLatestCommit } from "./consumers.ts";

export async function clusterNodeLoss(
  opts: { projects?: number; queueType?: "quorum" | "classic" } = {},
): Promise<ScenarioResult & { status: string; dead: number; wrongRows: number }> {
  const projects = opts.projects ?? 1000;
  const cluster = await startRabbitCluster();
  const sim = scenarioSim(projects, 4);
  const t = await createTestDatabase("pg");
  const names = brokerNames("cluster");
  let serve: RunningProcess | undefined;
  let tap: Awaited<ReturnType<typeof startTap>> | undefined;
  const db = openDb(t.url);
  try {
    const env = serviceEnv(sim, {
      DATABASE_URL: t.url,
      AMQP_URL: cluster.urls.join(","),
      INGEST_ENABLED: "true",
      GITLAB_CONCURRENCY: "4",
      AMQP_RECONNECT_TIMEOUT: "60",
      AMQP_QUEUE_TYPE: opts.queueType ?? "quorum",
      LOG_LEVEL: process.env.CLUSTER_LOG ? "debug" : "warn",
      ...names,
    });
    serve = await startBinary(["serve"], env);
    const call = api(serve.url);
    // the service declares its queues from the node it is connected to (n1): they lead there
    const problems: string[] = [];
    const leader = await cluster.leaderOf(names.AMQP_UPDATE_QUEUE, 1).catch((err: unknown) => {
      problems.push(`the update queue has no leader (not a quorum queue?): ${String(err).slice(0, 200)}`);
      return 0; // a classic queue lives on the node that declared it: n1
    });
    const survivor = [0, 1, 2].find((i) => i !== leader) as number;
    const statusBefore = await cluster.queueStatus(names.AMQP_UPDATE_QUEUE, leader);
    tap = await startTap(names.AMQP_EXCHANGE, { url: cluster.urls[survivor] });
    const launched = await call("POST", "/sync");
    if (launched.status !== 202) throw new Error(`launch refused: ${JSON.stringify(launched.body)}`);
    const id = launched.body.id as number;
    // mid-sync (publishing) and mid-ingest (workers have written rows)
    await waitFor(
      "the sync to publish and the workers to ingest",
      async () => {
        if ((tap?.total("item.update") ?? 0) < projects / 5) return false;
        const [row] = await db.all<{ n: number }>("select count(*) as n from item_git");
        return Number(row?.n ?? 0) > 0;
      },
      60_000,
    );
    const before = tap.total("item.update");
    const atKill = (await getExecution(call, id)).status;
    await cluster.kill(leader);
    say(`cluster: node n${leader + 1} (leader of the queues) SIGKILLed after ${before} update-items`);

    const requestsAtKill = sim.stats().requests;
    const done = await waitTerminal(call, id, 90_000, serve).catch(async (err: unknown) => {
      // what the service was waiting on: its GitLab and publisher gauges, the simulator's count
      const metrics = await fetch(`${serve?.url}/metrics`)
        .then((r) => r.text())
        .catch((e: unknown) => `metrics: ${String(e)}`);
      const gauges = metrics
        .split("\n")
        .filter((l) =>
          /^item_sync_(gitlab_requests_(in_flight|waiting)|messages_(published|confirmed|failed|resent)_total)/.test(
            l,
          ),
        );
      const statusNow = await cluster.queueStatus(names.AMQP_UPDATE_QUEUE, survivor);
      const survivors = [0, 1, 2].filter((i) => i !== leader);
      throw new Error(
        `${(err as Error).message}; GitLab requests since the kill: ${sim.stats().requests - requestsAtKill}; ${gauges.join("; ")}\n` +
          `update queue before the kill: ${statusBefore}\nnow: ${statusNow}\n${survivors.map((i) => cluster.logTail(i)).join("\n")}`,
      );
    });
    const ids = sim.state.projects.map((p) => p.id);
    await waitFor(
      "an update-item for every project",
      async () => missingUpdates(ids, tap?.counts["item.update"] ?? new Map()).length === 0,
      30_000,
    ).catch(() => {});
    const wrongRows = () => rowsNotAtLatestCommit(db, sim, sim.state.projects);
    // a guard, not a figure: the workers write each item's IMRT rows (several GitLab reads per
    // item), so 5,000 items take a while to drain after the node loss; a stall still fails below
    await waitFor("the workers to drain", async () => (await wrongRows()).length === 0, 180_000).catch(
      () => {},
    );
    const wrong = await wrongRows();
    const missing = missingUpdates(ids, tap.counts["item.update"]);
    const newLeader = await cluster.leaderOf(names.AMQP_UPDATE_QUEUE, survivor).catch(() => -1);
    const admin = new Connection({ url: cluster.urls[survivor], retryLow: 100, retryHigh: 500 });
    admin.on("error", () => {});
    let dead = 0;
    try {
      for (const q of [names.AMQP_MONITOR_QUEUE, names.AMQP_UPDATE_QUEUE, names.AMQP_DELETE_QUEUE])
        dead += await messageCount(admin, `${q}.dead`);
    } finally {
      await admin.close();
    }
    const history = await readHistory(db);
    const historyIssues = historyProblems(history);
    const fencing = await fencingProblems(db, tap.messages);
    const ledger = syncLedger(await readExecutions(db), tap.messages, ids);
    if (done.status !== "COMPLETED") {
      // what the broker says now: each queue's leader and members, and whether a publish on a
      // fresh connection to a surviving node is accepted for each routing key
      const survivors = [0, 1, 2].filter((i) => i !== leader);
      const queues = [names.AMQP_MONITOR_QUEUE, names.AMQP_UPDATE_QUEUE, names.AMQP_DELETE_QUEUE];
      const statuses = await Promise.all(queues.map((q) => cluster.queueStatus(q, survivor)));
      const probe = new Connection({ url: cluster.urls[survivor], retryLow: 100, retryHigh: 500 });
      probe.on("error", () => {});
      const pub = probe.createPublisher({ confirm: true, maxAttempts: 1 });
      const probes: string[] = [];
      for (const key of ["item.monitor", "item.update", "item.delete"]) {
        const outcome = await Promise.race([
          pub
            .send({ exchange: names.AMQP_EXCHANGE, routingKey: key, messageId: `probe-${key}` }, "probe")
            .then(() => "accepted")
            .catch((e: unknown) => `refused: ${String(e)}`),
          Bun.sleep(10_000).then(() => "no answer in 10 s"),
        ]);
        probes.push(`${key} ${outcome}`);
      }
      await pub.close().catch(() => {});
      await probe.close().catch(() => {});
      problems.push(
        `execution ${id} ended ${done.status}: ${done.exitMessage}\nupdate queue before the kill: ${statusBefore}\n` +
          `now: ${statuses.join("\n")}\nprobe publishes: ${probes.join("; ")}\n` +
          `service warnings: ${[
            ...new Set(
              serve
                .logs()
                .split("\n")
                .filter((l) => l.includes('"level":"warn"') && !l.includes("consumer error"))
                .map((l) => l.replace(/"time":"[^"]*",?/, "")),
            ),
          ]
            .slice(0, 15)
            .join("\n")}\n` +
          survivors.map((i) => cluster.logTail(i)).join("\n"),
      );
    }
    return {
      scenario: "RabbitMQ cluster: the queues' leader node lost",
      tried: `3-node RabbitMQ cluster, quorum queues, AMQP_URL listing every node; the node leading the queues SIGKILLed mid-sync and mid-ingest (after ${before} of ${projects} update-items)`,
      runs: history.length,
      faults: "1 node SIGKILL",
      lost: ledger.lost + wrong.length,
      duplicates: ledger.duplicates,
      outcome:
        `execution ${id} ${done.status} (the same execution); queues now led by ${newLeader >= 0 ? `n${newLeader + 1}` : "?"}; ` +
        `${ids.length - missing.length}/${ids.length} update-items seen, ${projects - wrong.length}/${projects} item rows at the latest commit, ${dead} dead-lettered; problems: ${problems.length === 0 ? "none" : problems.join("; ")}`,
      checks: [
        faultCheck(
          "the queues' leader killed mid-sync",
          atKill === "STARTED",
          `execution ${atKill} at the kill`,
        ),
        check(
          "the update queue had a leader (quorum)",
          problems.length === 0 || !problems[0]?.startsWith("the update queue has no leader"),
          problems[0] ?? "yes",
        ),
        check(
          "the launched execution COMPLETED",
          done.status === "COMPLETED",
          done.status === "COMPLETED" ? done.status : (problems.at(-1)?.slice(0, 300) ?? done.status),
        ),
        check("one execution for the run", history.length === 1, history.length),
        check("nothing dead-lettered", dead === 0, dead),
        check(
          "every item row at its latest commit",
          wrong.length === 0,
          `${projects - wrong.length}/${projects}`,
        ),
        historyCheck(historyIssues),
        check("fencing held", fencing.length === 0, fencing.length === 0 ? "none" : fencing.join("; ")),
        lostCheck(ledger.lost, ids.length),
      ],
      notes: instanceLines(ledger.instances),
      status: done.status,
      dead,
      wrongRows: wrong.length,
    };
  } finally {
    if (process.env.CLUSTER_LOG) await Bun.write(process.env.CLUSTER_LOG, serve?.logs() ?? "");
    await serve?.kill("SIGKILL");
    await tap?.close().catch(() => {});
    await db.close();
    await sim.close();
    await t.drop();
    await cluster.destroy();
  }
}
