/**
 * The GitLab webhook receiver's logic, apart from HTTP: checks the X-Gitlab-Token in constant
 * time and decides what a delivery means — an update-item for a push to a group project's default
 * branch, nothing for anything else.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { GitlabConfig } from "../config.ts";

export type WebhookDecision =
  | { kind: "update"; projectId: number; projectPath: string; checkoutSha: string }
  | { kind: "ignored"; reason: string };

const digest = (s: string) => createHash("sha256").update(s).digest();

/** True when the delivery carries the configured secret (any delivery when none is configured). */
export function webhookTokenValid(secret: string, token: string | null): boolean {
  if (secret === "") return true;
  return timingSafeEqual(digest(secret), digest(token ?? ""));
}

interface PushPayload {
  object_kind?: unknown;
  ref?: unknown;
  checkout_sha?: unknown;
  project_id?: unknown;
  project?: { id?: unknown; path_with_namespace?: unknown; default_branch?: unknown };
}

export function interpretWebhook(
  config: Pick<GitlabConfig, "group" | "includeSubgroups" | "ignoreProjects">,
  eventHeader: string | null,
  payload: unknown,
): WebhookDecision {
  const body = (payload ?? {}) as PushPayload;
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
  if (config.ignoreProjects.includes(path))
    return { kind: "ignored", reason: `${path} is in GITLAB_IGNORE_PROJECTS` };
  // With a group given by path, the project must live in it (or below it with subgroups on).
  // With a numeric group id the payload cannot tell; the update handler reads GitLab anyway.
  if (!/^\d+$/.test(config.group)) {
    const namespace = path.slice(0, path.lastIndexOf("/"));
    const inGroup = config.includeSubgroups
      ? namespace === config.group || namespace.startsWith(`${config.group}/`)
      : namespace === config.group;
    if (!inGroup) return { kind: "ignored", reason: `${path} is not a project of ${config.group}` };
  }
  return { kind: "update", projectId, projectPath: path, checkoutSha: sha };
}
