/**
 * What the IMRT tables (and item-sync's project facts) say, in a form two databases can be compared
 * by: every row of every table, surrogate keys replaced by the item ids they stand for, dates as
 * ISO text, booleans as booleans, child rows in their key order within each item. Row write times
 * (`created_at`, `updated_at`) differ between any two runs and are left out.
 */
import { type Db, toDate } from "../../src/db/client.ts";
import { imrtTables } from "../../src/items/imrt-names.ts";
import { IMRT_TABLES } from "../../src/items/mapping/imrt-tables.ts";

const WRITE_TIMES = new Set(["created_at", "updated_at"]);

export async function imrtSnapshot(db: Db, schema?: string): Promise<Record<string, unknown[]>> {
  const tables = imrtTables(db.dialect, schema);
  const idOf = new Map<number, number>(
    (await db.all<{ key: number; id: number }>(`select key, id from ${tables.item}`)).map((r) => [
      Number(r.key),
      Number(r.id),
    ]),
  );
  const out: Record<string, unknown[]> = {};
  for (const [name, spec] of Object.entries(IMRT_TABLES)) {
    if (name === "project_lock") continue; // a mutex, empty at rest
    const hasKey = spec.columns.some((c) => c.name === "key");
    const rows = await db.all<Record<string, unknown>>(
      `select * from ${tables[spec.name]}${hasKey ? " order by key" : ""}`,
    );
    const normal = rows.map((r) => {
      const o: Record<string, unknown> = {};
      for (const c of spec.columns) {
        if (WRITE_TIMES.has(c.name) || (c.name === "key" && name !== "item")) continue;
        if (name === "item" && c.name === "key") continue;
        const v = r[c.name];
        o[c.name] =
          c.name === "item_key" || c.name === "item_key_stim" ? idOf.get(Number(v)) : value(c.type, v);
      }
      return o;
    });
    const sortKey = (o: Record<string, unknown>) => String(o.id ?? o.item_key ?? o.project_id ?? "");
    // rows with a key keep their key order within an item (stable sort); others sort whole
    const rest = (o: Record<string, unknown>) => (hasKey ? "" : JSON.stringify(o));
    out[name] = normal.sort(
      (x, y) =>
        sortKey(x).localeCompare(sortKey(y), undefined, { numeric: true }) || rest(x).localeCompare(rest(y)),
    );
  }
  out.sync_project = (
    await db.all<Record<string, unknown>>(
      `select project_id, project_path, name, default_branch, head_commit_hash, ingest_state, ingest_problem
       from sync_project order by project_id`,
    )
  ).map((r) => ({ ...r, project_id: Number(r.project_id) }));
  return out;
}

function value(type: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "timestamptz":
      return toDate(v)?.toISOString() ?? null;
    case "boolean":
      return v === true || v === 1 || v === "1" || v === "t";
    case "integer":
      return Number(v);
    case "json":
      return typeof v === "string" ? JSON.parse(v) : v;
    default:
      return v;
  }
}
