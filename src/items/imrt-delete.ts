/**
 * Removing an item from every IMRT table in one transaction (our decision on IMRT-ITEMS.md §4.8 /
 * Q7): stimulus links both ways, then every child table, item_log, item_git and the item row —
 * children first, since no foreign key cascades.
 */
import type { Db } from "../db/client.ts";
import type { ImrtTables } from "./imrt-names.ts";
import { lockStimuli } from "./imrt-write.ts";

/** Deletes the project's item; false when the tables hold none for it. Run inside a transaction. */
export async function deleteImrtItem(tx: Db, tables: ImrtTables, projectId: number): Promise<boolean> {
  const [git] = await tx.all<{ item_key: number }>(
    `select item_key from ${tables.item_git} where project_id = $1`,
    [projectId],
  );
  if (!git) return false;
  const key = Number(git.item_key);
  const [item] = await tx.all<{ id: number; classification: string; associated_stimulus_id: number | null }>(
    `select id, classification, associated_stimulus_id from ${tables.item} where key = $1`,
    [key],
  );
  // the same order as the writers' (imrt-write.ts): no link to this item is added meanwhile
  await lockStimuli(tx, item?.classification === "stim" ? [item.id] : [item?.associated_stimulus_id]);
  await tx.run(`delete from ${tables.stim_link} where item_key = $1 or item_key_stim = $1`, [key]);
  for (const table of [
    tables.item_keyword,
    tables.item_form,
    tables.item_attachment,
    tables.item_content_update_need,
    tables.item_assignment,
    tables.validation_result,
    tables.item_log,
  ]) {
    await tx.run(`delete from ${table} where item_key = $1`, [key]);
  }
  await tx.run(`delete from ${tables.item_git} where project_id = $1`, [projectId]);
  await tx.run(`delete from ${tables.item} where key = $1`, [key]);
  return true;
}
