/**
 * Equivalence of incremental and full scans, tried on seeded random sequences (one seed of 12
 * steps here; `bun run soak -- differential` runs several seeds of longer sequences). Two item-sync instances watch one simulated GitLab
 * group, each with its own database, queues, workers and webhook url: A syncs incrementally, B in
 * full. A seeded random sequence of pushes (some within GitLab's one-hour activity throttle,
 * scaled down), renames, default-branch switches, new projects, removals, transfers out and hook
 * deletions is applied step by step; after each step A runs incrementally, B in full, both drain,
 * and A's item tables must equal B's — every row of every IMRT table (imrt-snapshot.ts), the
 * project facts, and item-sync's event history of every project. At the end one full run of A
 * must restore every hook deleted by hand.
 *
 * Not compared, as they differ between any two databases: row write times, surrogate keys (rows
 * are compared through the item ids they stand for), event ids, execution and message ids, and
 * hook_verified_at (A's and B's hooks are different hooks).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { JobExecution, ScanMode } from "../../src/batch/types.ts";
import { buildCore, type Core } from "../../src/commands/compose.ts";
import { loadConfig } from "../../src/config/config.ts";
import { type Db, toDate } from "../../src/db/client.ts";
import { type Ingest, startIngest } from "../../src/ingest/workers.ts";
import { silentLogger } from "../../src/lib/log.ts";
import { createLifecycle, type Lifecycle } from "../../src/lifecycle.ts";
import { seededRandom } from "../gitlab/helpers.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../helpers/db.ts";
import { imrtSnapshot } from "../helpers/imrt-snapshot.ts";
import { amqpEnv, deleteTopology, eventually, testAmqpUrl, uniqueConfig } from "../queue/amqp-helpers.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { WORKFLOW_CODES } from "../sim/iat-items.ts";

const PROJECTS = 150; // two listing pages
// `bun run soak -- differential` runs more seeds with longer sequences through these two
const STEPS = Number(process.env.DIFFERENTIAL_STEPS ?? 12);
const SEED = Number(process.env.DIFFERENTIAL_SEED ?? 16);
// Scaled down from GitLab's hour and the default two hours: the margin must cover the throttle.
const THROTTLE_MS = 1_000;
const MARGIN_MINUTES = 2 / 60;

interface Instance {
  name: string;
  webhookUrl: string;
  t: TestDatabase;
  core: Core;
  ingest: Ingest;
  lifecycle: Lifecycle;
  amqp: ReturnType<typeof uniqueConfig>;
  published: number;
}

async function startInstance(
  name: string,
  sim: GitlabSim,
  dialect: (typeof DIALECTS)[number],
): Promise<Instance> {
  const t = await createTestDatabase(dialect);
  const amqp = uniqueConfig(testAmqpUrl());
  const webhookUrl = `https://${name}.item-sync.test/webhooks/gitlab`;
  const config = loadConfig({
    DATABASE_URL: t.url,
    GITLAB_URL: sim.url,
    GITLAB_TOKEN: sim.token,
    GITLAB_GROUP: sim.group,
    GITLAB_INCLUDE_SUBGROUPS: "true",
    GITLAB_CONCURRENCY: "16",
    WEBHOOK_URL: webhookUrl,
    WEBHOOK_SECRET: `${name}-secret-0123456789abcdefghij`,
    API_TOKENS: "differential-token-0123456789",
    ...amqpEnv(amqp),
    SYNC_CRON: "off",
    SYNC_DELETE_MAX_FRACTION: "1",
    SYNC_ACTIVITY_MARGIN_MINUTES: String(MARGIN_MINUTES),
  });
  const lifecycle = createLifecycle(silentLogger);
  const core = await buildCore(config, lifecycle, silentLogger);
  lifecycle.defer("job runner", () => core.runner.shutdown());
  const ingest = await startIngest({
    config,
    broker: core.broker,
    db: core.db,
    gitlab: core.gitlab,
    logger: silentLogger,
  });
  lifecycle.defer("ingest", () => ingest.close());
  return { name, webhookUrl, t, core, ingest, lifecycle, amqp, published: 0 };
}

/** Runs one sync in `mode` to its end, then waits until the workers handled all it published. */
async function syncAndDrain(inst: Instance, mode: ScanMode): Promise<JobExecution> {
  const launched = await inst.core.jobs.launch({ trigger: "api", fresh: true, mode });
  if (launched.kind !== "started") throw new Error(`${inst.name}: launch gave ${launched.kind}`);
  await inst.core.runner.whenDone(launched.execution.id);
  const done = await inst.core.repository.get(launched.execution.id);
  if (done?.status !== "COMPLETED") throw new Error(`${inst.name}: ${done?.status} ${done?.exitMessage}`);
  expect(done.mode).toBe(mode);
  const c = done.counts;
  inst.published += c.monitorPublished + c.updatePublished + c.deletePublished;
  await eventually(
    () =>
      inst.ingest.consumers.reduce((n, q) => n + q.stats().handled + q.stats().deadLettered, 0) >=
      inst.published,
    20_000,
    `${inst.name}'s workers to drain`,
  );
  for (const q of inst.ingest.consumers) expect(q.stats().deadLettered).toBe(0);
  return done;
}

/** The IMRT tables and the project facts, in a form two databases compare by. */
const items = (db: Db) => imrtSnapshot(db);

/** sync_item_event: each project's history of actions and commits, in order. */
async function history(db: Db) {
  const rows = await db.all<Record<string, unknown>>(
    "select project_id, action, commit_hash, commit_date from sync_item_event order by project_id, id",
  );
  return rows.map(
    (r) =>
      `${r.project_id} ${r.action} ${r.commit_hash ?? "-"} ${toDate(r.commit_date)?.toISOString() ?? "-"}`,
  );
}

