/**
 * Items put straight into the IMRT tables through the real writer (mapping + writeRevision +
 * sync_project), for tests of what reads them (the API, the dashboard, metrics) without GitLab.
 */
import type { Db } from "../../src/db/client.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { loadStored, writeRevision } from "../../src/items/imrt-write.ts";
import { mapItem } from "../../src/items/mapping/map-item.ts";
import { readItemDocument } from "../../src/items/mapping/read-document.ts";
import { recordIngest } from "../../src/items/projects.ts";

/** A minimal valid item.json of type `type` with item id `id`. */
export function itemText(id: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: String(id),
    type: "mc",
    core: {
      metadata: { subject: "ELA", intendedGrade: "4" },
      en: { prompt: `<p>Item ${id}</p>`, options: [] },
    },
    workflow: { workflowStatusCode: "Draft" },
    ...extra,
  });
}

export async function seedItem(
  db: Db,
  opts: {
    projectId: number;
    projectPath?: string;
    name?: string;
    text?: string;
    commit?: { id: string; date: Date; author: string };
    messageId?: string;
  },
): Promise<number> {
  const tables = imrtTables(db.dialect);
  const reading = readItemDocument(opts.text ?? itemText(300000 + opts.projectId));
  if (!reading.ok) throw new Error(reading.reason);
  const commit = opts.commit ?? {
    id: `c${opts.projectId}`,
    date: new Date("2026-01-01T00:00:00Z"),
    author: "jdoe",
  };
  const head = { id: commit.id, committedDate: commit.date, authorName: commit.author };
  const projectPath = opts.projectPath ?? `imrt/items/item-${opts.projectId}`;
  return db.transaction(async (tx) => {
    const now = new Date();
    const stored = await loadStored(tx, tables, opts.projectId);
    const written = await writeRevision(
      tx,
      tables,
      {
        projectId: opts.projectId,
        groupPath: "imrt/items",
        branch: "main",
        item: reading.item,
        mapped: mapItem(reading.item, { commitDate: commit.date }),
        head,
        newCommits: [head],
        firstCommit: head,
        statusRunStart: { kind: "commit", commit: head },
        beingCreated: false,
        now,
      },
      stored,
    );
    if (written.kind === "id-taken") throw new Error(written.reason);
    await recordIngest(
      tx,
      {
        projectId: opts.projectId,
        projectPath,
        name: opts.name ?? `item-${opts.projectId}`,
        defaultBranch: "main",
      },
      { state: "ingested", head: { hash: commit.id, date: commit.date }, headItemJson: null, problem: null },
      { jobExecutionId: null, messageId: opts.messageId ?? null },
      now,
    );
    return written.key;
  });
}
