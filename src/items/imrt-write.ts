/**
 * One item revision written to the IMRT tables, inside the caller's transaction, in the order of
 * IMRT-ITEMS.md §4.4: the `item` row (and the stimulus links), `item_git`, one `item_log` row per
 * new commit, then the child tables replaced. Every column the Item Search Service reads is set as
 * the replaced ingest service set it, with our decisions (history dates, stim_link, NULL → '').
 * Rows are found through `item_git.project_id`, never through item.json's `id`, so an item the
 * replaced service ingested keeps its `key`.
 */

import { type Db, toDate } from "../db/client.ts";
import type { GitCommit, StatusRunStart } from "./history.ts";
import type { ImrtTables } from "./imrt-names.ts";
import { NEVER_WRITTEN } from "./imrt-schema.ts";
import { ITEM_COLUMNS } from "./mapping/item-columns.ts";
import { INSERT_DEFAULTS } from "./mapping/map-item.ts";
import type { ChildRows, ColumnValue, ItemDocument, MappedItem } from "./mapping/types.ts";

export const OPERATIONAL = "Operational";

/**
 * The defaults an inserted row is written with: every column item-sync writes, never the ones
 * added after V44 (an existing V44 table may not have them; their SQL default fills them) nor the
 * ones it never writes (the start-up check does not require them).
 */
const LATER_COLUMNS = new Set<string>(ITEM_COLUMNS.filter((c) => "since" in c && c.since).map((c) => c.name));
const INSERTED_DEFAULTS: Record<string, ColumnValue> = Object.fromEntries(
  Object.entries(INSERT_DEFAULTS).filter(
    ([name, value]) => !LATER_COLUMNS.has(name) && !NEVER_WRITTEN.has(`item.${name}`) && value !== undefined,
  ),
) as Record<string, ColumnValue>;

/** The row the tables hold for a project (via item_git), with the commit they are at. */
export interface StoredItem {
  key: number;
  commitHash: string;
  commitDate: Date;
  /** `item_git.ingest_source`: the branch the row was read from */
  branch: string;
  /** the `item` row as stored, by column name */
  row: Record<string, unknown>;
}

export interface Revision {
  projectId: number;
  /** `item_git.project_path`: the group's full path, as the replaced service wrote it (§3.5.7). */
  groupPath: string;
  /** The default branch: `ingest_source`. */
  branch: string;
  item: ItemDocument;
  mapped: MappedItem;
  head: GitCommit;
  /** Oldest first; each gets its item_log row. */
  newCommits: GitCommit[];
  /** The branch's first commit: `item_created_by/at` of a new row. */
  firstCommit: GitCommit;
  statusRunStart: StatusRunStart;
  /** A `create` file at the head. */
  beingCreated: boolean;
  now: Date;
}

export type WriteResult =
  | { kind: "created" | "updated"; key: number }
  /** item.json's id is another project's item: nothing written. */
  | { kind: "id-taken"; reason: string };

export async function loadStored(db: Db, tables: ImrtTables, projectId: number): Promise<StoredItem | null> {
  const [git] = await db.all<Record<string, unknown>>(
    `select item_key, current_commit_hash, current_commit_date, ingest_source from ${tables.item_git} where project_id = $1`,
    [projectId],
  );
  if (!git) return null;
  const key = Number(git.item_key);
  const [row] = await db.all<Record<string, unknown>>(`select * from ${tables.item} where key = $1`, [key]);
  if (!row) return null;
  return {
    key,
    commitHash: String(git.current_commit_hash),
    commitDate: toDate(git.current_commit_date) ?? new Date(0),
    branch: String(git.ingest_source),
    row,
  };
}

