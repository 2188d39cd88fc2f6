/** The runner when the database stops taking heartbeats: it stops working past the lease. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createJobRepository, type JobRepository } from "../../src/batch/repository.ts";
import { createJobRunner } from "../../src/batch/runner.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { type CountingStep, countingJob } from "../helpers/steps.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("sqlite");
});
afterAll(() => t.drop());

/** Launches `step` on a runner over `repository` and waits for its end, read from `real`. */
async function runToEnd(real: JobRepository, repository: JobRepository, step: CountingStep, leaseMs: number) {
  const runner = createJobRunner({ repository, jobs: [step], leaseMs, logger: silentLogger });
  const launched = await runner.launch(step.name, { trigger: "api", fresh: true });
  if (launched.kind !== "started") throw new Error("expected a start");
  await runner.whenDone(launched.execution.id);
  return { runner, ended: await real.get(launched.execution.id) };
}

test("heartbeats refused for longer than the lease: the step stops and the execution ends FAILED, restartable", async () => {
  const real = createJobRepository(t.db, { leaseMs: 400 });
  const full = Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
  // the disk fills up once the execution is running: heartbeats fail, the final write succeeds
  const repository: JobRepository = {
    ...real,
    heartbeat: async () => {
      throw full;
    },
  };
  const step = countingJob({ total: 10, pageSize: 1, hold: true });
  const { runner, ended } = await runToEnd(real, repository, step, 400);
  expect(ended?.status).toBe("FAILED");
  expect(ended?.exitMessage).toContain("refused heartbeats");
  expect(ended?.exitMessage).toContain("database or disk is full");
  await runner.shutdown();
}, 20_000);

test("a heartbeat that never answers counts as refused: past the lease the step stops and the execution ends FAILED", async () => {
  const real = createJobRepository(t.db, { leaseMs: 400 });
  // a client that lost track of its query: the promise never settles
  const repository: JobRepository = { ...real, heartbeat: () => new Promise(() => {}) };
  const step = countingJob({ total: 10, pageSize: 1, hold: true });
  const { runner, ended } = await runToEnd(real, repository, step, 400);
  expect(ended?.status).toBe("FAILED");
  expect(ended?.exitMessage).toContain("refused heartbeats (or left them unanswered)");
  expect(ended?.exitMessage).toMatch(/a heartbeat has had no answer for \d+ s/);
  await runner.shutdown();
}, 20_000);

test("SIGTERM while a launch is in flight: shutdown waits for it and the execution ends STOPPED, never left STARTING", async () => {
  const real = createJobRepository(t.db, { leaseMs: 60_000 });
  let landed: () => void = () => {};
  const inRepository = new Promise<void>((r) => {
    landed = r;
  });
  let releaseLaunch: () => void = () => {};
  const gate = new Promise<void>((r) => {
    releaseLaunch = r;
  });
  // the launch transaction is slow to answer: shutdown begins while it is in flight
  const repository: JobRepository = {
    ...real,
    launch: async (request, now) => {
      const result = await real.launch(request, now);
      landed();
      await gate;
      return result;
    },
  };
  const step = countingJob({ total: 10, pageSize: 1, hold: true });
  const runner = createJobRunner({ repository, jobs: [step], leaseMs: 60_000, logger: silentLogger });
  const launch = runner.launch(step.name, { trigger: "cron", fresh: true });
  await inRepository;
  let shutDown = false;
  const shutdown = runner.shutdown().then(() => {
    shutDown = true;
  });
  await Bun.sleep(0);
  expect(shutDown).toBe(false); // waiting for the launch in flight
  releaseLaunch();
  const result = await launch;
  await shutdown;
  if (result.kind !== "started") throw new Error("expected a start");
  const ended = await real.get(result.execution.id);
  expect(ended?.status).toBe("STOPPED");
  expect(ended?.exitMessage).toContain("shut down");
  expect(step.processed).toEqual([]);
  expect(runner.launch(step.name, { trigger: "api" })).rejects.toThrow("shutting down");
}, 20_000);

// The database refuses a connection (too many for the role) as the execution starts: reading the
// step's checkpoint is retried while the lease holds, like any other write of the step, and
// failing for good ends the execution FAILED. Before, the failed read left the runner's heartbeat
// going for ever with no step running: STARTED, heartbeat fresh, no progress.
const tooMany = () =>
  Object.assign(new Error('too many connections for role "item_sync"'), { code: "53300" });

test("the step's checkpoint refused twice at start (too many connections): read again, the execution COMPLETES", async () => {
  const real = createJobRepository(t.db, { leaseMs: 2_000 });
  let refusals = 0;
  const repository: JobRepository = {
    ...real,
    getStep: async (id) => {
      if (refusals++ < 2) throw tooMany();
      return real.getStep(id);
    },
  };
  const step = countingJob({ total: 3, pageSize: 1 });
  const { runner, ended } = await runToEnd(real, repository, step, 2_000);
  expect(ended?.status).toBe("COMPLETED");
  expect(step.processed).toEqual([0, 1, 2]);
  await runner.shutdown();
}, 20_000);

test("the step's checkpoint refused for a whole lease at start: the execution ends FAILED with the reason, no heartbeat left running", async () => {
  const real = createJobRepository(t.db, { leaseMs: 400 });
  let beats = 0;
  const repository: JobRepository = {
    ...real,
    getStep: async () => {
      throw tooMany();
    },
    heartbeat: (...args) => {
      beats++;
      return real.heartbeat(...args);
    },
  };
  const step = countingJob({ total: 3, pageSize: 1 });
  const { runner, ended } = await runToEnd(real, repository, step, 400);
  expect(ended?.status).toBe("FAILED");
  expect(ended?.exitMessage).toContain("too many connections");
  expect(step.processed).toEqual([]);
  // the heartbeat ended with the execution: none is sent in the next leases
  const after = beats;
  await Bun.sleep(1_000);
  expect(beats).toBe(after);
  await runner.shutdown();
}, 20_000);
