/**
 * The messages of the contract: monitor-item, update-item and delete-item bodies, their routing
 * keys and message ids, and `parseMessage`, the strict validator every consumer runs before a
 * handler sees a message. Anything that fails it is a `MalformedMessageError`: it is dead-lettered
 * at once, never retried.
 */

export const MESSAGE_TYPES = {
  monitor: "monitor-item",
  update: "update-item",
  delete: "delete-item",
} as const;
export type ItemMessageType = (typeof MESSAGE_TYPES)[keyof typeof MESSAGE_TYPES];

export const ROUTING_KEYS = {
  "monitor-item": "item.monitor",
  "update-item": "item.update",
  "delete-item": "item.delete",
} as const satisfies Record<ItemMessageType, string>;
export type RoutingKey = (typeof ROUTING_KEYS)[ItemMessageType];

export const MESSAGE_VERSION = 1;
/** `appId` of every message this service publishes. */
export const APP_ID = "item-sync";

/** The JSON body, exactly as the contract shows it. */
export interface ItemMessage {
  type: ItemMessageType;
  version: typeof MESSAGE_VERSION;
  projectId: number;
  projectPath: string;
  /** null for messages no execution published (webhook, system hook, one-project sync) */
  jobExecutionId: number | null;
  createdAt: string; // ISO-8601
}

/** A message ready to publish: body plus the envelope fields derived from it. */
export interface OutgoingMessage {
  body: ItemMessage;
  messageId: string;
  routingKey: RoutingKey;
}

export interface ProjectRef {
  projectId: number;
  projectPath: string;
}

/**
 * The one place a message is put together: messageId `{origin}:{type}:{projectId}`, where the
 * origin is the job execution id, or — for messages a webhook caused — what identifies the event.
 */
function createMessage(
  type: ItemMessageType,
  origin: string | number,
  jobExecutionId: number | null,
  project: ProjectRef,
  now: Date,
): OutgoingMessage {
  const body: ItemMessage = {
    type,
    version: MESSAGE_VERSION,
    projectId: project.projectId,
    projectPath: project.projectPath,
    jobExecutionId,
    createdAt: now.toISOString(),
  };
  return { body, messageId: `${origin}:${type}:${project.projectId}`, routingKey: ROUTING_KEYS[type] };
}

/** A message published by a sync job execution: messageId `{jobExecutionId}:{type}:{projectId}`. */
export function createJobMessage(
  type: ItemMessageType,
  jobExecutionId: number,
  project: ProjectRef,
  now: Date = new Date(),
): OutgoingMessage {
  return createMessage(type, jobExecutionId, jobExecutionId, project, now);
}

/**
 * An update-item triggered by a push webhook: no execution, so the body's jobExecutionId is null
 * and the messageId carries the push's checkout sha instead: `{checkoutSha}:update-item:{projectId}`.
 */
export function createWebhookUpdateMessage(
  checkoutSha: string,
  project: ProjectRef,
  now: Date = new Date(),
): OutgoingMessage {
  return createMessage(MESSAGE_TYPES.update, checkoutSha, null, project, now);
}

/**
 * A delete-item triggered by a GitLab system-hook event (project_destroy, project_transfer out of
 * the group): no execution, so jobExecutionId is null and the messageId names the event:
 * `{eventName}:delete-item:{projectId}`.
 */
export function createWebhookDeleteMessage(
  eventName: string,
  project: ProjectRef,
  now: Date = new Date(),
): OutgoingMessage {
  return createMessage(MESSAGE_TYPES.delete, eventName, null, project, now);
}

/**
 * A monitor-item or update-item triggered by a GitLab system-hook event (project_create,
 * project_rename, project_transfer within or into the group): no execution, so jobExecutionId is
 * null and the messageId names the event: `{eventName}:{type}:{projectId}`.
 */
export function createWebhookProjectMessage(
  type: typeof MESSAGE_TYPES.monitor | typeof MESSAGE_TYPES.update,
  eventName: string,
  project: ProjectRef,
  now: Date = new Date(),
): OutgoingMessage {
  return createMessage(type, eventName, null, project, now);
}

/**
 * A message of a one-project sync (`POST /sync/{projectId}`, `item-sync sync --project`): no
 * execution, so jobExecutionId is null and the messageId names the request:
 * `project-sync-{epoch ms}:{type}:{projectId}`.
 */
