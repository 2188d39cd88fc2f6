/**
 * update-item and delete-item against the IMRT tables (IMRT-ITEMS.md §4.3, §4.8, with our
 * decisions): under the project's `project_lock`, read what changed on the default branch since
 * the commit the tables hold, map the head's item.json, and write the item, its history and its
 * child rows in one transaction; or remove every row of the item. A document that cannot be mapped
 * is quarantined: no IMRT row changes, the reason is kept on the project and the message is
 * dead-lettered at once (QuarantinedItemError). With tracing on, the write transaction is a span
 * (write-span.ts).
 */
import { type Db, toDate } from "../db/client.ts";
import type { ProjectReading } from "../gitlab/client.ts";
import { CREATE_MARKER_FILE, type RepositoryReads } from "../gitlab/repository-reads.ts";
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { countingHistory, type GitCommit, newCommits, statusRunStart, workflowStatusOf } from "./history.ts";
import { deleteImrtItem } from "./imrt-delete.ts";
import type { ImrtTables } from "./imrt-names.ts";
import { loadStored, renameIngestSource, type StoredItem, writeRevision } from "./imrt-write.ts";
import { createDeadLetterLog, recordSeenHead } from "./item-status.ts";
import { mapItem } from "./mapping/map-item.ts";
import { readItemDocument } from "./mapping/read-document.ts";
import { acquire, type HeldLock, release, stillHeld } from "./project-lock.ts";
import {
  addEvent,
  clearValidationPending,
  type EventSource,
  getProject,
  INGEST_STATES,
  type IngestState,
  type ProjectFacts,
  recordIngest,
  removeProject,
  type SyncProject,
  wroteRevision,
} from "./projects.ts";
import { type ItemValidator, writeValidation } from "./validation.ts";
import { inWriteSpan } from "./write-span.ts";

/** The narrow view of GitLab item ingest needs (gitlab/client.ts implements it). */
export interface ItemGitlab extends RepositoryReads {
  readProject(projectId: number): Promise<ProjectReading | null>;
}

/** A document that cannot be written: never retried, dead-lettered with this reason. */
export class QuarantinedItemError extends AppError {
  readonly retryable = false;
  readonly projectId: number;

  constructor(projectId: number, reason: string) {
    super("ITEM_QUARANTINED", 422, `project ${projectId}: item.json quarantined: ${reason}`);
    this.projectId = projectId;
  }
}

/** The lock was taken over (held past 60 s): nothing was written; the message is tried again. */
export class LockLostError extends AppError {
  readonly retryable = true;

  constructor(projectId: number) {
    super("PROJECT_LOCK_LOST", 409, `project ${projectId}: project_lock was taken over before the write`);
  }
}

export type UpdateOutcome =
  | "created"
  | "updated"
  | "unchanged"
  | IngestState
  /** the project no longer exists */
  | "gone"
  /** GitLab does not place the project in the group: nothing read or written */
  | "outside";

export interface UpdateResult {
  outcome: UpdateOutcome;
  /** GitLab requests this update made (the project lookup, the history, the files). */
  gitlabRequests: number;
}

export interface ItemIngest {
  update(
    projectId: number,
    source: EventSource,
    ctx: { signal?: AbortSignal; logger: Logger },
  ): Promise<UpdateResult>;
  /** Removes the item (GitLab's say-so is the caller's); false when nothing was there. */
  remove(
    projectId: number,
    source: EventSource,
    ctx: { signal?: AbortSignal; logger: Logger },
  ): Promise<boolean>;
}

