/**
 * The image, end to end, as the chart runs it: `npm run image` builds it (reusing the cached base
 * images and layers), the chart is rendered with real helm, and each rendered pod (the migration
 * Job, serve, worker) runs with podman exactly as its spec says (args, env from the rendered
 * ConfigMap and Secret, user, read-only root filesystem, tmpfs for its emptyDir, dropped
 * capabilities), on the host network against real Postgres and RabbitMQ and the GitLab simulator.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection } from "rabbitmq-client";
import {
  amqpUrl,
  api,
  brokerNames,
  deleteBrokerNames,
  freePort,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { handledCount, scrapeMetrics } from "../metrics/scrape.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import {
  type Container,
  find,
  type K8sObject,
  podmanRunArgs,
  podSpec,
  probePort,
  renderChart,
} from "./pod.ts";

const root = join(import.meta.dir, "../..");
const WEBHOOK_URL = "https://item-sync.test/webhooks/gitlab";
const TOKEN = "container-e2e-api-token-0123456789";
const PROJECTS = 20;
const run = `isc${Date.now().toString(36)}`;

let containersConf = "";
let image = "";
let sim: GitlabSim;
let db: TestDatabase;
let objects: K8sObject[] = [];
let chartDir = "";
const names = brokerNames("ctr");
const started: string[] = [];

async function podman(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["podman", ...args], {
    env: { ...process.env, CONTAINERS_CONF: containersConf },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, stdout, stderr };
}

async function logs(name: string): Promise<string> {
  const r = await podman(["logs", name]);
  return `${r.stdout}${r.stderr}`.slice(-4000);
}

/** Starts the rendered pod's container detached; returns its name. */
async function startPod(o: K8sObject, component: string): Promise<string> {
  const name = `${run}-${component}`;
  const r = await podman(["run", "-d", ...podmanRunArgs(o, objects, name)]);
  if (r.code !== 0) throw new Error(`podman run ${component} failed: ${r.stderr}`);
  started.push(name);
  return name;
}

/** Waits until every probe of the container answers 200 on its path and port. */
async function probesAnswer(name: string, c: Container) {
  const probes = [c.startupProbe, c.livenessProbe, c.readinessProbe];
  expect(probes.every((p) => p?.httpGet)).toBe(true);
  for (const probe of probes) {
    const url = `http://127.0.0.1:${probePort(c, probe ?? {})}${probe?.httpGet?.path}`;
    await waitFor(
      `${name}: ${url} to answer 200`,
      async () => {
        const state = await podman(["inspect", "--format", "{{.State.Running}}", name]);
        if (state.stdout.trim() !== "true") throw new Error(`${name} is not running:\n${await logs(name)}`);
        try {
          return (await fetch(url)).status === 200;
        } catch {
          return false;
        }
      },
      60_000,
    );
  }
}

/** `podman stop` with the pod's grace period; resolves with the container's exit code. */
async function stopWithinGrace(name: string, spec: { terminationGracePeriodSeconds?: number }) {
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  const stopped = await podman(["stop", "-t", String(grace), name]);
  expect(stopped.code).toBe(0);
  // past the grace period podman sends SIGKILL (exit 137): 0 means it ended on its own in time
  const code = (await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).stdout.trim();
  if (code !== "0") throw new Error(`${name} exited ${code}:\n${await logs(name)}`);
  return Number(code);
}

async function queueDepth(queue: string): Promise<number> {
  const connection = new Connection({ url: amqpUrl(), retryLow: 100, retryHigh: 1000 });
  try {
    const q = await connection.queueDeclare({ queue, passive: true });
    return q.messageCount;
  } finally {
    await connection.close();
  }
}

