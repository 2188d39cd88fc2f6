/**
 * The listing's total on GET /jobs/{id}: a sync against the GitLab simulator, with the real
 * client, job runner and repository on SQLite, shows GitLab's x-total in its step context as soon
 * as the first page is read (before any page is done, so before any checkpoint), and a resumed
 * execution shows it too, with what the execution it resumes handled. Publishing is held by the
 * test, so each check happens at a known point of the run, not after some time.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { executionDetailJson } from "../../src/batch/execution-json.ts";
import { createJobRepository } from "../../src/batch/repository.ts";
import { createJobRunner } from "../../src/batch/runner.ts";
import { createJobService } from "../../src/batch/service.ts";
import { createGitlabClient } from "../../src/gitlab/client.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { createSeenStore } from "../../src/items/seen-store.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createSyncJob, SYNC_JOB_NAME } from "../../src/sync/sync-step.ts";
import { simConfig } from "../gitlab/helpers.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const PROJECTS = 450; // five listing pages of 100

let sim: GitlabSim;
let t: TestDatabase;
beforeAll(async () => {
  sim = startGitlabSim({ projects: PROJECTS, subgroupFraction: 0, sharedFraction: 0 });
  t = await createTestDatabase("sqlite");
});
afterAll(async () => {
  await sim.close();
  await t.drop();
});

/** A gate every publish waits at; `reached` resolves when the first publish arrives. */
function gate() {
  let open: () => void = () => {};
  let reach: () => void = () => {};
  const opened = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (reach = r));
  return { opened, reached, open, reach };
}

test("GET /jobs/{id} shows GitLab's total from the first page on, and a resumed execution keeps it with what was handled before", async () => {
  let current = gate();
  const repository = createJobRepository(t.db, { leaseMs: 60_000 });
  const job = createSyncJob({
    gitlab: createGitlabClient(simConfig(sim), { logger: silentLogger }),
    seen: createSeenStore(t.db, imrtTables(t.db.dialect)),
    skipLimit: 0,
    deleteMaxFraction: 1,
    // every project of a page read starts at once, so a stop leaves none unstarted
    projectConcurrency: 10_000,
    publish: async () => {
      current.reach();
      await current.opened;
    },
  });
  const runner = createJobRunner({ repository, jobs: [job], leaseMs: 60_000, logger: silentLogger });
  const service = createJobService({ jobName: SYNC_JOB_NAME, repository, runner, leaseMs: 60_000 });
  const context = async (id: number) =>
    (executionDetailJson(await service.get(id)).step?.context ?? {}) as Record<string, unknown>;

  try {
    const first = await service.launch({ trigger: "api" });
    if (first.kind !== "started") throw new Error(`launch gave ${first.kind}`);
    const id1 = first.execution.id;
    await current.reached; // the first page is read; no project is done yet
    const early = await context(id1);
    expect(early.total).toBe(PROJECTS);
    expect(early.checkpoint).toBeUndefined();
    expect(early.handledThrough).toBe(0);

    // stop it: the pages in flight finish and are checkpointed, the rest is left to a resume
    runner.notifyStop(id1);
    current.open();
    await runner.whenDone(id1);
    const stopped = await service.get(id1);
    expect(stopped.status).toBe("STOPPED");
    const handledByFirst = stopped.counts.updatePublished;
    expect((await context(id1)).handledThrough).toBe(handledByFirst);
    expect(handledByFirst).toBeGreaterThan(0);
    expect(handledByFirst).toBeLessThan(PROJECTS);

    current = gate();
    const second = await service.launch({ trigger: "api" });
    if (second.kind !== "started") throw new Error(`launch gave ${second.kind}`);
    const id2 = second.execution.id;
    expect(second.execution.restartOf).toBe(id1);
    await current.reached;
    const resumed = await context(id2);
    expect(resumed.total).toBe(PROJECTS);
    expect(resumed.handledBefore).toBe(handledByFirst);
    expect(resumed.checkpoint).toEqual((await context(id1)).checkpoint);

    current.open();
    await runner.whenDone(id2);
    const done = await service.get(id2);
    expect(done.status).toBe("COMPLETED");
    const end = await context(id2);
    expect(end.total).toBe(PROJECTS);
    // the two executions together handled the listing once
    expect((end.handledBefore as number) + done.counts.updatePublished).toBe(PROJECTS);
    expect(end.handledThrough).toBe(PROJECTS);
  } finally {
    current.open();
    await runner.shutdown();
  }
});
