/**
 * What an operator sees when something around item-sync is wrong, through the compiled binary:
 * each mistake ends with exit 2 and one message that names the variable and says what to do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_TOKEN,
  amqpUrl,
  brokerNames,
  deleteBrokerNames,
  freePort,
  type RunningProcess,
  startBinary,
} from "../helpers/binary.ts";

describe("a port in use", () => {
  let dir: string;
  const names = brokerNames("port");
  const procs: RunningProcess[] = [];
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "item-sync-port-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "a.db")}`,
      GITLAB_URL: "http://127.0.0.1:9",
      GITLAB_TOKEN: "glpat-port-test-token",
      GITLAB_GROUP: "items",
      WEBHOOK_URL: "https://item-sync.test/webhooks/gitlab",
      AMQP_URL: amqpUrl(),
      API_TOKENS: API_TOKEN,
      INGEST_ENABLED: "false",
      ...names,
    };
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    await deleteBrokerNames(names);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a second serve or worker on the same PORT exits 2 naming PORT instead of sharing it", async () => {
    const port = String(freePort());
    const first = await startBinary(["serve"], { ...env, PORT: port });
    procs.push(first);
    // a second serve on another database: with a shared port, GET /jobs would alternate between them
    const second = await startBinary(
      ["serve"],
      { ...env, PORT: port, DATABASE_URL: `sqlite:${join(dir, "b.db")}` },
      { waitForHttp: false },
    );
    procs.push(second);
    expect(await second.exited).toBe(2);
    expect(second.logs()).toContain(`PORT: 127.0.0.1:${port} is already in use`);
    expect(second.logs()).not.toContain("    at ");

    const worker = await startBinary(["worker"], { ...env, PORT: port }, { waitForHttp: false });
    procs.push(worker);
    expect(await worker.exited).toBe(2);
    expect(worker.logs()).toContain(`PORT: 127.0.0.1:${port} is already in use`);

    expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
  }, 60_000);
});

describe("variables that look like ours", () => {
  test("a misspelt variable gets a warning naming the one it probably meant", async () => {
    const dir = mkdtempSync(join(tmpdir(), "item-sync-typo-"));
    try {
      const p = await startBinary(
        ["migrate"],
        { DATABASE_URL: `sqlite:${join(dir, "t.db")}`, SYNC_CRONN: "0 3 * * *" },
        { waitForHttp: false },
      );
      expect(await p.exited).toBe(0);
      expect(p.logs()).toContain("SYNC_CRONN is not a variable item-sync reads: did you mean SYNC_CRON?");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