beforeAll(async () => {
  const conf = Bun.spawnSync(["bash", join(root, "scripts/podman.sh")]);
  if (conf.exitCode !== 0) throw new Error(`scripts/podman.sh failed: ${conf.stderr}`);
  containersConf = conf.stdout.toString().trim();
  // builds the image, or finds every layer cached (base images are made once per machine)
  const build = Bun.spawn(["bash", join(root, "scripts/image.sh")], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([
    build.exited,
    new Response(build.stdout).text(),
    new Response(build.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`scripts/image.sh failed:\n${err.slice(-4000)}`);
  image = out.trim().split("\n").pop() ?? "";

  sim = startGitlabSim({
    projects: PROJECTS,
    monitoredFraction: 0.5,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: WEBHOOK_URL,
  });
  db = await createTestDatabase("pg", { migrated: false });
  await db.db.close();
  const [repository, tag] = image.split(/:(?=[^:]+$)/) as [string, string];
  chartDir = mkdtempSync(join(tmpdir(), "item-sync-chart."));
  objects = await renderChart(
    {
      image: { repository, tag, pullPolicy: "Never" },
      config: {
        GITLAB_URL: sim.url,
        GITLAB_GROUP: sim.group,
        WEBHOOK_URL,
        SYNC_CRON: "off",
        ...names,
      },
      secrets: {
        values: {
          GITLAB_TOKEN: sim.token,
          DATABASE_URL: db.url,
          AMQP_URL: amqpUrl(),
          API_TOKENS: TOKEN,
          WEBHOOK_SECRET: "container-e2e-webhook-secret-0123456789",
        },
      },
      migrations: { mode: "hook" },
      worker: { enabled: true },
      // free host ports: the pods share the host's network here
      serve: { containerPort: freePort() },
      metrics: { port: freePort() },
    },
    chartDir,
  );
}, 600_000);

afterAll(async () => {
  for (const name of started) await podman(["rm", "-f", "-t", "0", name]);
  await sim?.close();
  await deleteBrokerNames(names);
  await db?.drop();
  if (chartDir) rmSync(chartDir, { recursive: true, force: true }); // its values hold the test's secrets
});

describe("the image as the chart runs it", () => {
  test("the runtime image has no curl or wget and runs as uid 10001; its HEALTHCHECK is `item-sync health`", async () => {
    const inspect = await podman(["image", "inspect", image]);
    const [info] = JSON.parse(inspect.stdout) as {
      Config: { User: string };
      Healthcheck?: { Test: string[] };
    }[];
    expect(info?.Config.User).toBe("10001:10001");
    expect(info?.Healthcheck?.Test).toEqual(["CMD", "/app/item-sync", "health"]);
    const which = await podman([
      "run",
      "--rm",
      "--network",
      "none",
      "--entrypoint",
      "sh",
      image,
      "-c",
      "for c in curl wget; do command -v $c; done; exit 0",
    ]);
    expect(which.code).toBe(0);
    expect(which.stdout.trim()).toBe("");
  });

  test("the migration Job's container migrates the database and exits 0", async () => {
    const job = find(objects, "Job", "rel-item-sync-migrate");
    const name = `${run}-migrate`;
    started.push(name);
    const r = await podman(["run", ...podmanRunArgs(job, objects, name)]);
    if (r.code !== 0) throw new Error(`migrate exited ${r.code}:\n${r.stdout}${r.stderr}`);
    expect(r.code).toBe(0);
  }, 120_000);

  test("serve: probes answer, HEALTHCHECK passes, a sync COMPLETES, podman stop exits 0 within the grace period", async () => {
    const deployment = find(objects, "Deployment", "rel-item-sync");
    const spec = podSpec(deployment);
    const c = spec.containers[0] as Container;
    expect(c.args?.[0]).toBe("serve");
    expect(c.image).toBe(image);
    const name = await startPod(deployment, "serve");
    await probesAnswer(name, c);
    const hc = await podman(["healthcheck", "run", name]);
    expect(hc.code).toBe(0);

    const port = c.ports?.find((p) => p.name === "http")?.containerPort;
    const call = api(`http://127.0.0.1:${port}`, TOKEN);
    const launched = await call("POST", "/sync");
    expect(launched.status).toBe(202);
    const done = await waitForExecution(call, launched.body.id as number, { timeoutMs: 120_000 });
    expect(done.status).toBe("COMPLETED");

    expect(await stopWithinGrace(name, spec)).toBe(0);
  }, 240_000);

  test("worker: probes answer, it drains the sync's messages, podman stop exits 0 within the grace period", async () => {
    const deployment = find(objects, "Deployment", "rel-item-sync-worker");
    const spec = podSpec(deployment);
    const c = spec.containers[0] as Container;
    expect(c.args?.[0]).toBe("worker");
    expect(await queueDepth(names.AMQP_UPDATE_QUEUE)).toBe(PROJECTS);
    const name = await startPod(deployment, "worker");
    await probesAnswer(name, c);

    const metricsUrl = `http://127.0.0.1:${probePort(c, c.readinessProbe ?? {})}`;
    await waitFor(
      "the worker to drain the queues",
      async () =>
        (await queueDepth(names.AMQP_UPDATE_QUEUE)) === 0 &&
        (await queueDepth(names.AMQP_MONITOR_QUEUE)) === 0 &&
        handledCount(await scrapeMetrics(metricsUrl), names.AMQP_UPDATE_QUEUE) === PROJECTS,
      120_000,
    );
    expect(await stopWithinGrace(name, spec)).toBe(0);
  }, 240_000);
});
