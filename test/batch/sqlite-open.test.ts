/**
 * Opening a SQLite file another process holds locked (replicas starting together, one of them
 * migrating) waits for the lock instead of failing SQLITE_BUSY: the busy timeout is set before
 * any statement that needs a lock, journal_mode included.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../src/db/client.ts";

const dir = mkdtempSync(join(tmpdir(), "item-sync-sqlite-open-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a fresh file locked by another process: the open waits for the lock, then works", async () => {
  const file = join(dir, "busy.db");
  // another process creates the file and holds an exclusive lock for a while (no WAL yet)
  const holder = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const { Database } = require("bun:sqlite");
       const db = new Database(${JSON.stringify(file)}, { create: true });
       db.exec("create table t (x integer)");
       db.exec("begin exclusive");
       db.exec("insert into t values (1)");
       console.log("locked");
       setTimeout(() => { db.exec("commit"); db.close(); }, 1000);`,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const reader = (holder.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("locked");

  const db = openDb(`sqlite:${file}`);
  try {
    expect(await db.all("select x from t")).toEqual([{ x: 1 }]);
  } finally {
    await db.close();
    await holder.exited;
  }
}, 20_000);
