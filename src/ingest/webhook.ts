/**
 * The GitLab webhook receiver's logic, apart from HTTP: checks the X-Gitlab-Token in constant
 * time and decides what a delivery means — an update-item for a push to a group project's default
 * branch; for a system hook's project events: monitor-item and update-item for a project created
 * in (or moved into) the group, update-item for one renamed or moved within it, delete-item for
 * one destroyed or moved out of it; nothing for anything else.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { GitlabConfig } from "../config/config.ts";
import { isIgnoredProject } from "../gitlab/ignore.ts";

export type WebhookDecision =
  | { kind: "update"; projectId: number; projectPath: string; checkoutSha: string }
  | { kind: "delete"; projectId: number; projectPath: string; eventName: string }
  /** monitor-item + update-item (`monitor`) or update-item alone, for a system hook's project event */
  | { kind: "project"; projectId: number; projectPath: string; eventName: string; monitor: boolean }
  | { kind: "ignored"; reason: string };

const digest = (s: string) => createHash("sha256").update(s).digest();

/** True when the delivery carries the configured secret; no delivery is valid without one. */
export function webhookTokenValid(secret: string, token: string | null): boolean {
  if (secret === "") return false;
  return timingSafeEqual(digest(secret), digest(token ?? ""));
}

interface PushPayload {
  event_name?: unknown;
  path_with_namespace?: unknown;
  old_path_with_namespace?: unknown;
  object_kind?: unknown;
  ref?: unknown;
  checkout_sha?: unknown;
  project_id?: unknown;
  project?: { id?: unknown; path_with_namespace?: unknown; default_branch?: unknown };
}

export function interpretWebhook(
  config: Pick<GitlabConfig, "group" | "includeSubgroups" | "withShared" | "ignoreProjects">,
  eventHeader: string | null,
  payload: unknown,
): WebhookDecision {
  const body = (payload ?? {}) as PushPayload;
  if (PROJECT_EVENTS.has(String(body.event_name))) return interpretProjectEvent(config, body);
  if (eventHeader !== "Push Hook" && body.object_kind !== "push") {
    return { kind: "ignored", reason: `event ${eventHeader ?? String(body.object_kind)} is not a push` };
  }
  const projectId = Number(body.project?.id ?? body.project_id);
  const path = body.project?.path_with_namespace;
  const defaultBranch = body.project?.default_branch;
  const sha = body.checkout_sha;
  if (!Number.isSafeInteger(projectId) || projectId < 1 || typeof path !== "string") {
    return { kind: "ignored", reason: "push without a project id and path" };
  }
  if (typeof sha !== "string" || !/^[0-9a-f]{7,64}$/i.test(sha)) {
    return { kind: "ignored", reason: "push without a checkout sha (a deleted branch)" };
  }
  if (typeof defaultBranch !== "string" || body.ref !== `refs/heads/${defaultBranch}`) {
    return { kind: "ignored", reason: `push to ${String(body.ref)}, not to the default branch` };
  }
  if (isIgnoredProject(config.ignoreProjects, path))
    return { kind: "ignored", reason: `${path} is in GITLAB_IGNORE_PROJECTS` };
  if (inGroup(config, path) === false)
    return { kind: "ignored", reason: `${path} is not a project of ${config.group}` };
  return { kind: "update", projectId, projectPath: path, checkoutSha: sha };
}

/**
 * Whether a project path lies in the configured group (or below it, with subgroups on), compared
 * in any case as GitLab resolves paths; null when a payload cannot tell — the group is a numeric
 * id, or a path outside it may be a project shared into it (GITLAB_WITH_SHARED) — and then the
 * handlers decide from GitLab (update-item reads the project's membership, delete-item asks again).
 */
function inGroup(
  config: Pick<GitlabConfig, "group" | "includeSubgroups" | "withShared">,
  path: string,
): boolean | null {
  if (/^\d+$/.test(config.group)) return null;
  const group = config.group.toLowerCase();
  const namespace = path.slice(0, path.lastIndexOf("/")).toLowerCase();
  const inside = config.includeSubgroups
    ? namespace === group || namespace.startsWith(`${group}/`)
    : namespace === group;
  return inside ? true : config.withShared ? null : false;
}

const PROJECT_EVENTS = new Set(["project_create", "project_destroy", "project_rename", "project_transfer"]);

/**
 * A system hook's project event (docs.gitlab.com/administration/system_hooks/), judged by the
 * paths it carries: project_create in the group, or project_transfer into it → monitor-item and
 * update-item at once; project_rename, or project_transfer within the group → update-item (the new
 * path is recorded by it); project_destroy, or project_transfer out of the group → delete-item.
 * The handlers ask GitLab again (update-item reads the project, delete-item its membership), so a
 * doubtful event costs a request, never an item.
 */
function interpretProjectEvent(
  config: Pick<GitlabConfig, "group" | "includeSubgroups" | "withShared" | "ignoreProjects">,
  body: PushPayload,
): WebhookDecision {
  const eventName = String(body.event_name);
  const projectId = Number(body.project_id);
  const path = body.path_with_namespace;
  if (!Number.isSafeInteger(projectId) || projectId < 1 || typeof path !== "string") {
    return { kind: "ignored", reason: `${eventName} without a project id and path` };
  }
  // null: the group is a numeric id, which a path cannot be compared with (see inGroup)
  const where = (p: string) => (isIgnoredProject(config.ignoreProjects, p) ? false : inGroup(config, p));
  const now = where(path);
  const project = { projectId, projectPath: path, eventName };
  const notOurs = { kind: "ignored", reason: `${path} is not a project of ${config.group}` } as const;
  switch (eventName) {
    case "project_create":
      if (now === false) return notOurs;
      // a hook only where the path proves the project ours: a system hook sees the whole instance
      return { kind: "project", ...project, monitor: now === true };
    case "project_rename":
      if (now === false) return notOurs;
      return { kind: "project", ...project, monitor: false };
    case "project_transfer": {
      const old = body.old_path_with_namespace;
      if (typeof old !== "string") return { kind: "ignored", reason: `${eventName} without its old path` };
      const before = where(old);
      if (now === true) return { kind: "project", ...project, monitor: before === false };
      if (before === false)
        return { kind: "ignored", reason: `${eventName}: ${old} was not in ${config.group}` };
      // out of the group, or unknown (numeric group): delete-item asks GitLab first
      return { kind: "delete", projectId, projectPath: old, eventName };
    }
    default:
      // project_destroy: gone from the item bank, if it was ours (an ignored path too: its rows,
      // if any, go). The delete-item handler asks GitLab first, so a doubtful event costs one
      // request, never an item.
      if (inGroup(config, path) === false) return notOurs;
      return { kind: "delete", ...project };
  }
}
