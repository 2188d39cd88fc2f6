/**
 * scripts/rabbitmq.sh run from a working directory the rabbitmq user cannot enter — a checkout
 * under /root, or a clone in a mkdtemp directory (0700) — as the tests and the cluster scenario
 * run it. rabbitmqctl then stopped with `{erl_prim_loader,file_error} ... eacces ...
 * start_clean.boot`, which the cluster scenario read as "the queue has no leader".
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../scripts/rabbitmq.sh");
const closed = mkdtempSync(join(tmpdir(), "item-sync-closed-cwd-"));
const nodeDir = mkdtempSync(join(tmpdir(), "item-sync-rmq-"));

afterAll(async () => {
  await run("stop", nodeDir).catch(() => {});
  rmSync(nodeDir, { recursive: true, force: true });
  rmSync(closed, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  const proc = Bun.spawn(["bash", SCRIPT, ...args], { cwd: closed, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`rabbitmq.sh ${args.join(" ")} exited ${code}: ${out}${err}`);
  return out;
}

test("rabbitmq.sh starts a node, answers rabbitmqctl as JSON and stops it from a directory only its owner can enter", async () => {
  expect(statSync(closed).mode & 0o077).toBe(0); // what mkdtemp makes: no access for the rabbitmq user
  const port = (await run("free-port")).trim();
  await run("start", nodeDir, port);
  const out = await run("ctl", nodeDir, "list_queues", "-q", "--formatter", "json", "name");
  expect(JSON.parse(out)).toEqual([]);
  await run("stop", nodeDir);
}, 120_000);