for (const dialect of DIALECTS) {
  describe(`incremental equals full on ${dialect}`, () => {
    let sim: GitlabSim;
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      sim = startGitlabSim({
        projects: PROJECTS,
        subgroupFraction: 0.2,
        sharedFraction: 0,
        monitoredFraction: 0.7,
        webhookUrl: "https://a.item-sync.test/webhooks/gitlab",
        activityThrottleMs: THROTTLE_MS,
      });
      a = await startInstance("a", sim, dialect);
      b = await startInstance("b", sim, dialect);
    });

    afterAll(async () => {
      for (const inst of [a, b]) {
        if (!inst) continue;
        await inst.lifecycle.shutdown("test done");
        await deleteTopology(inst.amqp.url, inst.amqp);
        await inst.t.drop();
      }
      await sim.close();
    });

    test(
      `random sequences (seed ${SEED}): after each step A's incremental tables equal B's full ones`,
      async () => {
        const random = seededRandom(SEED);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
        const state = sim.state;
        const live = () => state.projects.filter((p) => p.namespaceId !== state.outside.id);
        let pushed: number[] = []; // projects pushed in the previous step
        let pushing: number[] = [];
        let repushed = 0;
        const push = (id: number) => {
          if (!state.project(id)) return;
          if (!state.itemOf(id)) {
            // a project without item.json (the simulator leaves a few): a push all the same
            state.pushCommit(id, { files: { "README.md": `pushed in step ${pushing.length}` } });
            pushing.push(id);
            return;
          }
          // a status change: the incremental and the full run must agree on its date too
          state.setWorkflowStatus(id, pick(WORKFLOW_CODES), { author: `editor-${pushing.length % 3}` });
          pushing.push(id);
        };
        const ops: Record<string, () => void> = {
          push: () => push(pick(live()).id),
          // pushed in the previous step too: within the throttle, last_activity_at predates the
          // previous sync's start, and only the margin makes the incremental scan look at it
          "push again": () => {
            if (pushed.length === 0) return push(pick(live()).id);
            repushed++;
            push(pick(pushed));
          },
          "push readme": () => {
            const id = pick(live()).id;
            state.pushCommit(id, { files: { "README.md": `${random()}` } });
            pushing.push(id);
          },
          rename: () => {
            const p = pick(live());
            state.renameProject(p.id, { name: `${p.name} renamed`, path: `${p.path}-r` });
          },
          "rename name only": () => {
            const p = pick(live());
            state.renameProject(p.id, { name: `${p.name}*` });
          },
          "default branch": () =>
            state.setDefaultBranch(pick(live()).id, `branch-${Math.floor(random() * 3)}`),
          "new project": () => {
            state.addProject({ namespaceId: random() < 0.5 ? state.group.id : state.subgroups[0]?.id });
          },
          remove: () => state.removeProject(pick(live()).id),
          "move out": () => state.moveOut(pick(live()).id),
          "delete hook": () => {
            const p = pick(live());
            const hooks = state.hooksOf(p);
            p.hooks = hooks.filter((h) => h.url !== a.webhookUrl);
          },
        };
        // pushes are what nights are made of, and "push again" is what the margin is for
        const names = [...Object.keys(ops), "push", "push again", "push again"];

        const first = await syncAndDrain(a, "incremental");
        expect(first.counts.unchanged).toBe(0); // no COMPLETED sync before: everything is updated
        await syncAndDrain(b, "full");
        expect(await items(a.core.db)).toEqual(await items(b.core.db));

        let unchanged = 0;
        let hooksSkipped = 0;
        const applied: string[] = [];
        for (let step = 1; step <= STEPS; step++) {
          const n = 1 + Math.floor(random() * 5);
          for (let i = 0; i < n; i++) {
            const name = pick(names);
            ops[name]?.();
            applied.push(`${step}:${name}`);
          }
          [pushed, pushing] = [pushing, []];
          const inc = await syncAndDrain(a, "incremental");
          await syncAndDrain(b, "full");
          unchanged += inc.counts.unchanged;
          hooksSkipped += inc.counts.read - inc.counts.hooksChecked;
          const [itemsA, itemsB] = [await items(a.core.db), await items(b.core.db)];
          if (!Bun.deepEquals(itemsA, itemsB))
            console.error(`seed ${SEED}, steps so far: ${applied.join(", ")}`);
          expect(itemsA).toEqual(itemsB);
          expect(await history(a.core.db)).toEqual(await history(b.core.db));
        }
        // The sequence exercised every kind of change, and the incremental runs did skip work
        // (else this proves nothing).
        const unused = Object.keys(ops).filter((name) => !applied.some((a) => a.endsWith(`:${name}`)));
        expect(unused).toEqual([]);
        expect(repushed).toBeGreaterThanOrEqual(2);
        expect(unchanged).toBeGreaterThan(STEPS * PROJECTS * 0.5);
        expect(hooksSkipped).toBeGreaterThan(STEPS * PROJECTS * 0.5);

        // Hooks deleted by hand come back at the latest with the next full run.
        await syncAndDrain(a, "full");
        const missing = live().filter((p) => !state.hooksOf(p).some((h) => h.url === a.webhookUrl));
        expect(missing.map((p) => p.id)).toEqual([]);
        expect(await items(a.core.db)).toEqual(await items(b.core.db));
      },
      Math.max(120_000, STEPS * 10_000),
    );
  });
}