export function createProjectSyncMessage(
  type: ItemMessageType,
  project: ProjectRef,
  now: Date = new Date(),
): OutgoingMessage {
  return createMessage(type, `project-sync-${now.getTime()}`, null, project, now);
}

/** The exact bytes published: a Buffer, so rabbitmq-client keeps our contentType. */
export function encodeMessage(body: ItemMessage): Buffer {
  return Buffer.from(JSON.stringify(body), "utf8");
}

export class MalformedMessageError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`malformed message: ${reason}`);
    this.name = "MalformedMessageError";
    this.reason = reason;
  }
}

const KEYS = ["type", "version", "projectId", "projectPath", "jobExecutionId", "createdAt"] as const;
const TYPES = new Set<string>(Object.values(MESSAGE_TYPES));
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_BODY_BYTES = 64 * 1024;
export const MAX_PATH_LENGTH = 1000;

/**
 * GitLab's rule for a namespace or project path segment: letters, digits, `_`, `.` and `-`, not
 * starting with `-`. A project path is at least a namespace and a project.
 */
const PATH_SEGMENT = "[A-Za-z0-9_.][A-Za-z0-9_.-]*";
const PROJECT_PATH = new RegExp(`^${PATH_SEGMENT}(?:/${PATH_SEGMENT})+$`);

/** Why `path` cannot be a GitLab project path (`namespace/project`), or null when it can. */
export function projectPathProblem(path: unknown): string | null {
  if (typeof path !== "string" || path.trim() === "") return "projectPath must be a non-empty string";
  if (path.length > MAX_PATH_LENGTH) return `projectPath must be at most ${MAX_PATH_LENGTH} characters`;
  if (!PROJECT_PATH.test(path)) {
    return "projectPath must be a GitLab project path (namespace/project, of letters, digits, '_', '.' and '-')";
  }
  return null;
}

/**
 * Validates a message body: raw bytes or text (JSON), or the object rabbitmq-client already
 * decoded from an `application/json` body. Unknown keys are refused: a body this version does not
 * fully understand must not be half-applied.
 */
export function parseMessage(input: unknown): ItemMessage {
  const value = decode(input);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedMessageError("body is not a JSON object");
  }
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (extra.length > 0) throw new MalformedMessageError(`unknown field(s): ${extra.slice(0, 5).join(", ")}`);

  const { type, version, projectId, projectPath, jobExecutionId, createdAt } = record;
  if (typeof type !== "string" || !TYPES.has(type)) {
    throw new MalformedMessageError(`type must be one of ${[...TYPES].join(", ")}`);
  }
  if (version !== MESSAGE_VERSION) throw new MalformedMessageError(`version must be ${MESSAGE_VERSION}`);
  if (!isPositiveInt(projectId)) throw new MalformedMessageError("projectId must be a positive integer");
  const pathProblem = projectPathProblem(projectPath);
  if (pathProblem !== null) throw new MalformedMessageError(pathProblem);
  // null: no execution behind the message (a webhook, a system hook, a one-project sync), whatever its type
  if (jobExecutionId !== null && !isPositiveInt(jobExecutionId)) {
    throw new MalformedMessageError("jobExecutionId must be a positive integer or null");
  }
  if (typeof createdAt !== "string" || !ISO_DATE.test(createdAt) || Number.isNaN(Date.parse(createdAt))) {
    throw new MalformedMessageError("createdAt must be an ISO-8601 timestamp");
  }
  return {
    type: type as ItemMessageType,
    version: MESSAGE_VERSION,
    projectId,
    projectPath: projectPath as string,
    jobExecutionId,
    createdAt,
  };
}

function decode(input: unknown): unknown {
  let text: string;
  if (typeof input === "string") text = input;
  else if (input instanceof Uint8Array) {
    if (input.byteLength > MAX_BODY_BYTES) throw new MalformedMessageError("body too large");
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(input);
    } catch {
      throw new MalformedMessageError("body is not valid UTF-8");
    }
  } else return input;
  if (text.length > MAX_BODY_BYTES) throw new MalformedMessageError("body too large");
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedMessageError("body is not valid JSON");
  }
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}
