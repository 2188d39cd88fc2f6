/**
 * Soak: consecutive syncs of one `serve` (ingest workers on) while GitLab push webhooks arrive
 * throughout; RSS and open file descriptors of the process sampled from /proc after each sync.
 * Lost and duplicates come from an independent tap: per sync (job instance) and per accepted push.
 */

import { openDb } from "../../../src/db/client.ts";
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
import { createTestDatabase } from "../../helpers/db.ts";
import { pushLedger, readExecutions, syncLedger } from "../lib/accounting.ts";
import {
  formatKb,
  procStats,
  scenarioSim,
  serviceEnv,
  WEBHOOK_SECRET,
  waitTerminal,
} from "../lib/harness.ts";
import { check, faultCheck, lostCheck, type ScenarioResult, say } from "../lib/report.ts";

export async function soak(opts: {
  syncs: number;
  projects: number;
}): Promise<ScenarioResult & { samples: Array<{ rssKb: number; fds: number }> }> {
  const sim = scenarioSim(opts.projects);
  const t = await createTestDatabase("pg");
  const names = brokerNames("soak");
  const tap = await startTap(names.AMQP_EXCHANGE);
  let serve: RunningProcess | undefined;
  const samples: Array<{ rssKb: number; fds: number }> = [];
  let hooks = 0;
  let hookFailures = 0;
  const accepted: string[] = []; // messageIds of the pushes answered 202
  let stopHooks = false;
  try {
    serve = await startBinary(
      ["serve"],
      serviceEnv(sim, {
        DATABASE_URL: t.url,
        AMQP_URL: amqpUrl(),
        INGEST_ENABLED: "true",
        // every sync a full scan: its oracle expects each sync to publish every project's
        // update-item (an incremental one leaves unchanged projects alone; their equivalence is
        // test/sync/differential.test.ts's)
        SYNC_MODE: "full",
        ...names,
      }),
    );
    const call = api(serve.url);
    const base = serve.url;
    const pid = serve.proc.pid;
    samples.push(procStats(pid));
    const webhooks = (async () => {
      while (!stopHooks) {
        const p = sim.state.projects[Math.floor(Math.random() * sim.state.projects.length)];
        if (!p) continue;
        const commit = sim.state.touchItem(p.id, `at ${Date.now()}`);
        const res = await fetch(`${base}/webhooks/gitlab`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-gitlab-token": WEBHOOK_SECRET,
            "x-gitlab-event": "Push Hook",
          },
          body: JSON.stringify({
            object_kind: "push",
            ref: "refs/heads/main",
            checkout_sha: commit.id,
            project_id: p.id,
            project: { id: p.id, path_with_namespace: sim.state.fullPathOf(p), default_branch: "main" },
          }),
        }).catch(() => null);
        hooks++;
        if (res?.status === 202) accepted.push(`${commit.id}:update-item:${p.id}`);
        else hookFailures++;
        await res?.arrayBuffer();
        await Bun.sleep(20);
      }
    })();
    const statuses: string[] = [];
    for (let i = 0; i < opts.syncs; i++) {
      const launched = await waitFor(
        "a launch",
        async () => {
          const r = await call("POST", "/sync");
          return r.status === 202 && r.body;
        },
        120_000,
      );
      const done = await waitTerminal(call, launched.id as number, 600_000, serve);
      statuses.push(done.status);
      const s = procStats(pid);
      samples.push(s);
      say(
        `soak sync ${i + 1}/${opts.syncs}: ${done.status}, RSS ${formatKb(s.rssKb)}, fds ${s.fds}, webhooks ${hooks}`,
      );
    }
    stopHooks = true;
    await webhooks;
    const ids = sim.state.projects.map((p) => p.id);
    const db = openDb(t.url);
    const executions = await readExecutions(db);
    await db.close();
    const measure = () => ({
      syncs: syncLedger(executions, tap.messages, ids),
      pushes: pushLedger(accepted, tap.messages),
    });
    await waitFor(
      "every update-item on the tap",
      async () => {
        const m = measure();
        return m.syncs.lost + m.pushes.lost.length === 0;
      },
      60_000,
    ).catch(() => {});
    const { syncs, pushes } = measure();
    const first = samples[1] ?? samples[0];
    const last = samples.at(-1);
    await serve.kill("SIGTERM");
    const completed = statuses.filter((s) => s === "COMPLETED").length;
    return {
      scenario: "soak",
      tried: `${opts.syncs} consecutive syncs of ${opts.projects} projects by one serve (ingest workers on, Postgres), a push webhook every ~20 ms throughout`,
      runs: opts.syncs,
      faults: `${hooks} webhook deliveries (${hookFailures} not 202)`,
      // projects a completed sync did not publish, and accepted pushes the broker never delivered
      lost: syncs.lost + pushes.lost.length,
      // update-items beyond one per project within a sync, and beyond one per accepted push
      duplicates: syncs.duplicates + pushes.duplicates,

      outcome:
        `${completed}/${opts.syncs} COMPLETED; RSS at start ${formatKb(samples[0]?.rssKb ?? 0)}, after sync 1 ${formatKb(first?.rssKb ?? 0)}, at end ${formatKb(last?.rssKb ?? 0)}; ` +
        `fds at start ${samples[0]?.fds}, after sync 1 ${first?.fds}, at end ${last?.fds}`,
      checks: [
        faultCheck("webhooks delivered during the syncs", hooks > 0, `${hooks} deliveries`),
        check("every sync COMPLETED", completed === opts.syncs, `${completed}/${opts.syncs}`),
        check("every webhook answered 202", hookFailures === 0, `${hookFailures} not 202`),
        lostCheck(
          syncs.lost + pushes.lost.length,
          ids.length * completed + accepted.length,
          "project-syncs and pushes",
        ),
      ],
      notes: [
        `update-items seen: ${tap.total("item.update")}; per sync: ${syncs.instances.map((i) => `${i.published}/${ids.length}`).join(" ")}; pushes accepted ${accepted.length}, delivered ${accepted.length - pushes.lost.length}`,
        `RSS MiB per sync: ${samples.map((s) => (s.rssKb / 1024).toFixed(0)).join(" ")}`,
        `fds per sync: ${samples.map((s) => s.fds).join(" ")}`,
      ],
      samples,
    };
  } finally {
    stopHooks = true;
    if (serve && serve.proc.exitCode === null) await serve.kill("SIGKILL");
    await tap.close();
    await sim.close();
    await deleteBrokerNames(names);
    await t.drop();
  }
}