export async function writeRevision(
  tx: Db,
  tables: ImrtTables,
  rev: Revision,
  stored: StoredItem | null,
): Promise<WriteResult> {
  const author = rev.head.authorName;
  const values = itemValues(rev, stored);
  let key: number;
  if (stored) {
    key = stored.key;
    const names = Object.keys(values);
    await tx.run(
      `update ${tables.item} set ${names.map((n, i) => `${n} = ${cast(tx, n, i + 1)}`).join(", ")}
       where key = $${names.length + 1}`,
      [...names.map((n) => values[n]), key],
    );
  } else {
    const [taken] = await tx.all<{ key: number }>(`select key from ${tables.item} where id = $1`, [
      rev.item.id,
    ]);
    if (taken) {
      const [owner] = await tx.all<{ project_id: number }>(
        `select project_id from ${tables.item_git} where item_key = $1`,
        [taken.key],
      );
      const whose = owner ? `project ${owner.project_id}` : `key ${taken.key}`;
      return {
        kind: "id-taken",
        reason: `item.json: "id" ${rev.item.id} is already the id of another item (${whose}); item ids are unique`,
      };
    }
    const row: Record<string, ColumnValue> = { ...INSERTED_DEFAULTS, ...values };
    const names = Object.keys(row);
    const [inserted] = await tx.all<{ key: number }>(
      `insert into ${tables.item} (${names.join(", ")}) values (${names.map((n, i) => cast(tx, n, i + 1)).join(", ")})
       returning key`,
      names.map((n) => row[n] ?? null),
    );
    key = Number(inserted?.key);
  }
  await linkStimulus(tx, tables, key, values, stored?.row ?? {});
  await tx.run(
    `insert into ${tables.item_git} (item_key, project_id, project_path, current_commit_hash, current_commit_date,
       created_at, updated_at, updated_by, ingest_source)
     values ($1, $2, $3, $4, $5, $6, $6, $7, $8)
     on conflict (project_id) do update set item_key = excluded.item_key, project_path = excluded.project_path,
       current_commit_hash = excluded.current_commit_hash, current_commit_date = excluded.current_commit_date,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by, ingest_source = excluded.ingest_source`,
    [key, rev.projectId, rev.groupPath, rev.head.id, rev.head.committedDate, rev.now, author, rev.branch],
  );
  await insertRows(
    tx,
    tables.item_log,
    ["item_key", "commit_hash", "commit_date", "created_at", "updated_at", "updated_by", "ingest_source"],
    rev.newCommits.map((c) => [key, c.id, c.committedDate, rev.now, rev.now, c.authorName, rev.branch]),
    `on conflict (item_key, commit_hash) do update set commit_date = excluded.commit_date,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by, ingest_source = excluded.ingest_source`,
  );
  await replaceChildren(tx, tables, key, rev.mapped.children, author, rev.now);
  return { kind: stored ? "updated" : "created", key };
}

/**
 * The `item` columns this revision sets: the mapping's, the git and history facts, and on a new
 * row the insert-only ones. Columns neither sets keep their stored value (KEEP, §0.2).
 */
function itemValues(rev: Revision, stored: StoredItem | null): Record<string, ColumnValue> {
  const before = stored?.row ?? {};
  const cur = rev.mapped.columns;
  const pick = (name: string): unknown => (name in cur ? cur[name] : before[name]);
  const values: Record<string, ColumnValue> = { ...cur };
  if (!stored) {
    values.id = rev.item.id;
    values.classification = rev.item.type === "stim" ? "stim" : "item";
    values.item_created_by = rev.firstCommit.authorName;
    values.item_created_at = rev.firstCommit.committedDate;
    values.created_at = rev.now;
    // a document without `workflow` leaves the column KEEP; a new row still needs a value (Q14)
    if (values.workflow_status === undefined || values.workflow_status === null) values.workflow_status = "";
  }
  values.item_type = rev.item.type;
  values.item_json = rev.item.text;
  values.updated_at = rev.now;
  values.updated_by = rev.head.authorName;
  values.is_being_created = rev.beingCreated;

  const setAt =
    rev.statusRunStart.kind === "commit"
      ? rev.statusRunStart.commit.committedDate
      : (toDate(before.workflow_status_set_at) ?? rev.head.committedDate);
  values.workflow_status_set_at = setAt;
  if (pick("workflow_status") === OPERATIONAL) values.status_set_operational_at = setAt;
  const operationalAt = toDate(
    "status_set_operational_at" in values
      ? values.status_set_operational_at
      : before.status_set_operational_at,
  );
  if (operationalAt) {
    const later = (v: unknown) => {
      const d = toDate(v);
      return d !== null && operationalAt.getTime() < d.getTime();
    };
    values.content_changed_after_operational =
      later(pick("spanish_content_last_updated_at")) || later(pick("english_content_last_updated_at"));
  }
  return values;
}

/**
 * Our decision on stim_link (Q2): after every item or stim write, one link iff the item's
 * `associated_stimulus_id` names an existing stim row; a new or updated stim links every item
 * that names it.
 */
async function linkStimulus(
  tx: Db,
  tables: ImrtTables,
  key: number,
  values: Record<string, ColumnValue>,
  before: Record<string, unknown>,
): Promise<void> {
  // The row's own classification and id decide, not the document's: both are kept after the
  // insert (§3.3 #2, #14), so an item whose type became `stim` stays an item, and a stimulus whose
  // item.json names another id is still linked under the id its row holds.
  const isStim = (values.classification ?? before.classification) === "stim";
  const rowId = before.id ?? values.id;
  // An item and its stimulus written at once by two workers would each miss the other's
  // uncommitted row: the link statements of one stimulus id run one transaction at a time.
  const ids = isStim ? [rowId] : [values.associated_stimulus_id, before.associated_stimulus_id];
  await lockStimuli(tx, ids);
  // a stimulus has no link of its own; an item's link is rebuilt below
  await tx.run(`delete from ${tables.stim_link} where item_key = $1`, [key]);
  if (isStim) {
    await tx.run(
      `insert into ${tables.stim_link} (item_key, item_key_stim)
       select i.key, $1 from ${tables.item} i where i.classification = 'item' and i.associated_stimulus_id = $2
       on conflict (item_key) do update set item_key_stim = excluded.item_key_stim`,
      [key, rowId],
    );
    return;
  }
  const stimulusId = values.associated_stimulus_id;
  if (stimulusId === null || stimulusId === undefined) return;
  await tx.run(
    `insert into ${tables.stim_link} (item_key, item_key_stim)
     select $1, min(s.key) from ${tables.item} s where s.classification = 'stim' and s.id = $2 having count(*) > 0`,
    [key, stimulusId],
  );
}

