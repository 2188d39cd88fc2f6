/**
 * The demo (`npm run demo`): builds the binary, starts a private RabbitMQ, the GitLab simulator
 * seeded with 300 items (some already monitored), and `item-sync serve` on SQLite; triggers a
 * sync with the bearer token, shows its progress, waits for the ingest workers to handle every
 * update-item, prints a summary ending with the IMRT rows written (items by type and workflow
 * status, read from the SQLite file itself), and shuts everything down — or, with `--keep`,
 * leaves the stack up and prints the dashboard URL, a token and the variables to reuse until
 * Ctrl-C.
 */

import { Database } from "bun:sqlite";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { $ } from "bun";

const root = join(import.meta.dir, "..");
const work = join(root, ".tmp/demo");
const TOKEN = "demo-token-0123456789abcdef";
const PROJECTS = 300;
const children: ReturnType<typeof Bun.spawn>[] = [];
const KEEP = process.argv.includes("--keep");
const unknown = process.argv.slice(2).filter((a) => a !== "--keep" && a !== "--");
if (unknown.length > 0) {
  console.error(`demo: unknown argument ${unknown.join(" ")} (usage: npm run demo [-- --keep])`);
  process.exit(2);
}

const say = (line: string) => console.log(`demo: ${line}`);

async function freePort(): Promise<number> {
  return Number((await $`${root}/scripts/rabbitmq.sh free-port`.text()).trim());
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}

async function main() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  say("building dist/item-sync …");
  await $`bun run build`.cwd(root).quiet();

  const amqpPort = await freePort();
  say(`starting a private RabbitMQ on port ${amqpPort} …`);
  await $`${root}/scripts/rabbitmq.sh start ${join(work, "rabbitmq")} ${amqpPort}`;

  const simPort = await freePort();
  const webhookUrl = "https://item-sync.demo/webhooks/gitlab"; // only compared by the simulator
  const sim = Bun.spawn(
    [
      "bun",
      "test/sim/gitlab.ts",
      "--projects",
      String(PROJECTS),
      "--port",
      String(simPort),
      "--latency-ms",
      "5",
      "--monitored-fraction",
      "0.6",
      "--webhook-url",
      webhookUrl,
      "--subgroup-fraction",
      "0",
      "--shared-fraction",
      "0",
    ],
    { cwd: root, stdout: "pipe", stderr: "inherit" },
  );
  children.push(sim);
  // the simulator prints one JSON line once it listens
  const reader = (sim.stdout as ReadableStream<Uint8Array>).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the GitLab simulator exited before listening");
    first += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  say(`GitLab simulator with ${PROJECTS} items on port ${simPort} (60% already monitored)`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serviceEnv = {
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: `sqlite:${join(work, "item-sync.db")}`,
    GITLAB_URL: `http://127.0.0.1:${simPort}`,
    GITLAB_TOKEN: "sim-token",
    GITLAB_GROUP: "imrt/items",
    WEBHOOK_URL: webhookUrl,
    WEBHOOK_SECRET: "demo-webhook-secret-0123456789",
    AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    API_TOKENS: TOKEN,
    SYNC_CRON: "off",
    LOG_LEVEL: "info",
  };
  const serve = Bun.spawn([join(root, "dist/item-sync"), "serve"], {
    env: { PATH: process.env.PATH ?? "", ...serviceEnv },
    stdout: "inherit",
    stderr: Bun.file(join(work, "serve.log")),
  });
  children.push(serve);
  await waitFor("item-sync to be ready", async () => (await fetch(`${base}/health/ready`)).ok, 30_000);
  say(`item-sync serve is ready on ${base} (SQLite at .tmp/demo/item-sync.db)`);

  const auth = { authorization: `Bearer ${TOKEN}` };
  say(`POST /sync  (curl -X POST -H "Authorization: Bearer …" ${base}/sync)`);
  const launched = await fetch(`${base}/sync`, { method: "POST", headers: auth });
  const execution = (await launched.json()) as { id: number; status: string };
  say(
    `${launched.status} ${launched.headers.get("location")} — execution ${execution.id} ${execution.status}`,
  );

  type Counts = { read: number; hooksChecked: number; monitorPublished: number; updatePublished: number };
  type Exec = { status: string; counts: Counts; exitMessage: string };
  const final = await waitFor(
    "the execution to end",
    async () => {
      const e = (await (await fetch(`${base}/jobs/${execution.id}`, { headers: auth })).json()) as Exec;
      const c = e.counts;
      say(
        `  ${e.status.padEnd(9)} read ${c.read}/${PROJECTS}  hooks checked ${c.hooksChecked}  monitor ${c.monitorPublished}  update ${c.updatePublished}`,
      );
      return ["COMPLETED", "FAILED", "STOPPED", "ABANDONED"].includes(e.status) && e;
    },
    120_000,
  );

  const metric = async (name: string) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return text
      .split("\n")
      .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  };
  say("waiting for the ingest workers to handle every update-item …");
  // every outcome counts (created, unchanged, no item.json, quarantined …): the queue is drained
  const handled = await waitFor(
    "every update-item handled",
    async () => {
      const n = await metric("item_sync_ingest_items_total");
      return n >= final.counts.updatePublished && n;
    },
    180_000,
  );
  const hooksCreated = await waitFor(
    "every hook",
    async () => {
      const n = await metric("item_sync_ingest_hooks_created_total");
      return n >= final.counts.monitorPublished && n;
    },
    60_000,
  );

  console.log("");
  say("summary");
  say(`  execution ${execution.id}: ${final.status}${final.exitMessage ? ` (${final.exitMessage})` : ""}`);
  say(`  counts: ${JSON.stringify(final.counts)}`);
  say(`  hooks created: ${hooksCreated}; update-items handled: ${handled}`);
  summarizeImrt(join(work, "item-sync.db"));
  // The service's whole log, checked for every secret it was given.
  const logText = await Bun.file(join(work, "serve.log")).text();
  const secrets = {
    "API token": TOKEN,
    "GitLab token": "sim-token",
    "webhook secret": "demo-webhook-secret",
  };
  const leaked = Object.entries(secrets).filter(([, value]) => logText.includes(value));
  say(
    `  service log: ${logText.split("\n").filter(Boolean).length} JSON lines in .tmp/demo/serve.log; ${
      leaked.length ? `SECRETS FOUND: ${leaked.map(([name]) => name).join(", ")}` : "no secret in it"
    }`,
  );
  if (leaked.length) throw new Error("the service log contains a secret");
  if (final.status !== "COMPLETED") throw new Error(`the sync ended ${final.status}`);
  if (KEEP) {
    const page = (await (await fetch(`${base}/items?limit=1`, { headers: auth })).json()) as {
      items: { projectId: number }[];
    };
    await keepRunning(base, serviceEnv, page.items[0]?.projectId ?? 1);
  }
}

