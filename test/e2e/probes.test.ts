/**
 * The compiled binary's probe surface: `item-sync health` (the image's HEALTHCHECK, no curl) and
 * METRICS_PORT, the second port that serves /metrics and /health/* only, in serve and worker.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  API_TOKEN,
  brokerNames,
  deleteBrokerNames,
  freePort,
  type RunningProcess,
  requireBinary,
  serviceEnv,
  startBinary,
  waitFor,
} from "../helpers/binary.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

/** Runs `item-sync health …` to completion with only PATH and `env` (async: the probed server may live in this process). */
async function health(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([requireBinary(), "health", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
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

describe("item-sync health", () => {
  let server: ReturnType<typeof Bun.serve>;
  let status = 200;
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        new URL(req.url).pathname === "/health/live"
          ? new Response("{}", { status })
          : new Response("not here", { status: 404 }),
    });
  });
  afterAll(() => server.stop(true));

  test("exit 0 when GET /health/live on 127.0.0.1:$PORT answers 200, with no other configuration", async () => {
    status = 200;
    const r = await health([], { PORT: String(server.port) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("exit 1 when it answers 503, naming the URL and the status, without a stack trace", async () => {
    status = 503;
    const r = await health(["--url", `http://127.0.0.1:${server.port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`http://127.0.0.1:${server.port}/health/live answered 503`);
    expect(r.stderr).not.toContain("    at ");
  });

  test("exit 1 when nothing listens", async () => {
    const r = await health([], { PORT: String(freePort()) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unhealthy");
    expect(r.stderr).not.toContain("    at ");
  });

  test("a malformed --url is a usage error (exit 2)", async () => {
    const r = await health(["--url", "not a url"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--url must be an http(s) URL");
  });
});

describe("METRICS_PORT", () => {
  let db: TestDatabase;
  let sim: GitlabSim;
  const names = brokerNames("mport");
  const procs: RunningProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase("sqlite", { migrated: false });
    await db.db.close();
    sim = startGitlabSim({ projects: 3, subgroupFraction: 0, sharedFraction: 0 });
    env = serviceEnv(sim, names, {
      DATABASE_URL: db.url,
      WEBHOOK_SECRET: "probe-test-webhook-secret-0123456789",
    });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    await sim.close();
    await deleteBrokerNames(names);
    await db.drop();
  });

  for (const command of ["serve", "worker"] as const) {
    test(`${command}: /metrics and /health/* answer on METRICS_PORT; the API port keeps a bare readiness and /metrics for tokens; SIGTERM exits 0`, async () => {
      const metricsPort = freePort();
      const p = await startBinary(
        [command],
        { ...env, METRICS_PORT: String(metricsPort) },
        { waitForHttp: true },
      );
      procs.push(p);
      const base = `http://127.0.0.1:${metricsPort}`;
      await waitFor("METRICS_PORT to answer", async () => {
        try {
          return (await fetch(`${base}/health/live`)).status === 200;
        } catch {
          return false;
        }
      });
      const ready = await waitFor("ready on METRICS_PORT", async () => {
        const r = await fetch(`${base}/health/ready`);
        return r.status === 200 && r;
      });
      expect(await ready.json()).toMatchObject({ status: "ok" });

      const scrape = await fetch(`${base}/metrics`);
      expect(scrape.status).toBe(200);
      const text = await scrape.text();
      expect(text).toContain("item_sync_");
      if (command === "serve") expect(text).toContain("item_sync_job_executions");

      // only probes and metrics there: no API, no dashboard
      expect(
        (await fetch(`${base}/jobs`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status,
      ).toBe(404);
      expect((await fetch(`${base}/`)).status).toBe(404);
      if (command === "serve") {
        // the API port keeps liveness and a bare readiness; /metrics only for token holders
        expect(await (await fetch(`${p.url}/health/ready`)).json()).toEqual({ status: "ok" });
        expect((await fetch(`${p.url}/metrics`)).status).toBe(401);
        const scraped = await fetch(`${p.url}/metrics`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        });
        expect(scraped.status).toBe(200);
        expect(await scraped.text()).toContain("item_sync_job_executions");
      } else {
        // a worker has no API: its main port serves what it always did
        expect((await fetch(`${p.url}/metrics`)).status).toBe(200);
      }

      expect((await health(["--url", base])).code).toBe(0);
      expect((await health([], { PORT: new URL(p.url).port })).code).toBe(0);

      expect(await p.kill("SIGTERM")).toBe(0);
      expect((await health(["--url", base])).code).toBe(1);
    });
  }

  test("METRICS_PORT equal to PORT is refused at start (exit 2)", async () => {
    const port = String(freePort());
    const p = await startBinary(
      ["worker"],
      { ...env, PORT: port, METRICS_PORT: port },
      { waitForHttp: false },
    );
    procs.push(p);
    expect(await p.exited).toBe(2);
    expect(p.logs()).toContain("METRICS_PORT: must differ from PORT");
  });
});
