/**
 * The job runtime through the compiled binary, on SQLite and Postgres: one running execution
 * across replicas, lease expiry after SIGKILL and resume from the checkpoint, stop/reset/restart
 * through the HTTP API, and the CLI's configuration errors, --help and migrate.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedMigrations } from "../../src/db/migrate.ts";
import { IMRT_TABLE_NAMES } from "../../src/items/imrt-names.ts";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  type ExecutionBody,
  type RunningProcess,
  serviceEnv,
  startBinary,
  startTap,
  TERMINAL_STATUSES,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const WEBHOOK_URL = TEST_WEBHOOK_URL;
type Call = ReturnType<typeof api>;
const TERMINAL = TERMINAL_STATUSES;
type Body = ExecutionBody;
const waitStatus = (call: Call, id: number, statuses: string[], timeoutMs = 60_000) =>
  waitForExecution(call, id, { statuses, timeoutMs });

for (const dialect of DIALECTS) {
  describe(`runtime via the binary on ${dialect}`, () => {
    let db: TestDatabase;
    let sim: GitlabSim;
    const names = brokerNames(`rt${dialect}`);
    const procs: RunningProcess[] = [];
    let env: Record<string, string>;

    beforeAll(async () => {
      db = await createTestDatabase(dialect, { migrated: false });
      await db.db.close(); // the binary migrates it
      // slow enough that a sync runs for several seconds: 1,500 projects, 15 ms per request, 4 at a time
      sim = startGitlabSim({
        projects: 1500,
        latencyMs: 15,
        subgroupFraction: 0,
        sharedFraction: 0,
        webhookUrl: WEBHOOK_URL,
      });
      env = serviceEnv(sim, names, {
        DATABASE_URL: db.url,
        GITLAB_CONCURRENCY: "4",
        INGEST_ENABLED: "false",
        // short enough to see a dead execution expire quickly, long enough for a loaded CI machine
        JOB_LEASE_SECONDS: "4",
      });
    });
    afterAll(async () => {
      await Promise.all(procs.map((p) => p.kill("SIGKILL")));
      await sim.close();
      await deleteBrokerNames(names);
      await db.drop();
    });

    const serve = async (extra: Record<string, string> = {}) => {
      const p = await startBinary(["serve"], { ...env, ...extra });
      procs.push(p);
      return p;
    };

    test("three replicas, twenty simultaneous POST /sync: exactly one 202, nineteen 409 naming it", async () => {
      const replicas = await Promise.all([serve(), serve(), serve()]);
      const calls = replicas.map((r) => api(r.url));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (calls[i % 3] as Call)("POST", "/sync")),
      );
      const started = results.filter((r) => r.status === 202);
      const conflicts = results.filter((r) => r.status === 409);
      expect(started.length).toBe(1);
      expect(conflicts.length).toBe(19);
      const id = started[0]?.body.id as number;
      for (const c of conflicts)
        expect(c.body).toMatchObject({ error: { code: "JOB_ALREADY_RUNNING" }, runningJobId: id });

      // stop it from another replica than the one running it: STOPPING, then STOPPED at a checkpoint
      for (const call of calls) {
        const r = await call("POST", `/jobs/${id}/stop`);
        expect([202, 409]).toContain(r.status);
      }
      const stopped = await waitStatus(calls[0] as Call, id, TERMINAL);
      expect(`${stopped.status} ${stopped.exitMessage}`).toBe("STOPPED stopped on request; restartable");
      for (const r of replicas) expect(await r.kill("SIGTERM")).toBe(0);
    }, 90_000);

    test("SIGKILL mid-run: the lease expires, the execution is FAILED with a reason, and the next launch resumes from its checkpoint", async () => {
      const tap = await startTap(names.AMQP_EXCHANGE);
      try {
        const first = await serve();
        const call = api(first.url);
        const launched = await call("POST", "/sync?fresh=true");
        expect(launched.status).toBe(202);
        const id = launched.body.id as number;
        const before = await waitFor("three checkpoints", async () => {
          const r = (await call("GET", `/jobs/${id}`)).body as Body;
          return (r.step?.commitCount ?? 0) >= 3 && r;
        });
        expect(before.status).toBe("STARTED");
        await first.kill("SIGKILL");

        const second = await serve();
        const call2 = api(second.url);
        const dead = await waitStatus(call2, id, TERMINAL, 15_000);
        expect(dead.status).toBe("FAILED");
        expect(dead.exitMessage).toContain("no heartbeat since");
        const checkpoint = (dead.step?.context.checkpoint ?? {}) as { lastProjectId: number };
        expect(checkpoint.lastProjectId).toBeGreaterThan(0);

        const resumed = await call2("POST", "/sync");
        expect(resumed.status).toBe(202);
        expect(resumed.body.restartOf).toBe(id);
        const done = await waitStatus(call2, resumed.body.id as number, TERMINAL);
        expect(done.status).toBe("COMPLETED");
        // checkpointed work is not redone: the resumed run read only the projects after the checkpoint
        const ids = sim.state.projects.map((p) => p.id);
        expect(done.counts.read).toBe(ids.filter((pid) => pid > checkpoint.lastProjectId).length);
        // and every project got at least one update-item across both executions
        await waitFor(
          "update-items",
          async () => ids.every((pid) => tap.counts["item.update"].has(pid)),
          20_000,
        );
        const duplicates = tap.total("item.update") - ids.length;
        expect(duplicates).toBeLessThanOrEqual(3 * 100); // at most the pages in flight when killed
        expect(await second.kill("SIGTERM")).toBe(0);
      } finally {
        await tap.close();
      }
    }, 120_000);

    test("reset refuses a live execution unless forced; a forced reset stops the worker; ABANDONED is not resumed", async () => {
      const p = await serve();
      const call = api(p.url);
      const a = await call("POST", "/sync?fresh=true");
      const id = a.body.id as number;
      await waitStatus(call, id, ["STARTED"]);
      const refused = await call("POST", `/jobs/${id}/reset`);
      expect(refused.status).toBe(409);
      expect(refused.body.error?.code).toBe("JOB_HEARTBEAT_FRESH");
      const forced = await call("POST", `/jobs/${id}/reset?force=true`);
      expect(forced.status).toBe(200);
      expect(forced.body.status).toBe("ABANDONED");
      expect(forced.body.endTime).toBeString();
      // the worker notices (it says so in its log) and its later writes are refused: the record
      // stays ABANDONED. On SQLite the reset reaches the worker in-process and it ends with its
      // end not recorded; on Postgres its fence sees the lease gone.
      const noticed = await waitFor(
        "the worker to notice the reset",
        async () =>
          p
            .logs()
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as { msg: string; executionId?: number; recorded?: boolean })
            .find(
              (l) =>
                l.executionId === id &&
                (l.msg === "execution ended" ||
                  l.msg.startsWith("execution was reset or failed by another process") ||
                  l.msg.startsWith("lease lost")),
            ),
        30_000,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; its log:\n${p.logs().slice(-3000)}`);
      });
      if (noticed.msg === "execution ended") expect(noticed.recorded).toBe(false);
      const after = (await call("GET", `/jobs/${id}`)).body;
      expect(after.status).toBe("ABANDONED");
      expect((await call("POST", `/jobs/${id}/reset`)).body.error?.code).toBe("JOB_ALREADY_TERMINAL");
      const next = await call("POST", "/sync");
      expect(next.status).toBe(202);
      expect(next.body.restartOf).toBeNull();
      expect((await call("POST", `/jobs/${next.body.id}/stop`)).status).toBe(202);
      const stopped = await waitStatus(call, next.body.id as number, TERMINAL);
      expect(`${stopped.status}: ${stopped.exitMessage}`).toBe("STOPPED: stopped on request; restartable");
      // STOPPED is restartable
      const restarted = await call("POST", "/sync");
      expect(restarted.body.restartOf).toBe(next.body.id);
      // SIGTERM: graceful shutdown ends the running execution STOPPED, not left STARTED
      expect(await p.kill("SIGTERM")).toBe(0);
      const fresh = await serve();
      const final = (await api(fresh.url)("GET", `/jobs/${restarted.body.id}`)).body;
      expect(final.status).toBe("STOPPED");
      expect(final.exitMessage).toContain("shut down");
      const list = (await api(fresh.url)("GET", "/jobs?limit=100")).body.jobs as { status: string }[];
      expect(list.filter((j) => ["STARTING", "STARTED", "STOPPING"].includes(j.status))).toEqual([]);
      expect(await fresh.kill("SIGTERM")).toBe(0);
    }, 90_000);
  });
}

describe("CLI", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "item-sync-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (args: string[], env: Record<string, string> = {}) => {
    const p = await startBinary(args, env, { waitForHttp: false, cwd: dir });
    const code = await p.exited;
    return { code, out: p.logs() };
  };

  test("--help and --version work from any folder", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("item-sync serve");
    expect((await run(["--version"])).out).toMatch(/^item-sync \d+\.\d+\.\d+/);
    const bad = await run(["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("unknown command: frobnicate");
  });

  test("bad configuration: every problem listed at once, exit 2, no secret echoed, no stack trace", async () => {
    const r = await run(["serve"], {
      PORT: "http",
      GITLAB_TOKEN: "glpat-very-secret-token",
      GITLAB_CONCURRENCY: "0",
      JOB_LEASE_SECONDS: "soon",
      DATABASE_URL: "mysql://root:hunter2@db/x",
      AMQP_URL: "http://user:amqp-secret-pw@host",
      SYNC_CRON_TZ: "Mars/Olympus",
      API_TOKENS: "short",
    });
    expect(r.code).toBe(2);
    for (const name of [
      "PORT",
      "GITLAB_URL",
      "GITLAB_GROUP",
      "WEBHOOK_URL",
      "GITLAB_CONCURRENCY",
      "JOB_LEASE_SECONDS",
      "DATABASE_URL",
      "AMQP_URL",
      "SYNC_CRON_TZ",
      "API_TOKENS",
    ]) {
      expect(r.out).toContain(`${name}:`);
    }
    for (const secret of ["glpat-very-secret-token", "hunter2", "amqp-secret-pw", "short"])
      expect(r.out).not.toContain(secret);
    expect(r.out).not.toContain("    at ");
  });

  for (const dialect of DIALECTS) {
    test(`migrate on a fresh ${dialect} database, twice`, async () => {
      const t = await createTestDatabase(dialect, { migrated: false });
      try {
        const first = await run(["migrate"], { DATABASE_URL: t.url });
        expect(first.code).toBe(0);
        const tags = embeddedMigrations(dialect).map((m) => m.tag);
        expect(first.out).toBe(
          `applied ${tags.length} migration(s): ${tags.join(", ")}\n` +
            `created 11 IMRT item table(s)${dialect === "pg" ? " in schema public (IMRT_SCHEMA)" : ""}: ${IMRT_TABLE_NAMES.join(", ")}\n`,
        );
        const second = await run(["migrate"], { DATABASE_URL: t.url });
        expect(second.code).toBe(0);
        expect(second.out).toContain("database is up to date");
        const jobs = await run(["jobs", "list"], { DATABASE_URL: t.url });
        expect(jobs.code).toBe(0);
        expect(JSON.parse(jobs.out)).toEqual({ jobs: [] });
        const show = await run(["jobs", "show", "12"], { DATABASE_URL: t.url });
        expect(show.code).toBe(1);
        expect(show.out).toContain("job execution 12 does not exist");
        expect((await run(["jobs", "show", "x"], { DATABASE_URL: t.url })).code).toBe(2);
      } finally {
        await t.drop();
      }
    });
  }
});
