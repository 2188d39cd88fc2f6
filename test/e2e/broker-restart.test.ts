/**
 * RabbitMQ restarted in the middle of a sync (its own private node, stopped and started again):
 * the execution completes and no project is left without its update-item. A broker that stays
 * away longer than AMQP_RECONNECT_TIMEOUT fails the execution with a clear message.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  api,
  brokerNames,
  type RunningProcess,
  serviceEnv,
  startBinary,
  startTap,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createPrivateNode, type PrivateNode } from "../queue/amqp-helpers.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

let node: PrivateNode;
let sim: GitlabSim;
let dir: string;
const procs: RunningProcess[] = [];

beforeAll(async () => {
  node = await createPrivateNode();
  await node.start();
  sim = startGitlabSim({
    projects: 1500,
    latencyMs: 10,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: TEST_WEBHOOK_URL,
  });
  dir = mkdtempSync(join(tmpdir(), "item-sync-broker-"));
}, 90_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill("SIGKILL")));
  await sim.close();
  await node.destroy();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function serve(reconnectTimeout: string) {
  const p = await startBinary(
    ["serve"],
    serviceEnv(sim, brokerNames("brk"), {
      DATABASE_URL: `sqlite:${join(dir, "broker.db")}`,
      GITLAB_CONCURRENCY: "4",
      AMQP_URL: node.url, // this test's own RabbitMQ, which it stops and starts
      AMQP_RECONNECT_TIMEOUT: reconnectTimeout,
      INGEST_ENABLED: "false",
      AMQP_EXCHANGE: "brk.items",
    }),
  );
  procs.push(p);
  return p;
}

test("broker stopped and started again mid-sync: COMPLETED, every project has its update-item", async () => {
  const tap = await startTap("brk.items", { url: node.url, durable: true });
  try {
    const p = await serve("60");
    const call = api(p.url);
    const launched = await call("POST", "/sync");
    const id = launched.body.id as number;
    await waitFor(
      "some progress",
      async () => ((await call("GET", `/jobs/${id}`)).body.counts as { read: number }).read >= 300,
    );
    // GitLab slows to a crawl while the broker is away, so the scan cannot finish (and complete)
    // during the outage however fast this machine is: the outage is really mid-sync.
    sim.set({ latencyMs: 2000 });
    await node.stop();
    await Bun.sleep(2000);
    const during = (await call("GET", `/jobs/${id}`)).body;
    expect(during.status).toBe("STARTED");
    expect((await fetch(`${p.url}/health/ready`)).status).toBe(503);
    await node.start();
    sim.set({ latencyMs: 10 });
    const done = await waitForExecution(call, id, { proc: p, timeoutMs: 90_000 });
    expect(`${done.status} ${done.exitMessage}`).toBe("COMPLETED ");
    const ids = sim.state.projects.map((pr) => pr.id);
    await waitFor(
      "every update-item",
      async () => ids.every((pid) => tap.counts["item.update"].has(pid)),
      30_000,
    );
    expect(await p.kill("SIGTERM")).toBe(0);
  } finally {
    await tap.close();
  }
}, 180_000);

test("broker away longer than AMQP_RECONNECT_TIMEOUT: the execution FAILS with a message naming the broker", async () => {
  const p = await serve("3");
  const call = api(p.url);
  const launched = await call("POST", "/sync?fresh=true");
  const id = launched.body.id as number;
  await waitFor(
    "some progress",
    async () => ((await call("GET", `/jobs/${id}`)).body.counts as { read: number }).read >= 200,
  );
  await node.stop();
  try {
    const done = await waitForExecution(call, id, { proc: p, timeoutMs: 60_000 });
    expect(done.status).toBe("FAILED");
    expect(String(done.exitMessage).toLowerCase()).toContain("broker");
  } finally {
    await node.start();
  }
  expect(await p.kill("SIGTERM")).toBe(0);
}, 180_000);
