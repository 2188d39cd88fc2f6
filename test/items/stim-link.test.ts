/**
 * Our stim_link rule (IMRT-ITEMS.md Q2: one link iff `associated_stimulus_id` names an existing
 * stim item) holds when the item and its stimulus are written at the same moment by two workers:
 * each transaction would otherwise miss the other's uncommitted row and neither would link.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Db, openDb } from "../../src/db/client.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { loadStored, writeRevision } from "../../src/items/imrt-write.ts";
import { mapItem } from "../../src/items/mapping/map-item.ts";
import { readItemDocument } from "../../src/items/mapping/read-document.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const tables = imrtTables("pg");

function revision(projectId: number, doc: Record<string, unknown>) {
  const reading = readItemDocument(JSON.stringify(doc));
  if (!reading.ok) throw new Error(reading.reason);
  const head = { id: `c${projectId}`, committedDate: new Date("2020-01-01T00:00:00Z"), authorName: "a" };
  return {
    projectId,
    groupPath: "g",
    branch: "main",
    item: reading.item,
    mapped: mapItem(reading.item, { commitDate: head.committedDate }),
    head,
    newCommits: [head],
    firstCommit: head,
    statusRunStart: { kind: "commit" as const, commit: head },
    beingCreated: false,
    now: new Date(),
  };
}

/** Writes a revision; with `hold`, the transaction tells when it has written, then stays open until released. */
function write(
  db: Db,
  rev: ReturnType<typeof revision>,
  hold?: { written(): void; released: Promise<void> },
) {
  return db.transaction(async (tx) => {
    const result = await writeRevision(tx, tables, rev, await loadStored(tx, tables, rev.projectId));
    hold?.written();
    await hold?.released;
    return result;
  });
}

/** A transaction held open after its statements: `written` resolves then, `release()` lets it commit. */
function holdOpen() {
  let release = () => {};
  let written = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const wrote = new Promise<void>((r) => {
    written = r;
  });
  return { hold: { written, released }, wrote, release };
}

describe("stim_link with an item and its stimulus written at once (Postgres)", () => {
  let t: TestDatabase;
  let other: Db;
  beforeAll(async () => {
    t = await createTestDatabase("pg");
    other = openDb(t.url);
  });
  afterAll(async () => {
    await other.close();
    await t.drop();
  });

  test("the item's transaction still open while the stimulus is written: the link exists after both commit", async () => {
    const { hold, wrote, release } = holdOpen();
    const item = write(t.db, revision(1, { id: "9001", type: "mc", core: { stimulusId: "9000" } }), hold);
    await wrote; // the item's transaction has run its statements and waits to commit
    const stim = write(other, revision(2, { id: "9000", type: "stim" }));
    await Bun.sleep(200); // the stimulus's transaction runs meanwhile (without the lock it would commit)
    release();
    await Promise.all([item, stim]);
    const links = await t.db.all<{ item: number; stim: number }>(
      `select i.id as item, s.id as stim from ${tables.stim_link} l
       join ${tables.item} i on i.key = l.item_key join ${tables.item} s on s.key = l.item_key_stim`,
    );
    expect(links).toEqual([{ item: 9001, stim: 9000 }]);
  });

  test("the stimulus's transaction still open while the item is written: the link exists too", async () => {
    const { hold, wrote, release } = holdOpen();
    const stim = write(t.db, revision(4, { id: "9100", type: "stim" }), hold);
    await wrote;
    const item = write(other, revision(3, { id: "9101", type: "ms", core: { stimulusId: 9100 } }));
    await Bun.sleep(200);
    release();
    await Promise.all([stim, item]);
    const links = await t.db.all<{ item: number }>(
      `select i.id as item from ${tables.stim_link} l join ${tables.item} i on i.key = l.item_key
       join ${tables.item} s on s.key = l.item_key_stim where s.id = 9100`,
    );
    expect(links).toEqual([{ item: 9101 }]);
  });
});

/** The links, as (item id → stimulus id) pairs of the rows' own ids. */
async function linkPairs(db: Db) {
  return db.all<{ item: number; stim: number }>(
    `select i.id as item, s.id as stim from ${tables.stim_link} l
     join ${tables.item} i on i.key = l.item_key join ${tables.item} s on s.key = l.item_key_stim
     order by i.id`,
  );
}

describe("stim_link follows the rows' kept classification and id (§3.3 #2, #14; Q2)", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("pg");
  });
  afterAll(() => t.drop());

  test("an item whose type becomes stim stays an item: its link goes with its stimulus id", async () => {
    await write(t.db, revision(11, { id: "100", type: "stim" }));
    await write(t.db, revision(12, { id: "200", type: "mc", core: { stimulusId: "100" } }));
    expect(await linkPairs(t.db)).toEqual([{ item: 200, stim: 100 }]);
    // project 12 now says it is a stimulus: its row keeps classification 'item', and a stim
    // document names no stimulus, so the row has no link (and stimulus 100 counts no item)
    await write(t.db, revision(12, { id: "200", type: "stim" }));
    const [row] = await t.db.all<{ classification: string; associated_stimulus_id: number | null }>(
      `select classification, associated_stimulus_id from ${tables.item} where id = 200`,
    );
    expect(row).toEqual({ classification: "item", associated_stimulus_id: null });
    expect(await linkPairs(t.db)).toEqual([]);
  });

  test("a stimulus whose item.json names another id keeps its row's id: items naming the new id are not linked to it", async () => {
    await write(t.db, revision(21, { id: "400", type: "stim" }));
    await write(t.db, revision(21, { id: "401", type: "stim" })); // the row keeps id 400
    await write(t.db, revision(22, { id: "500", type: "mc", core: { stimulusId: "401" } }));
    await write(t.db, revision(23, { id: "600", type: "mc", core: { stimulusId: "400" } }));
    // the stimulus written again: it links the items naming its row's id, 400, only
    await write(t.db, revision(21, { id: "401", type: "stim" }));
    const pairs = (await linkPairs(t.db)).filter((p) => p.stim === 400);
    expect(pairs).toEqual([{ item: 600, stim: 400 }]);
  });
});
