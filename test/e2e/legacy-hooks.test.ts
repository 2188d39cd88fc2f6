/**
 * Switching over from the replaced service at scale, with the compiled binary, real RabbitMQ,
 * SQLite and the simulator: 1,500 projects, 30 % of them carrying the old service's hook (some
 * next to ours). One sync later every project has exactly one hook — ours, with our secret —
 * the legacy hooks kept their ids (edited in place), and the execution counts each adoption.
 * The operator's view of that run: the "execution started" line names job, step, parameters and
 * the host running it, and `item-sync jobs show` gives the same host as `runner`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import {
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  serviceEnv,
  startBinary,
  TEST_WEBHOOK_URL,
  waitFor,
  waitForExecution,
} from "../helpers/binary.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";
import { LEGACY_HOOK_URL } from "../sim/gitlab-state.ts";

const WEBHOOK_URL = TEST_WEBHOOK_URL;
const SECRET = "legacy-e2e-webhook-secret";
const PROJECTS = 1500;

let sim: GitlabSim;
let dir: string;
let serve: RunningProcess | undefined;
const names = brokerNames("legacy");

beforeAll(() => {
  sim = startGitlabSim({
    projects: PROJECTS,
    legacyHookFraction: 0.3,
    legacyHookUrl: LEGACY_HOOK_URL,
    monitoredFraction: 0.2,
    otherHookFraction: 0,
    subgroupFraction: 0,
    sharedFraction: 0,
    webhookUrl: WEBHOOK_URL,
  });
  dir = mkdtempSync(join(tmpdir(), "item-sync-legacy-"));
});

afterAll(async () => {
  await serve?.kill("SIGKILL");
  await sim.close();
  await deleteBrokerNames(names);
  rmSync(dir, { recursive: true, force: true });
});

test("30 % of 1,500 projects legacy-hooked: after one sync every project has exactly one hook, ours, and each adoption is counted", async () => {
  const state = sim.state;
  const hooksOf = (id: number) => state.hooksOf(state.project(id)!);
  const ids = state.projects.map((p) => p.id);
  const legacyIds = new Map<number, number>(); // project → its legacy hook's id
  const withOurs = new Set<number>();
  for (const id of ids) {
    for (const h of hooksOf(id)) {
      if (h.url === LEGACY_HOOK_URL) legacyIds.set(id, h.id);
      if (h.url === WEBHOOK_URL) withOurs.add(id);
    }
  }
  const adoptable = [...legacyIds.keys()].filter((id) => !withOurs.has(id));
  expect(legacyIds.size).toBeGreaterThan(PROJECTS * 0.25);
  expect(legacyIds.size).toBeLessThan(PROJECTS * 0.35);
  expect(adoptable.length).toBeLessThan(legacyIds.size); // some have both: their legacy one goes
  const unmonitored = ids.filter((id) => !withOurs.has(id) || legacyIds.has(id)).length;

  serve = await startBinary(
    ["serve"],
    serviceEnv(sim, names, {
      DATABASE_URL: `sqlite:${join(dir, "legacy.db")}`,
      GITLAB_CONCURRENCY: "16",
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_LEGACY_URLS: `https://unused.example.org/hook,${LEGACY_HOOK_URL}`,
    }),
  );
  const call = api(serve.url);
  const launched = await call("POST", "/sync");
  expect(launched.status).toBe(202);
  const id = launched.body.id as number;
  const done = await waitForExecution(call, id, { timeoutMs: 60_000 });
  expect(done.status).toBe("COMPLETED");
  expect(done.counts).toMatchObject({ read: PROJECTS, monitorPublished: unmonitored });

  await waitFor(
    "every project to have exactly one hook, ours",
    async () => ids.every((pid) => hooksOf(pid).length === 1 && hooksOf(pid)[0]?.url === WEBHOOK_URL),
    60_000,
  );
  for (const pid of ids) {
    const [hook] = hooksOf(pid);
    expect(hook).toMatchObject({ url: WEBHOOK_URL, pushEvents: true, enableSslVerification: true });
    if (!withOurs.has(pid)) expect(hook?.token).toBe(SECRET);
  }
  for (const pid of adoptable) expect(hooksOf(pid)[0]?.id).toBe(legacyIds.get(pid)!); // edited, not re-created

  const counted = await waitFor("every adoption counted", async () => {
    const r = await call("GET", `/jobs/${id}`);
    const c = r.body.counts as { hooksAdopted: number };
    return c.hooksAdopted >= adoptable.length && c;
  });
  expect(counted.hooksAdopted).toBe(adoptable.length);
  const metrics = await fetch(`${serve.url}/metrics`).then((r) => r.text());
  expect(metrics).toContain(`item_sync_ingest_hooks_adopted_total ${adoptable.length}\n`);

  expect(await serve.kill("SIGTERM")).toBe(0);
  expect(serve.logs()).not.toContain(SECRET);
  const started = serve
    .logs()
    .split("\n")
    .filter((l) => l.includes('"execution started"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(started).toHaveLength(1);
  expect(started[0]).toMatchObject({
    executionId: id,
    job: "itemSynchronizationJob",
    step: "itemSynchronizationStep",
    runner: hostname(),
  });
  expect(Object.keys(started[0]?.parameters as object)).toContain("run.id");
  serve = undefined;

  const show = await startBinary(
    ["jobs", "show", String(id)],
    { DATABASE_URL: `sqlite:${join(dir, "legacy.db")}` },
    { waitForHttp: false },
  );
  expect(await show.exited).toBe(0);
  const shown = JSON.parse(show.logs()) as Record<string, unknown>;
  expect(shown).toMatchObject({ id, runner: hostname(), counts: { hooksAdopted: adoptable.length } });
}, 120_000);
