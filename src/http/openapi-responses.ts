/**
 * The responses each operation declares in the OpenAPI document (`detail.responses`), with
 * their schemas. Documentation only: nothing here validates at run time.
 */
import { type TSchema, t } from "elysia";
import { JOB_STATUSES } from "../batch/types.ts";

interface HeaderDoc {
  schema: { type: "string" };
  description: string;
}
interface ResponseDoc {
  description: string;
  headers?: Record<string, HeaderDoc>;
  // biome-ignore lint/suspicious/noExplicitAny: a TypeBox schema is a JSON Schema; the OpenAPI types cannot say so
  content?: Record<string, { schema: any }>;
}

const json = (description: string, schema: unknown, headers?: Record<string, HeaderDoc>): ResponseDoc => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/json": { schema } },
});

export const ErrorBody = t.Object(
  {
    error: t.Object({
      code: t.String({
        description: "stable, machine-readable: UNAUTHORIZED, NOT_FOUND, JOB_ALREADY_RUNNING, …",
      }),
      message: t.String({ description: "a sentence for people" }),
    }),
  },
  { description: "every error" },
);

const Counts = t.Object({
  read: t.Integer(),
  hooksChecked: t.Integer(),
  monitorPublished: t.Integer(),
  updatePublished: t.Integer(),
  deletePublished: t.Integer(),
  skipped: t.Integer(),
});

const Time = t.Union([t.String({ format: "date-time" }), t.Null()]);
const Nullable = <T extends TSchema>(schema: T) => t.Union([schema, t.Null()]);

export const Execution = t.Object({
  id: t.Integer(),
  jobInstanceId: t.Integer(),
  jobName: t.String(),
  status: t.String({ enum: [...JOB_STATUSES] }),
  exitCode: t.String(),
  exitMessage: t.String(),
  createTime: Time,
  startTime: Time,
  endTime: Time,
  lastUpdated: Time,
  trigger: t.String({ enum: ["api", "cron", "cli"] }),
  restartOf: t.Union([t.Integer(), t.Null()]),
  counts: Counts,
});

const ExecutionDetail = t.Composite([
  Execution,
  t.Object({
    params: t.Record(t.String(), t.String()),
    step: t.Union([
      t.Object({
        id: t.Integer(),
        name: t.String(),
        status: t.String(),
        commitCount: t.Integer(),
        startTime: Time,
        endTime: Time,
        lastUpdated: Time,
        exitCode: t.String(),
        exitMessage: t.String(),
        context: t.Object({}, { description: "checkpoint (page, last project id) and skipped projects" }),
      }),
      t.Null(),
    ]),
  }),
]);

const Commit = t.Object({ commitHash: t.String(), commitDate: Time });

const Status = t.Object(
  {
    stale: t.Boolean({ description: "true when reasons is not empty" }),
    reasons: t.Array(
      t.String({
        enum: ["behind", "quarantined", "dead_letter"],
        description:
          "behind: the tables lag GitLab's last seen head; quarantined: the head's item.json cannot be written; dead_letter: a message for the project failed for good",
      }),
    ),
    gitlabHead: Nullable(
      t.Object(
        {
          commitHash: t.String(),
          commitDate: Time,
          seenAt: Time,
          seenBy: t.String({
            enum: ["update-item", "push"],
            description: "read by update-item (after a scan, a push or POST /sync), or a push received since",
          }),
        },
        { description: "GitLab's head of the default branch as last seen; null when never seen" },
      ),
    ),
    tables: Nullable(
      t.Object(
        { commitHash: t.String(), commitDate: Time },
        { description: "the commit the IMRT tables hold (item_git); null: no IMRT rows" },
      ),
    ),
    lastPush: Nullable(t.Object({ at: t.String({ format: "date-time" }), sha: Nullable(t.String()) })),
    lastUpdate: Nullable(
      t.Object(
        {
          at: t.String({ format: "date-time" }),
          messageId: Nullable(t.String()),
          outcome: Nullable(t.String({ description: "ingested, no_item_json, empty, quarantined" })),
        },
        { description: "the last update-item that changed what item-sync records" },
      ),
    ),
    hook: t.Object({
      state: Nullable(
        t.String({ description: "ok, missing or disabled (by GitLab); null: not checked yet" }),
      ),
      since: Time,
    }),
    quarantine: Nullable(t.Object({ problem: t.String() })),
    deadLetters: t.Array(
      t.Object({
        messageType: t.String({ description: "monitor-item, update-item or delete-item" }),
        queue: t.String({ description: "the work queue; the message is in {queue}.dead" }),
        messageId: Nullable(t.String()),
        reason: t.String(),
        attempts: t.Integer(),
        deadLetteredBy: t.String({
          enum: ["item-sync", "broker"],
          description:
            "broker: its last delivery did not settle, so the broker's delivery limit dead-letters it",
        }),
        deadLetteredAt: t.String({ format: "date-time" }),
      }),
      { description: "one per message type, until a later message of that type for the project succeeds" },
    ),
  },
  { description: "why this item is (or is not) stale" },
);