export function createItemIngest(deps: {
  db: Db;
  tables: ImrtTables;
  gitlab: ItemGitlab;
  validator?: ItemValidator;
  lockPollMs?: number;
}): ItemIngest {
  const { db, tables } = deps;

  const underLock = async <T>(
    projectId: number,
    ctx: { signal?: AbortSignal; logger: Logger },
    fn: (lock: HeldLock) => Promise<T>,
  ): Promise<T> => {
    const lock = await acquire(db, tables, projectId, {
      signal: ctx.signal,
      pollMs: deps.lockPollMs,
      onWait: () => ctx.logger.info("waiting for project_lock held by another writer", { projectId }),
    });
    try {
      return await fn(lock);
    } finally {
      const released = await release(db, tables, lock).catch(() => false);
      if (!released) ctx.logger.warn("project_lock was taken over while held", { projectId });
    }
  };

  /** GitLab's head as just read, kept before any write that may fail (item-status.ts). */
  const seen = (known: SyncProject | null, projectId: number, head: GitCommit) =>
    recordSeenHead(db, known, projectId, { hash: head.id, date: head.committedDate }, new Date());

  /** What update-item made of the head, without IMRT rows to write. */
  const record = (
    facts: ProjectFacts,
    state: IngestState,
    head: GitCommit | null,
    source: EventSource,
    extra: { headItemJson?: string; problem?: string } = {},
  ) =>
    db.transaction(async (tx) => {
      const now = new Date();
      await recordIngest(
        tx,
        facts,
        {
          state,
          head: head ? { hash: head.id, date: head.committedDate } : null,
          headItemJson: extra.headItemJson ?? null,
          problem: extra.problem ?? null,
        },
        source,
        now,
      );
      if (state === INGEST_STATES.quarantined) {
        await addEvent(
          tx,
          facts.projectId,
          "quarantined",
          head && { hash: head.id, date: head.committedDate },
          source,
          now,
        );
      }
    });

  async function update(
    projectId: number,
    source: EventSource,
    ctx: { signal?: AbortSignal; logger: Logger },
  ): Promise<UpdateResult> {
    const history = countingHistory(deps.gitlab);
    let extraRequests = 1; // the project lookup
    const done = (outcome: UpdateOutcome): UpdateResult => ({
      outcome,
      gitlabRequests: extraRequests + history.requests(),
    });
    const reading = await deps.gitlab.readProject(projectId);
    if (!reading) return done("gone");
    if (reading.membership !== "member") return done("outside");
    const { project } = reading;
    const facts: ProjectFacts = {
      projectId,
      projectPath: project.path,
      name: project.name,
      defaultBranch: project.defaultBranch,
    };
    const branch = project.defaultBranch;
    if (branch === null) {
      await record(facts, INGEST_STATES.empty, null, source);
      return done(INGEST_STATES.empty);
    }
    return underLock(projectId, ctx, async (lock) => {
      const stored = await loadStored(db, tables, projectId);
      const known = await getProject(db, projectId);
      // Without an item, the head last seen without item.json spares reading the whole history.
      const seenWithoutItem =
        !stored &&
        known?.ingestState === INGEST_STATES.noItemJson &&
        known.headCommitHash &&
        known.headCommitDate
          ? { commitHash: known.headCommitHash, commitDate: known.headCommitDate }
          : null;
      if (seenWithoutItem) {
        const since = await newCommits(history, projectId, branch, seenWithoutItem);
        if (since.head) await seen(known, projectId, since.head);
        if (!since.fromRoot && since.commits.length === 0) {
          if (factsChanged(known, facts)) await record(facts, INGEST_STATES.noItemJson, since.head, source);
          return done("unchanged");
        }
      }
      const listed = await newCommits(history, projectId, branch, stored);
      const head = listed.head;
      if (!head) {
        await record(facts, INGEST_STATES.empty, null, source);
        return done(INGEST_STATES.empty);
      }
      await seen(known, projectId, head);
      if (stored && listed.commits.length === 0) {
        // the tables are at the head already: only our own facts may have changed (a rename)
        if (factsChanged(known, facts, head)) await record(facts, INGEST_STATES.ingested, head, source);
        if (stored.branch !== branch) await renameIngestSource(db, tables, projectId, branch);
        if (known?.validationPending) await validate(projectId, stored.key, branch, Number(stored.row.id));
        return done("unchanged");
      }
      const headFile = await history.itemFileAt(projectId, head.id);
      if (!headFile) {
        // §4.6: an item.json that is not there changes nothing (the rows, if any, stay)
        await record(facts, INGEST_STATES.noItemJson, head, source);
        return done(INGEST_STATES.noItemJson);
      }
      const doc = readItemDocument(headFile.text);
      if (!doc.ok) return quarantine(facts, head, headFile.text, doc.reason, source);
      extraRequests++;
      const beingCreated = await deps.gitlab.fileExists(projectId, CREATE_MARKER_FILE, head.id);
      // The stored status date is ours to keep only if item-sync wrote the row at its commit: one
      // the replaced service wrote holds its batch's first commit (§4.5), not the true date, so
      // the walk then sees the whole branch, once (a page per 100 commits), and dates it anew.
      const storedOwn =
        stored !== null && !listed.fromRoot && (await wroteRevision(db, projectId, stored.commitHash));
      const walked =
        stored !== null && !listed.fromRoot && !storedOwn
          ? (await newCommits(history, projectId, branch, null)).commits
          : listed.commits;
      const start = await statusRunStart(history, projectId, {
        commits: walked,
        headFile,
        current: doc.item.workflowStatus,
        statusOf: workflowStatusOf,
        stored: stored && storedStatus(stored),
        continuesStored: storedOwn,
      });
      const oldestFirst = [...listed.commits].reverse();
      const now = new Date();
      const write = { dialect: db.dialect, operation: "write item", table: tables.item } as const;
      const written = await inWriteSpan(write, projectId, source, (span) =>
        db.transaction(async (tx) => {
          if (!(await stillHeld(tx, tables, lock))) throw new LockLostError(projectId);
          const result = await writeRevision(
            tx,
            tables,
            {
              projectId,
              groupPath: reading.groupPath,
              branch,
              item: doc.item,
              mapped: mapItem(doc.item, { commitDate: head.committedDate }),
              head,
              newCommits: oldestFirst,
              firstCommit: oldestFirst[0] ?? head,
              statusRunStart: start,
              beingCreated,
              now,
            },
            stored,
          );
          if (result.kind === "id-taken") return result;
          await recordIngest(
            tx,
            facts,
            {
              state: INGEST_STATES.ingested,
              head: { hash: head.id, date: head.committedDate },
              headItemJson: null,
              problem: null,
              validationPending: deps.validator !== undefined,
            },
            source,
            now,
          );
          await addEvent(
            tx,
            projectId,
            result.kind,
            { hash: head.id, date: head.committedDate },
            source,
            now,
          );
          span?.setAttribute("item_sync.write.outcome", result.kind);
          span?.setAttribute("item_sync.item.key", result.key);
          return result;
        }),
      );
      if (written.kind === "id-taken") return quarantine(facts, head, headFile.text, written.reason, source);
      // §4.7: the row's id, which a changed item.json `id` does not replace (§3.3 #2)
      if (deps.validator)
        await validate(projectId, written.key, branch, stored ? Number(stored.row.id) : doc.item.id);
      return done(written.kind);
    });
  }

  async function quarantine(
    facts: ProjectFacts,
    head: GitCommit,
    text: string,
    reason: string,
    source: EventSource,
  ): Promise<never> {
    await record(facts, INGEST_STATES.quarantined, head, source, { headItemJson: text, problem: reason });
    throw new QuarantinedItemError(facts.projectId, reason);
  }

  /** Calls the validation service for a head change that owes its call (§4.7). */
  async function validate(projectId: number, key: number, branch: string, itemId: number): Promise<void> {
    if (!deps.validator) return;
    const results = await deps.validator.validate(itemId, branch);
    await db.transaction(async (tx) => {
      if (results !== null) await writeValidation(tx, tables, key, results, new Date());
      await clearValidationPending(tx, projectId);
    });
  }

  async function remove(
    projectId: number,
    source: EventSource,
    ctx: { signal?: AbortSignal; logger: Logger },
  ): Promise<boolean> {
    const write = { dialect: db.dialect, operation: "delete item", table: tables.item } as const;
    return underLock(projectId, ctx, (lock) =>
      inWriteSpan(write, projectId, source, () =>
        db.transaction(async (tx) => {
          if (!(await stillHeld(tx, tables, lock))) throw new LockLostError(projectId);
          const hadItem = await deleteImrtItem(tx, tables, projectId);
          const hadProject = await removeProject(tx, projectId);
          await createDeadLetterLog(tx).clear(projectId, null);
          if (hadItem || hadProject) await addEvent(tx, projectId, "deleted", null, source, new Date());
          return hadItem || hadProject;
        }),
      ),
    );
  }

  return { update, remove };
}

/** Whether our facts about the project differ from what GitLab says now (so a write is due). */
function factsChanged(known: SyncProject | null, facts: ProjectFacts, head?: GitCommit): boolean {
  return (
    known === null ||
    known.projectPath !== facts.projectPath ||
    known.name !== facts.name ||
    known.defaultBranch !== facts.defaultBranch ||
    (head !== undefined && (known.headCommitHash !== head.id || known.ingestState !== INGEST_STATES.ingested))
  );
}

function storedStatus(stored: StoredItem) {
  const status = stored.row.workflow_status;
  return {
    workflowStatus: typeof status === "string" ? status : null,
    workflowStatusSetAt: toDate(stored.row.workflow_status_set_at),
  };
}