/** The IMRT rows the workers wrote, read from the SQLite file as the search service would. */
function summarizeImrt(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    const count = (sql: string) => Number((db.query(sql).get() as { n: number }).n);
    say(
      `  IMRT tables: ${count("select count(*) as n from item")} items, ${count("select count(*) as n from item_log")} item_log rows, ${count("select count(*) as n from item_keyword")} keywords, ${count("select count(*) as n from stim_link")} stimulus links`,
    );
    const rows = db
      .query(
        "select item_type, workflow_status, count(*) as n from item group by item_type, workflow_status order by item_type, workflow_status",
      )
      .all() as { item_type: string; workflow_status: string; n: number }[];
    const statuses = [...new Set(rows.map((r) => r.workflow_status))].sort();
    const types = [...new Set(rows.map((r) => r.item_type))].sort();
    const cell = (t: string, st: string) =>
      String(rows.find((r) => r.item_type === t && r.workflow_status === st)?.n ?? "·");
    const width = Math.max(...statuses.map((st) => st.length));
    say("  items by workflow status (rows) and type (columns):");
    say(`    ${"".padEnd(width)}${types.map((t) => t.padStart(6)).join("")}   total`);
    for (const st of statuses) {
      const total = rows.filter((r) => r.workflow_status === st).reduce((sum, r) => sum + Number(r.n), 0);
      say(
        `    ${st.padEnd(width)}${types.map((t) => cell(t, st).padStart(6)).join("")}${String(total).padStart(8)}`,
      );
    }
    const problems = count("select count(*) as n from sync_project where ingest_state = 'quarantined'");
    say(`  quarantined (item.json not readable as an item): ${problems}`);
  } finally {
    db.close();
  }
}

/** --keep: the stack stays up until Ctrl-C, with what it takes to use it. */
async function keepRunning(base: string, env: Record<string, string>, projectId: number) {
  console.log("");
  say("--keep: the stack stays up; Ctrl-C stops it");
  say(`  dashboard: ${base}/  (sign in with the token below)`);
  say(`  token:     ${TOKEN}`);
  say("  the service's variables, to run the CLI against the same stack from another shell:");
  const { HOST: _host, PORT: _port, ...reusable } = env;
  for (const [name, value] of Object.entries(reusable)) say(`    export ${name}='${value}'`);
  say(`    ${join(root, "dist/item-sync")} sync --project ${projectId}   # one item now, then:`);
  say(`    curl -H 'Authorization: Bearer ${TOKEN}' ${base}/items/${projectId}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}
async function shutdown() {
  say("shutting down …");
  for (const child of children.reverse()) {
    child.kill("SIGTERM");
    await child.exited;
  }
  await $`${root}/scripts/rabbitmq.sh stop ${join(work, "rabbitmq")}`.nothrow().quiet();
}

let code = 0;
try {
  await main();
} catch (err) {
  console.error(`demo: failed: ${(err as Error).message}`);
  code = 1;
} finally {
  await shutdown();
}
say(code === 0 ? "done" : "failed");
process.exit(code);
