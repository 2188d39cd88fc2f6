/**
 * Sharing the replaced service's database (DATABASE_SCHEMA), with the compiled binary, real
 * Postgres, RabbitMQ and the simulator: the database already holds an `imrt` schema with Spring
 * Batch 4's batch_* tables and item/item_log tables of other columns, and it is the database's
 * default search_path — so without the schema, our migrations would collide with them. With
 * DATABASE_SCHEMA=item_sync, `item-sync migrate` creates the schema and everything of ours in it,
 * a full sync runs, and a dump of `imrt` afterwards is byte-for-byte the dump from before.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import {
  API_TOKEN,
  amqpUrl,
  api,
  brokerNames,
  deleteBrokerNames,
  type RunningProcess,
  startBinary,
  waitFor,
} from "../helpers/binary.ts";
import { pgAdminUrl } from "../helpers/db.ts";
import { type GitlabSim, startGitlabSim } from "../sim/gitlab.ts";

const PROJECTS = 150;
const FIXTURE = join(import.meta.dir, "../fixtures/imrt-spring-batch4.sql");
const PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump";

let sim: GitlabSim;
let serve: RunningProcess | undefined;
let url: string;
let name: string;
const names = brokerNames("shared");

beforeAll(async () => {
  sim = startGitlabSim({ projects: PROJECTS, subgroupFraction: 0, sharedFraction: 0 });
  name = `shared_${Date.now().toString(36)}`;
  const admin = postgres(pgAdminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.unsafe(`alter database ${name} set search_path = imrt, public`);
  await admin.end();
  const u = new URL(pgAdminUrl());
  u.pathname = `/${name}`;
  url = u.toString();
  const db = postgres(url, { max: 1, onnotice: () => {} });
  await db.file(FIXTURE);
  await db.end();
});

afterAll(async () => {
  await serve?.kill("SIGKILL");
  await sim.close();
  await deleteBrokerNames(names);
  const admin = postgres(pgAdminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

function dumpImrt(): string {
  // a fixed \restrict key: pg_dump otherwise draws a random one into every dump
  const out = Bun.spawnSync([PG_DUMP, "--schema=imrt", "--no-owner", "--restrict-key=itemsync", "-d", url]);
  if (out.exitCode !== 0) throw new Error(`pg_dump failed: ${out.stderr.toString()}`);
  return out.stdout.toString();
}

test("DATABASE_SCHEMA=item_sync: migrate and a full sync beside Spring Batch 4's imrt tables leave them byte-for-byte untouched", async () => {
  const before = dumpImrt();
  expect(before).toContain("CREATE TABLE imrt.batch_job_instance");
  expect(before).toContain("CREATE TABLE imrt.item ");

  const env = {
    DATABASE_URL: url,
    DATABASE_SCHEMA: "item_sync",
    GITLAB_URL: sim.url,
    GITLAB_TOKEN: sim.token,
    GITLAB_GROUP: sim.group,
    WEBHOOK_URL: "https://item-sync.test/webhooks/gitlab",
    WEBHOOK_SECRET: "shared-db-webhook-secret-0123",
    AMQP_URL: amqpUrl(),
    API_TOKENS: API_TOKEN,
    ...names,
  };
  const migrate = await startBinary(["migrate"], env, { waitForHttp: false });
  expect(await migrate.exited).toBe(0);

  serve = await startBinary(["serve"], env);
  const call = api(serve.url);
  const launched = await call("POST", "/sync");
  expect(launched.status).toBe(202);
  const done = await waitFor("the sync to end", async () => {
    const r = await call("GET", `/jobs/${launched.body.id}`);
    return ["COMPLETED", "FAILED", "STOPPED"].includes(r.body.status as string) && r.body;
  });
  expect(done.status).toBe("COMPLETED");
  expect(done.counts).toMatchObject({ read: PROJECTS, updatePublished: PROJECTS });

  const db = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await waitFor("every item written", async () => {
      const [row] = await db`select count(*)::int as n from item_sync.item`;
      return row?.n === PROJECTS;
    });
    // ours: only in item_sync (bookkeeping included); nothing new in public, no drizzle schema
    const tables = await db`select table_schema, table_name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`;
    const bySchema = new Map<string, string[]>();
    for (const t of tables)
      bySchema.set(t.table_schema, [...(bySchema.get(t.table_schema) ?? []), t.table_name]);
    expect([...bySchema.keys()].sort()).toEqual(["imrt", "item_sync"]);
    expect(bySchema.get("item_sync")).toContain("__drizzle_migrations");
    expect(bySchema.get("item_sync")).toContain("batch_job_execution");
    const [ours] = await db`select count(*)::int as n from item_sync.batch_job_execution`;
    expect(ours?.n).toBe(1);
  } finally {
    await db.end();
  }

  expect(await serve.kill("SIGTERM")).toBe(0);
  serve = undefined;
  expect(dumpImrt()).toBe(before);
}, 120_000);
