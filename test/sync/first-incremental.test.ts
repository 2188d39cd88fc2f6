/**
 * The first incremental run after the first full run costs what an incremental run should. One
 * item-sync instance (in-process core and ingest workers, real RabbitMQ and SQLite) watches a
 * simulated group of 3,000 projects, half of them without our hook: a first full run (which
 * creates those hooks), a few changes (pushes, a rename, a new project), then an incremental run.
 * The incremental run's GitLab requests — the scan's and its workers', counted by the simulator —
 * are at most 10 % of the full run's, and it leaves the tables a full run leaves (a full run
 * after it changes nothing). Hook verifications a scan finds, and hooks monitor-item creates,
 * are recorded whether or not an update-item has written the project's row yet.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { JobExecution, ScanMode } from "../../src/batch/types.ts";
import { buildCore, type Core } from "../../src/commands/compose.ts";
import { loadConfig } from "../../src/config/config.ts";
import { type Ingest, startIngest } from "../../src/ingest/workers.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createLifecycle, type Lifecycle } from "../../src/lifecycle.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { imrtSnapshot } from "../helpers/imrt-snapshot.ts";
import { amqpEnv, deleteTopology, eventually, testAmqpUrl, uniqueConfig } from "../queue/amqp-helpers.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const PROJECTS = 3000;
const WEBHOOK_URL = "https://first.item-sync.test/webhooks/gitlab";

let sim: GitlabSim;
let t: TestDatabase;
let core: Core;
let ingest: Ingest;
let lifecycle: Lifecycle;
const amqp = uniqueConfig(testAmqpUrl());
let published = 0;

beforeAll(async () => {
  sim = startGitlabSim({
    projects: PROJECTS,
    subgroupFraction: 0,
    sharedFraction: 0,
    monitoredFraction: 0.5,
    otherHookFraction: 0.2,
    webhookUrl: WEBHOOK_URL,
  });
  t = await createTestDatabase("sqlite");
  const config = loadConfig({
    DATABASE_URL: t.url,
    GITLAB_URL: sim.url,
    GITLAB_TOKEN: sim.token,
    GITLAB_GROUP: sim.group,
    GITLAB_CONCURRENCY: "16",
    WEBHOOK_URL,
    WEBHOOK_SECRET: "first-incremental-secret-0123456789",
    API_TOKENS: "first-incremental-token-0123456789",
    ...amqpEnv(amqp),
    SYNC_CRON: "off",
  });
  lifecycle = createLifecycle(silentLogger);
  core = await buildCore(config, lifecycle, silentLogger);
  lifecycle.defer("job runner", () => core.runner.shutdown());
  ingest = await startIngest({
    config,
    broker: core.broker,
    db: core.db,
    gitlab: core.gitlab,
    logger: silentLogger,
  });
  lifecycle.defer("ingest", () => ingest.close());
});

afterAll(async () => {
  await lifecycle?.shutdown("test done");
  await deleteTopology(amqp.url, amqp);
  await t?.drop();
  await sim?.close();
});

/** Runs one sync in `mode` to its end and waits until the workers handled all it published. */
async function syncAndDrain(mode: ScanMode): Promise<JobExecution> {
  const launched = await core.jobs.launch({ trigger: "api", fresh: true, mode });
  if (launched.kind !== "started") throw new Error(`launch gave ${launched.kind}`);
  await core.runner.whenDone(launched.execution.id);
  const done = await core.repository.get(launched.execution.id);
  if (done?.status !== "COMPLETED") throw new Error(`${done?.status} ${done?.exitMessage}`);
  const c = done.counts;
  published += c.monitorPublished + c.updatePublished + c.deletePublished;
  await eventually(
    () => ingest.consumers.reduce((n, q) => n + q.stats().handled + q.stats().deadLettered, 0) >= published,
    120_000,
    "the workers to drain",
  );
  for (const q of ingest.consumers) expect(q.stats().deadLettered).toBe(0);
  return done;
}

test("a first full run of 3,000 projects, then an incremental run: ≤ 10 % of the full run's GitLab requests, and a full run's end state", async () => {
  sim.resetStats();
  const full = await syncAndDrain("full");
  const fullRequests = sim.stats().requests;
  expect(full.counts.monitorPublished).toBeGreaterThan(PROJECTS * 0.4); // half the hooks created
  // every project's hook recorded as verified, the created ones too
  const [unverified] = await core.db.all<{ n: number }>(
    "select count(*) as n from sync_project where hook_verified_at is null or hook_state <> 'ok'",
  );
  expect(Number(unverified?.n)).toBe(0);

  // a night's worth of changes
  const state = sim.state;
  for (const p of state.projects.slice(0, 10)) state.pushCommit(p.id, { files: { "README.md": `${p.id}` } });
  const renamed = state.projects[20]!;
  state.renameProject(renamed.id, { path: `${renamed.path}-renamed` });
  state.addProject({ namespaceId: state.group.id });

  sim.resetStats();
  const incremental = await syncAndDrain("incremental");
  const incrementalRequests = sim.stats().requests;
  expect(incremental.mode).toBe("incremental");
  expect(incremental.counts.read).toBe(PROJECTS + 1);
  expect({ incrementalRequests, limit: incrementalRequests <= fullRequests * 0.1 }).toEqual({
    incrementalRequests,
    limit: true,
  });
  // only the new project's hook is checked: the others were verified by the full run
  expect(incremental.counts.hooksChecked).toBe(1);

  // the end state is a full run's: another full run changes no row
  const after = await imrtSnapshot(core.db);
  await syncAndDrain("full");
  expect(await imrtSnapshot(core.db)).toEqual(after);
}, 600_000);