/** An arbitrary constant: the advisory-lock class of "stim_link of stimulus id N". */
const STIM_LINK_LOCK = 7301;

/**
 * Postgres: transaction-scoped advisory locks on the stimulus ids whose links the transaction
 * changes, taken in ascending order (no deadlock), held until commit; under READ COMMITTED the
 * statements after the lock see what the previous holder committed. SQLite: nothing to do, its
 * writers run one at a time.
 */
export async function lockStimuli(tx: Db, ids: readonly unknown[]): Promise<void> {
  if (tx.dialect !== "pg") return;
  const unique = [...new Set(ids.filter((v) => v !== null && v !== undefined).map(Number))].sort(
    (a, b) => a - b,
  );
  for (const id of unique) await tx.run(`select pg_advisory_xact_lock(${STIM_LINK_LOCK}, $1)`, [id]);
}

/** §3.5: each child table's rows of the item replaced by this revision's (forms: assessment items only). */
async function replaceChildren(
  tx: Db,
  tables: ImrtTables,
  key: number,
  children: ChildRows,
  author: string,
  now: Date,
): Promise<void> {
  const replace = async (table: string, columns: string[], rows: unknown[][]) => {
    await tx.run(`delete from ${table} where item_key = $1`, [key]);
    await insertRows(tx, table, columns, rows);
  };
  await replace(
    tables.item_keyword,
    ["item_key", "section", "content"],
    children.keywords.map((k) => [key, k.section, k.content]),
  );
  if (children.forms !== null) {
    await replace(
      tables.item_form,
      [
        "item_key",
        "assessment_type",
        "form_id",
        "form_type",
        "exposures",
        "created_at",
        "updated_at",
        "updated_by",
      ],
      children.forms.map((f) => [key, f.assessmentType, f.formId, f.formType, f.exposures, now, now, author]),
    );
  }
  await replace(
    tables.item_attachment,
    ["item_key", "file_name", "file_type", "uploaded_at", "created_at", "updated_at", "updated_by"],
    children.attachments.map((a) => [key, a.fileName, a.fileType, a.uploadedAt, now, now, author]),
  );
  await replace(
    tables.item_content_update_need,
    [
      "item_key",
      "internal_resolution",
      "notes",
      "resolution",
      "resolution_notes",
      "content_update_need_create_date",
      "internal_resolution_date",
      "resolution_date",
      "created_at",
      "updated_at",
      "updated_by",
    ],
    children.updateNeeds.map((n) => [
      key,
      n.internalResolution,
      n.notes,
      n.resolution,
      n.resolutionNotes,
      n.createDate,
      n.internalResolutionDate,
      n.resolutionDate,
      now,
      now,
      author,
    ]),
  );
  await replace(
    tables.item_assignment,
    ["item_key", "assigned_to", "assigned_by", "assigned_date", "created_at", "updated_at", "updated_by"],
    children.assignments.map((a) => [key, a.assignedTo, a.assignedBy, a.assignedDate, now, now, author]),
  );
}

const ROWS_PER_STATEMENT = 200;

/** Multi-row inserts, in chunks that stay far below both databases' parameter limits. */
export async function insertRows(
  tx: Db,
  table: string,
  columns: string[],
  rows: unknown[][],
  onConflict = "",
): Promise<void> {
  for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(from, from + ROWS_PER_STATEMENT);
    const values = chunk
      .map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`)
      .join(", ");
    await tx.run(`insert into ${table} (${columns.join(", ")}) values ${values} ${onConflict}`, chunk.flat());
  }
}

/** Postgres infers a bare parameter's type from its column, but a JSON text needs saying so. */
function cast(tx: Db, column: string, n: number): string {
  return tx.dialect === "pg" && column === "item_json" ? `$${n}::json` : `$${n}`;
}

/** The default branch changed name, its head did not: `ingest_source` follows (nothing else changes). */
export async function renameIngestSource(
  db: Db,
  tables: ImrtTables,
  projectId: number,
  branch: string,
): Promise<void> {
  await db.run(`update ${tables.item_git} set ingest_source = $1 where project_id = $2`, [branch, projectId]);
}