const Item = t.Object({
  projectId: t.Integer(),
  projectPath: t.String(),
  name: t.String(),
  defaultBranch: t.Union([t.String(), t.Null()]),
  currentCommitHash: t.Union([t.String(), t.Null()]),
  currentCommitDate: Time,
  itemJson: t.Unknown({ description: "the parsed item.json, or null" }),
  createdAt: t.String({ format: "date-time" }),
  updatedAt: t.String({ format: "date-time" }),
  itemId: Nullable(t.Integer({ description: "item.json's id (IMRT item.id)" })),
  itemType: Nullable(t.String()),
  classification: Nullable(t.String({ description: "item or stim" })),
  workflowStatus: Nullable(t.String()),
  subject: Nullable(t.String()),
  grade: Nullable(t.String()),
  updatedBy: Nullable(t.String({ description: "author of the last ingested commit" })),
  itemCreatedBy: Nullable(t.String({ description: "author of the default branch's first commit" })),
  itemCreatedAt: Time,
  workflowStatusSetAt: Time,
  associatedStimulusId: Nullable(t.Integer()),
  ingestState: Nullable(
    t.String({
      description: "what the last update-item made of the head: ingested, no_item_json, empty, quarantined",
    }),
  ),
  problem: Nullable(t.String({ description: "why the head's item.json is quarantined" })),
  status: Status,
});

const wwwAuthenticate: Record<string, HeaderDoc> = {
  "WWW-Authenticate": { schema: { type: "string" }, description: "Bearer …" },
};

/** What every protected route may answer besides its own. */
const PROTECTED = {
  400: json("a query parameter given twice (DUPLICATE_PARAMETER)", ErrorBody),
  401: json("no valid bearer token", ErrorBody, wwwAuthenticate),
  403: json("a valid token without the required scope, or without the role the call needs", ErrorBody),
  503: json("the token provider or the database cannot be reached (Retry-After)", ErrorBody),
};
const INVALID = {
  422: json(
    "a query parameter or path segment breaks its rule, or the route takes no such parameter (the message names it)",
    ErrorBody,
  ),
};
const NOT_FOUND = { 404: json("no such execution or item", ErrorBody) };

export const RESPONSES: Record<
  | "sync"
  | "jobs"
  | "job"
  | "stop"
  | "reset"
  | "items"
  | "item"
  | "projectSync"
  | "webhook"
  | "live"
  | "ready"
  | "metrics",
  Record<number, ResponseDoc>
> = {
  sync: {
    202: json("the execution started or resumed", Execution, {
      Location: { schema: { type: "string" as const }, description: "/jobs/{id}" },
    }),
    409: json(
      "a sync is already running (JOB_ALREADY_RUNNING), or the scheduled slot already ran",
      t.Composite([ErrorBody, t.Object({ runningJobId: t.Integer() })]),
    ),
    ...INVALID,
    ...PROTECTED,
    503: json(
      "RabbitMQ is unavailable (BROKER_UNAVAILABLE), or the token provider or database cannot be reached",
      ErrorBody,
    ),
  },
  jobs: {
    200: json("executions, newest first", t.Object({ jobs: t.Array(Execution) })),
    ...INVALID,
    ...PROTECTED,
  },
  job: { 200: json("the execution with its step", ExecutionDetail), ...NOT_FOUND, ...INVALID, ...PROTECTED },
  stop: {
    202: json("now STOPPING; STOPPED at its next checkpoint", Execution),
    409: json("not running (JOB_NOT_RUNNING)", ErrorBody),
    ...NOT_FOUND,
    ...INVALID,
    ...PROTECTED,
  },
  reset: {
    200: json("now ABANDONED", Execution),
    409: json(
      "its heartbeat is fresh (JOB_HEARTBEAT_FRESH; force=true overrides) or it already ended",
      ErrorBody,
    ),
    ...NOT_FOUND,
    ...INVALID,
    ...PROTECTED,
  },
  items: {
    200: json(
      "a page of items",
      t.Object({ items: t.Array(Item), nextCursor: t.Union([t.String(), t.Null()]) }),
    ),
    ...INVALID,
    ...PROTECTED,
  },
  item: {
    200: json(
      "the item with its recent history",
      t.Composite([
        Item,
        t.Object({
          history: t.Array(t.Composite([Commit, t.Object({ author: t.String() })]), {
            description: "the item's item_log rows: one per commit of the default branch, newest first",
          }),
          events: t.Array(t.Object({}), {
            description: "what update-item and delete-item did, newest first",
          }),
        }),
      ]),
    ),
    ...NOT_FOUND,
    ...INVALID,
    ...PROTECTED,
  },
  projectSync: {
    202: json(
      "the messages published for the project, each confirmed by the broker",
      t.Object({ projectId: t.Integer(), published: t.Array(t.String()) }),
    ),
    ...NOT_FOUND,
    ...INVALID,
    ...PROTECTED,
  },
  webhook: {
    202: json(
      "a push event, or a system hook's project event that published: `accepted` says whether a message was published (update-item, or for project events monitor-item/delete-item); a push that changes nothing (another branch, a project outside the group or ignored) has `accepted: false` and the `reason`",
      t.Object({ accepted: t.Boolean(), projectId: t.Optional(t.Integer()), reason: t.Optional(t.String()) }),
    ),
    204: {
      description:
        "any other event (tag pushes, other system hooks, project events outside the group): acknowledged and ignored",
    },
    401: json("X-Gitlab-Token does not match WEBHOOK_SECRET", ErrorBody),
    422: json("the body is not a JSON object", ErrorBody),
  },
  live: { 200: json("the process runs", t.Object({ status: t.Literal("ok") })) },
  ready: {
    200: json(
      "ready",
      t.Object({ status: t.String(), checks: t.Optional(t.Record(t.String(), t.String())) }),
    ),
    503: json(
      "not ready: checks says which part, since when and why (absent on the API port when METRICS_PORT is set)",
      t.Object({ status: t.String(), checks: t.Optional(t.Record(t.String(), t.String())) }),
    ),
  },
  metrics: {
    200: { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } },
  },
};
