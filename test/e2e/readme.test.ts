/**
 * The README's *Running it by hand* block, run as written by bash: the GitLab simulator, the
 * exports, `serve` in the background, the curl that launches a sync, `jobs list` — then
 * `jobs list --json` until the execution is COMPLETED, having read the 500 projects the text
 * promises. Only what would collide with other tests on this machine changes: the ports (8081,
 * 8080) become free ones (serve's through PORT, which the block leaves to its default), the
 * AMQP_URL becomes the test broker (a private node), the exchange and queue names are the test's
 * own (inherited variables the block does not set), and the block
 * runs in a folder of its own (its ./item-sync.db) that links to dist/ and test/.
 *
 * The block is found by its heading, "Running it by hand", at whatever level and wherever the
 * README puts it: keep that heading's text as it is when the README is reorganised (or change
 * it here too), and keep the block the first ```sh block under it.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { amqpUrl, brokerNames, deleteBrokerNames, freePort, requireBinary } from "./../helpers/binary.ts";

const root = join(import.meta.dir, "../..");
const HEADING = /^#{1,6} Running it by hand\s*$/m;

/** The first ```sh block under the heading. */
async function readmeBlock(): Promise<string> {
  const readme = await Bun.file(join(root, "README.md")).text();
  const heading = HEADING.exec(readme);
  if (!heading) throw new Error('README.md has no "Running it by hand" heading (see this file\'s header)');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(heading.index));
  if (!block?.[1]) throw new Error('no ```sh block under "Running it by hand"');
  return block[1];
}

/** `text` with `from` replaced by `to`, which must occur: a README that moved on fails here. */
function replaced(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.split(from).join(to);
}

const names = brokerNames("readme");
const dir = mkdtempSync(join(tmpdir(), "item-sync-readme-"));
afterAll(async () => {
  await deleteBrokerNames(names);
  rmSync(dir, { recursive: true, force: true });
});

test("README 'Running it by hand', run as written, completes a sync of the 500 projects it promises", async () => {
  requireBinary();
  let block = await readmeBlock();
  const simPort = String(freePort());
  const servePort = String(freePort());
  block = replaced(block, "amqp://guest:guest@127.0.0.1:5672", amqpUrl());
  block = replaced(block, "8081", simPort);
  block = replaced(block, "8080", servePort);
  symlinkSync(join(root, "dist"), join(dir, "dist"));
  symlinkSync(join(root, "test"), join(dir, "test"));

  // After the block: follow the sync as the reader would (jobs list, until COMPLETED), then
  // a CLI command that uses the broker, whose output must carry no set-up log lines.
  const script = [
    "set -euo pipefail",
    // the background processes the block starts end with the script
    "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT",
    block,
    'echo "=== block done"',
    "for _ in $(seq 1 180); do",
    // not grep -q: it would stop reading early, and pipefail would count the writer's SIGPIPE
    '  if dist/item-sync jobs list --json | grep \'"status": "COMPLETED"\' >/dev/null; then break; fi',
    "  sleep 1",
    "done",
    // into files: serve, in the background, writes its log lines to the same stdout
    "dist/item-sync jobs list --json > jobs.json",
    'dist/item-sync sync --project "$(curl -sS -H "PRIVATE-TOKEN: $GITLAB_TOKEN" "$GITLAB_URL/api/v4/groups/imrt%2Fitems/projects?per_page=1" | grep -o \'"id":[0-9]*\' | head -n 1 | cut -d: -f2)" > project.out 2>&1',
  ].join("\n");
  const proc = Bun.spawn(["bash", "-c", script], {
    cwd: dir,
    env: {
      // bun where the reader has it (scripts/ensure-bun.sh puts it on the PATH)
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME ?? dir,
      // serve's port: 8080 unless PORT says otherwise, and the block leaves it to the default
      PORT: servePort,
      ...names,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const all = `${out}\n${err}`;
  expect({ code, tail: code === 0 ? "" : all.slice(-4000) }).toEqual({ code: 0, tail: "" });

  // the block's curl got 202 with the execution (curl adds no newline: read its id only)
  const launched = { id: Number(/\{"id":(\d+),"jobInstanceId"/.exec(out)?.[1]) };
  expect(launched.id).toBeGreaterThan(0);
  const { jobs } = (await Bun.file(join(dir, "jobs.json")).json()) as {
    jobs: { id: number; status: string; counts: { read: number } }[];
  };
  const execution = jobs.find((j) => j.id === launched.id);
  expect(execution?.status).toBe("COMPLETED");
  expect(execution?.counts.read).toBe(500);
  // the simulator said what it serves: all 500 in the group itself
  expect(err).toContain("500 projects: 500 in imrt/items itself");

  // serve announces its broker set-up; a one-shot CLI command does not
  expect(all).toContain("broker topology declared");
  const cli = await Bun.file(join(dir, "project.out")).text();
  expect(cli).toContain("published");
  expect(cli).not.toContain("broker topology declared");
}, 240_000);
