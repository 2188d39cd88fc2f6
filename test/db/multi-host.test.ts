/**
 * A multi-host DATABASE_URL against a real primary and hot standby: with
 * `target_session_attrs=read-write` the writable host is used even when the standby is listed
 * first. (postgres.js alone takes a hot standby of Postgres ≥ 14 for read-write, and every write
 * then fails with 25006; see src/db/client.ts.)
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openDb } from "../../src/db/client.ts";
import { type PostgresPair, startPostgresPair } from "../reliability/lib/pg-ha.ts";

let pair: PostgresPair;
beforeAll(async () => {
  pair = await startPostgresPair();
}, 60_000);
afterAll(() => pair.destroy());

test("target_session_attrs=read-write connects to the primary even when the standby comes first", async () => {
  const { primary, standby } = pair.ports;
  const db = openDb(
    `postgres://postgres@127.0.0.1:${standby},127.0.0.1:${primary}/postgres?target_session_attrs=read-write`,
  );
  try {
    const [row] = await db.all<{ port: string; recovery: boolean }>(
      "select current_setting('port') as port, pg_is_in_recovery() as recovery",
    );
    expect(row).toEqual({ port: String(primary), recovery: false });
    await db.run("create table if not exists multi_host_probe (id int)");
    expect(await db.run("insert into multi_host_probe values (1)")).toBe(1);
  } finally {
    await db.close();
  }
});
